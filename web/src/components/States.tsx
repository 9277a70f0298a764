import { Alert, Button, Center, Group, Loader, Stack, Text } from '@mantine/core';
import { IconAlertTriangle } from '@tabler/icons-react';
import { ApiError } from '../api.ts';

/** A centred spinner with words for screen readers while a page loads. */
export function PageLoader({ label = 'Loading' }: { label?: string }) {
  return (
    <Center mih={240} role="status" aria-live="polite">
      <Stack align="center" gap="xs">
        <Loader size="md" aria-hidden />
        <Text size="sm" c="dimmed">
          {label}…
        </Text>
      </Stack>
    </Center>
  );
}

/** What went wrong, in the API's words, with a way to try again. */
export function ErrorState({
  error,
  onRetry,
  fullPage = false,
  title = 'This could not be loaded',
}: {
  error: unknown;
  onRetry?: () => void;
  fullPage?: boolean;
  title?: string;
}) {
  const message =
    error instanceof ApiError || error instanceof Error ? error.message : 'Something went wrong. Try again.';
  const alert = (
    <Alert color="red" variant="light" title={title} icon={<IconAlertTriangle aria-hidden />} role="alert">
      <Stack gap="sm">
        <Text size="sm">{message}</Text>
        {onRetry && (
          <Group>
            <Button size="xs" variant="white" color="red" onClick={onRetry}>
              Try again
            </Button>
          </Group>
        )}
      </Stack>
    </Alert>
  );
  if (!fullPage) return alert;
  return (
    <Center mih="60vh" p="md">
      <div style={{ maxWidth: 480, width: '100%' }}>{alert}</div>
    </Center>
  );
}
