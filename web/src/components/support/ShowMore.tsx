import { Button, Group } from '@mantine/core';

/** The next page of a staff list, when there is one. */
export function ShowMore({
  hasMore,
  isLoading,
  onMore,
  label,
}: {
  hasMore: boolean;
  isLoading: boolean;
  onMore: () => void;
  label: string;
}) {
  if (!hasMore) return null;
  return (
    <Group justify="center">
      <Button variant="subtle" loading={isLoading} onClick={onMore}>
        {label}
      </Button>
    </Group>
  );
}
