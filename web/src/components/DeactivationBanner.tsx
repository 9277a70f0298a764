import { Alert, Anchor, Text } from '@mantine/core';
import { IconHourglassHigh, IconInfoCircle } from '@tabler/icons-react';
import { Link } from 'react-router';
import { daysBetween, formatDate, formatDateTime } from '../format.ts';
import { deactivationNotice } from '../lifecycle.ts';
import { useNow, useOrg } from '../queries.ts';

/**
 * Tells a free org when inactivity would deactivate it (spec 7) and what keeps it active: as
 * information while it is more than 7 days away (a login always moves it 30 days out), as a warning
 * within 7 days.
 */
export function DeactivationBanner({ orgId }: { orgId: string }) {
  const org = useOrg(orgId).data;
  const now = useNow();
  const notice = org ? deactivationNotice(org, now) : null;
  if (!org || !notice) return null;
  const iso = notice.at.toISOString();
  const rule = (
    <>
      Free organizations with no login and no API traffic for 30 days are deactivated. If nothing happens, {org.name}{' '}
      will be deactivated on{' '}
      <Text span fw={600} inherit>
        <time dateTime={iso}>{notice.isUrgent ? formatDateTime(iso) : formatDate(iso)}</time>
      </Text>
      . Logging in or sending API traffic through a runtime keeps it active.
    </>
  );
  if (!notice.isUrgent) {
    return (
      <Alert
        color="gray"
        variant="outline"
        icon={<IconInfoCircle aria-hidden />}
        data-testid="deactivation-banner"
        data-urgent="false"
        aria-label="Inactivity rule"
        role="note"
        styles={{
          root: { background: 'var(--mantine-color-body)', borderColor: 'var(--mantine-color-gray-4)' },
          icon: { color: 'var(--mantine-color-indigo-8)' },
        }}
        py="xs"
      >
        <Text size="sm">{rule}</Text>
      </Alert>
    );
  }
  const days = Math.max(0, daysBetween(now, notice.at));
  return (
    <Alert
      color="orange"
      variant="light"
      icon={<IconHourglassHigh aria-hidden />}
      title={`${org.name} will be deactivated ${days <= 1 ? 'within a day' : `in ${days} days`}`}
      data-testid="deactivation-banner"
      data-urgent="true"
      role="alert"
      styles={{ root: { borderLeft: '4px solid var(--mantine-color-orange-7)' } }}
    >
      <Text size="sm">
        {rule} Organizations on a paid plan are never deactivated for inactivity —{' '}
        <Anchor component={Link} to="/settings/billing/plans" size="sm" underline="always">
          see plans
        </Anchor>
        .
      </Text>
    </Alert>
  );
}
