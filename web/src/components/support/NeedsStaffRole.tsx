import { Alert } from '@mantine/core';
import { IconLock } from '@tabler/icons-react';

/** Shown instead of a console page the staff member's roles do not open. */
export function NeedsStaffRole({ staffRole, what }: { staffRole: 'support' | 'sales' | 'admin'; what: string }) {
  return (
    <Alert color="gray" variant="light" icon={<IconLock aria-hidden />} title={`This needs the ${staffRole} role`}>
      {staffRole === 'admin'
        ? `${what} are open to admins only.`
        : `${what} are open to staff with the ${staffRole} role, and to admins.`}
    </Alert>
  );
}
