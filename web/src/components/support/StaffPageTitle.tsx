import { Text, Title } from '@mantine/core';
import type { ReactNode } from 'react';

/** A console page's title under the console's name, with a line on what it is for. */
export function StaffPageTitle({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div>
      <Text size="sm" c="dimmed" fw={600}>
        Support console
      </Text>
      <Title order={1}>{title}</Title>
      {children && (
        <Text size="sm" c="dimmed" mt={4}>
          {children}
        </Text>
      )}
    </div>
  );
}
