import { Badge, Group, Text } from '@mantine/core';
import { ROLE_COLORS, ROLE_LABELS } from '../access.ts';
import type { OrgRole } from '../api.ts';

/** Roles as badges, in the catalog's order; a dash when there are none. */
export function RoleBadges({ roles, empty = '—' }: { roles: readonly OrgRole[]; empty?: string }) {
  if (roles.length === 0) {
    return (
      <Text size="sm" c="dimmed">
        {empty}
      </Text>
    );
  }
  return (
    <Group gap={4} wrap="wrap">
      {roles.map((role) => (
        <Badge key={role} color={ROLE_COLORS[role]} variant="light" size="sm" tt="none">
          {ROLE_LABELS[role]}
        </Badge>
      ))}
    </Group>
  );
}
