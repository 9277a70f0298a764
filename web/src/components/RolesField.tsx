import { Checkbox, Stack } from '@mantine/core';
import { GRANTABLE_ROLES } from '../access.ts';
import type { GrantableRole } from '../api.ts';

/** The roles that can be granted, each with what it allows; roles add up, the widest wins. */
export function RolesField({
  label = 'Roles',
  description = 'Roles add up: the widest one decides what they can do.',
  value,
  onChange,
  error,
}: {
  label?: string;
  description?: string;
  value: GrantableRole[];
  onChange: (roles: GrantableRole[]) => void;
  error?: React.ReactNode;
}) {
  return (
    <Checkbox.Group
      label={label}
      description={description}
      value={value}
      onChange={(roles) => onChange(roles as GrantableRole[])}
      error={error}
    >
      <Stack gap="xs" mt="xs">
        {GRANTABLE_ROLES.map((role) => (
          <Checkbox key={role.value} value={role.value} label={role.label} description={role.description} />
        ))}
      </Stack>
    </Checkbox.Group>
  );
}
