import { Anchor, Button, Card, Group, Stack, Table, Text } from '@mantine/core';
import { IconPlus } from '@tabler/icons-react';
import { useEffect, useState } from 'react';
import { Link, useNavigate } from 'react-router';
import type { WebhookEndpoint } from '../../api.ts';
import { ErrorState, PageLoader } from '../../components/States.tsx';
import { AddWebhookEndpointModal } from '../../components/support/AddWebhookEndpointModal.tsx';
import { NeedsStaffRole } from '../../components/support/NeedsStaffRole.tsx';
import { ShowMore } from '../../components/support/ShowMore.tsx';
import { StaffPageTitle } from '../../components/support/StaffPageTitle.tsx';
import { EndpointStateBadge, EventTypeBadges } from '../../components/support/WebhookBadges.tsx';
import { WebhookSecretModal } from '../../components/support/WebhookSecretModal.tsx';
import { When } from '../../components/When.tsx';
import { useNow, useStaff, useStaffList } from '../../queries.ts';

export const webhookEndpointPath = (endpointId: string) => `/support/webhooks/${encodeURIComponent(endpointId)}`;

/** Support console → Webhooks: the endpoints Tierline sends events to, and adding one (admin). */
export function WebhooksPage() {
  const staff = useStaff()!;
  const isAdmin = staff.staff_roles.includes('admin');
  const navigate = useNavigate();
  const [isAdding, setIsAdding] = useState(false);
  const [created, setCreated] = useState<WebhookEndpoint | null>(null);
  useEffect(() => {
    document.title = 'Webhooks · Support console · Tierline';
  }, []);
  return (
    <Stack gap="lg">
      <Group justify="space-between" align="flex-end" gap="sm">
        <div style={{ flex: '1 1 420px' }}>
          <StaffPageTitle title="Webhooks">
            Tierline POSTs a signed event to these endpoints when an organization, a subscription or an invoice changes,
            in every organization, and retries for three days until the endpoint answers 2xx.
          </StaffPageTitle>
        </div>
        {isAdmin && (
          <Button leftSection={<IconPlus size={16} aria-hidden />} onClick={() => setIsAdding(true)}>
            Add endpoint
          </Button>
        )}
      </Group>
      {isAdmin ? <EndpointsCard /> : <NeedsStaffRole staffRole="admin" what="Webhook endpoints" />}
      {isAdding && (
        <AddWebhookEndpointModal
          onClose={() => setIsAdding(false)}
          onCreated={(endpoint) => {
            setIsAdding(false);
            setCreated(endpoint);
          }}
        />
      )}
      {created && (
        <WebhookSecretModal
          endpoint={created}
          title="Endpoint added"
          onClose={() => {
            setCreated(null);
            navigate(webhookEndpointPath(created.id));
          }}
        />
      )}
    </Stack>
  );
}

function EndpointsCard() {
  const endpoints = useStaffList<WebhookEndpoint>(['webhook-endpoints'], '/v1/admin/webhook-endpoints');
  const now = useNow();
  const rows = endpoints.data?.pages.flatMap((page) => page.data) ?? [];
  return (
    <Card withBorder padding="lg" radius="lg">
      <Stack gap="md">
        {endpoints.error ? (
          <ErrorState error={endpoints.error} onRetry={() => void endpoints.refetch()} />
        ) : !endpoints.data ? (
          <PageLoader label="Loading endpoints" />
        ) : rows.length === 0 ? (
          <Text size="sm" c="dimmed">
            No endpoint yet. Add one to have events sent to your systems as they happen.
          </Text>
        ) : (
          <>
            <Table.ScrollContainer minWidth={720}>
              <Table verticalSpacing="sm" highlightOnHover>
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th scope="col">Endpoint</Table.Th>
                    <Table.Th scope="col">Event types</Table.Th>
                    <Table.Th scope="col">State</Table.Th>
                    <Table.Th scope="col">Added</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {rows.map((endpoint) => (
                    <Table.Tr key={endpoint.id} data-testid={`endpoint-${endpoint.id}`}>
                      <Table.Td style={{ maxWidth: 380 }}>
                        <Anchor
                          component={Link}
                          to={webhookEndpointPath(endpoint.id)}
                          size="sm"
                          fw={600}
                          ff="monospace"
                          style={{ overflowWrap: 'anywhere' }}
                        >
                          {endpoint.url}
                        </Anchor>
                        {endpoint.description && (
                          <Text size="xs" c="dimmed">
                            {endpoint.description}
                          </Text>
                        )}
                      </Table.Td>
                      <Table.Td>
                        <EventTypeBadges events={endpoint.events} max={3} />
                      </Table.Td>
                      <Table.Td>
                        <EndpointStateBadge enabled={endpoint.enabled} />
                      </Table.Td>
                      <Table.Td style={{ whiteSpace: 'nowrap' }}>
                        <When iso={endpoint.created_at} now={now} />
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
            <ShowMore list={endpoints} label="Show more endpoints" />
          </>
        )}
      </Stack>
    </Card>
  );
}
