import { Badge } from '@mantine/core';
import type { Org, PlanId } from '../../api.ts';
import { PLAN_NAMES } from '../../billing.ts';

export function OrgStatusBadge({ status }: { status: Org['status'] }) {
  return (
    <Badge color={status === 'active' ? 'green' : 'red'} variant="dot" tt="none" size="md">
      {status === 'active' ? 'Active' : 'Deactivated'}
    </Badge>
  );
}

export function PlanBadge({ plan }: { plan: PlanId }) {
  return (
    <Badge color={plan === 'free' ? 'gray' : plan === 'plus' ? 'indigo' : 'grape'} variant="light" tt="none" size="md">
      {PLAN_NAMES[plan]}
    </Badge>
  );
}
