import { Card, Group, Stack, Text, ThemeIcon } from '@mantine/core';
import { IconLock } from '@tabler/icons-react';
import { ROLE_LABELS } from '../access.ts';
import type { OrgRole } from '../api.ts';

/** What a member without an admin role sees instead of admin data: why, and who can help. */
export function NoAdminAccess({ what, roles, orgName }: { what: string; roles: readonly OrgRole[]; orgName: string }) {
  return (
    <Card withBorder padding="lg" radius="lg">
      <Group gap="md" wrap="nowrap" align="flex-start">
        <ThemeIcon size={40} radius="xl" variant="light" color="gray">
          <IconLock size={22} aria-hidden />
        </ThemeIcon>
        <Stack gap={4}>
          <Text fw={600}>Only admins see the {what}</Text>
          <Text size="sm" c="dimmed">
            Your role in {orgName} is {roles.map((role) => ROLE_LABELS[role]).join(', ') || 'none'}. Owners, admins and
            read-only admins can see the {what}; ask one of them if you need a change.
          </Text>
        </Stack>
      </Group>
    </Card>
  );
}
