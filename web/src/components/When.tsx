import { Text } from '@mantine/core';
import { formatDateTime, formatRelative } from '../format.ts';

/** An instant as people read it: how long ago (or ahead), with the exact date and time beneath. */
export function When({ iso, now, never = 'Never' }: { iso: string | null; now: Date; never?: string }) {
  if (!iso) {
    return (
      <Text size="sm" c="dimmed">
        {never}
      </Text>
    );
  }
  return (
    <div>
      <Text size="sm">
        <time dateTime={iso}>{formatRelative(iso, now)}</time>
      </Text>
      <Text size="xs" c="dimmed">
        {formatDateTime(iso)}
      </Text>
    </div>
  );
}
