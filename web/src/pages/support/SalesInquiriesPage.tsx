import { Anchor, Card, Group, Stack, Text, Title } from '@mantine/core';
import { useEffect } from 'react';
import { Link } from 'react-router';
import { hasStaffRole } from '../../access.ts';
import type { SalesInquiry } from '../../api.ts';
import { ErrorState, PageLoader } from '../../components/States.tsx';
import { NeedsStaffRole } from '../../components/support/NeedsStaffRole.tsx';
import { ShowMore } from '../../components/support/ShowMore.tsx';
import { StaffPageTitle } from '../../components/support/StaffPageTitle.tsx';
import { formatDateTime } from '../../format.ts';
import { useStaff, useStaffList } from '../../queries.ts';

/** Support console → Sales inquiries: Contact Sales forms, newest first (sales). */
export function SalesInquiriesPage() {
  const staff = useStaff()!;
  useEffect(() => {
    document.title = 'Sales inquiries · Support console · Tierline';
  }, []);
  return (
    <Stack gap="lg">
      <StaffPageTitle title="Sales inquiries">
        Contact Sales forms sent by organization admins. Set an Enterprise plan from the organization’s page.
      </StaffPageTitle>
      {hasStaffRole(staff.staff_roles, 'sales') ? (
        <Inquiries />
      ) : (
        <NeedsStaffRole staffRole="sales" what="Sales inquiries" />
      )}
    </Stack>
  );
}

function Inquiries() {
  const inquiries = useStaffList<SalesInquiry>(['sales-inquiries'], '/v1/admin/sales-inquiries');
  const rows = inquiries.data?.pages.flatMap((page) => page.data) ?? [];
  if (inquiries.error) return <ErrorState error={inquiries.error} onRetry={() => void inquiries.refetch()} />;
  if (!inquiries.data) return <PageLoader label="Loading inquiries" />;
  if (rows.length === 0) {
    return (
      <Card withBorder padding="lg" radius="lg">
        <Text size="sm" c="dimmed">
          No inquiries yet.
        </Text>
      </Card>
    );
  }
  return (
    <Stack gap="md">
      {rows.map((inquiry) => (
        <Card
          key={inquiry.id}
          withBorder
          padding="lg"
          radius="lg"
          component="article"
          aria-labelledby={`inquiry-${inquiry.id}`}
        >
          <Stack gap="xs">
            <Group justify="space-between" align="baseline" gap="xs">
              <Title order={2} size="h4" id={`inquiry-${inquiry.id}`}>
                {inquiry.company}
              </Title>
              <Text size="xs" c="dimmed">
                {formatDateTime(inquiry.created_at)}
              </Text>
            </Group>
            <Text size="sm">
              {inquiry.name} ·{' '}
              <Anchor href={`mailto:${inquiry.email}`} size="sm">
                {inquiry.email}
              </Anchor>
            </Text>
            <Text size="sm" style={{ whiteSpace: 'pre-wrap' }}>
              {inquiry.message}
            </Text>
            <Anchor component={Link} to={`/support/orgs/${encodeURIComponent(inquiry.org_id)}`} size="sm" fw={600}>
              Open the organization to set its plan
            </Anchor>
          </Stack>
        </Card>
      ))}
      <ShowMore list={inquiries} label="Show more inquiries" />
    </Stack>
  );
}
