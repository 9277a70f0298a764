import { Stack } from '@mantine/core';
import { ApiError } from '../../api.ts';
import { BackLink } from '../BackLink.tsx';
import { ErrorState } from '../States.tsx';

/**
 * A staff detail page whose object could not be loaded: the way back to its list, and either "there
 * is none with this id" (404, nothing to retry) or the error with a retry.
 */
export function DetailLoadError({
  error,
  back,
  backLabel,
  missingTitle,
  onRetry,
}: {
  error: unknown;
  back: string;
  backLabel: string;
  missingTitle: string;
  onRetry: () => void;
}) {
  const isMissing = error instanceof ApiError && error.status === 404;
  return (
    <Stack gap="lg">
      <BackLink to={back}>{backLabel}</BackLink>
      <ErrorState
        error={error}
        title={isMissing ? missingTitle : undefined}
        onRetry={isMissing ? undefined : onRetry}
      />
    </Stack>
  );
}
