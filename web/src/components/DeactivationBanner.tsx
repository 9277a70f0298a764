import { Alert, Anchor, Text } from '@mantine/core';
import { IconHourglassHigh } from '@tabler/icons-react';
import { Link } from 'react-router';
import { daysBetween, formatDateTime } from '../format.ts';
import { upcomingDeactivation } from '../lifecycle.ts';
import { useNow, useOrg } from '../queries.ts';

/** Warns a free org that inactivity will deactivate it soon, and says what keeps it active. */
export function DeactivationBanner({ orgId }: { orgId: string }) {
  const org = useOrg(orgId).data;
  const now = useNow();
  const at = org ? upcomingDeactivation(org, now) : null;
  if (!org || !at) return null;
  const days = Math.max(0, daysBetween(now, at));
  return (
    <Alert
      color="orange"
      variant="light"
      icon={<IconHourglassHigh aria-hidden />}
      title={`${org.name} will be deactivated ${days <= 1 ? 'within a day' : `in ${days} days`}, on ${formatDateTime(at.toISOString())}`}
      role="alert"
    >
      <Text size="sm">
        Free organizations are deactivated after 30 days without a login and without API traffic. To keep this one
        active, an admin can log in to it, or its runtimes can proxy API traffic. Organizations on a paid plan are never
        deactivated for inactivity —{' '}
        <Anchor component={Link} to="/settings/billing/plans" size="sm" underline="always">
          see plans
        </Anchor>
        .
      </Text>
    </Alert>
  );
}
