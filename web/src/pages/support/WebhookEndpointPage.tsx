import {
  Anchor,
  Button,
  Card,
  Group,
  SegmentedControl,
  Stack,
  Table,
  Text,
  Title,
  VisuallyHidden,
} from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { IconKey, IconPencil, IconPlayerPause, IconPlayerPlay, IconRefresh, IconTrash } from '@tabler/icons-react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type ReactNode, useEffect, useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import {
  api,
  deleteWebhookEndpoint,
  type Page,
  type WebhookDelivery,
  type WebhookDeliveryStatus,
  type WebhookEndpoint,
} from '../../api.ts';
import { BackLink } from '../../components/BackLink.tsx';
import { ConfirmModal } from '../../components/ConfirmModal.tsx';
import { ErrorState, PageLoader } from '../../components/States.tsx';
import { DeliveriesChart } from '../../components/support/DeliveriesChart.tsx';
import { DetailLoadError } from '../../components/support/DetailLoadError.tsx';
import { EditWebhookEndpointModal } from '../../components/support/EditWebhookEndpointModal.tsx';
import { NeedsStaffRole } from '../../components/support/NeedsStaffRole.tsx';
import { RotateSecretModal } from '../../components/support/RotateSecretModal.tsx';
import { ShowMore } from '../../components/support/ShowMore.tsx';
import { DeliveryStateBadge, EndpointStateBadge, EventTypeBadges } from '../../components/support/WebhookBadges.tsx';
import { WebhookDeliveryModal } from '../../components/support/WebhookDeliveryModal.tsx';
import { WebhookSecretModal } from '../../components/support/WebhookSecretModal.tsx';
import { When } from '../../components/When.tsx';
import { formatDate, formatDateTime } from '../../format.ts';
import { useNow, useStaff, useTestClock, useWebhookDeliveries, useWebhookEndpoint } from '../../queries.ts';
import { canRetryDelivery, lastResponseLabel } from '../../support.ts';

type Dialog = 'edit' | 'disable' | 'rotate' | 'delete' | null;

/**
 * Support console → Webhooks → one endpoint: its settings (edit, enable/disable, secret rotation, delete)
 * and its deliveries.
 */
export function WebhookEndpointPage() {
  const staff = useStaff()!;
  const isAdmin = staff.staff_roles.includes('admin');
  return isAdmin ? (
    <EndpointDetail />
  ) : (
    <Stack gap="lg">
      <BackLink to="/support/webhooks">Webhooks</BackLink>
      <NeedsStaffRole staffRole="admin" what="Webhook endpoints" />
    </Stack>
  );
}

function EndpointDetail() {
  const { endpointId = '' } = useParams();
  const endpoint = useWebhookEndpoint(endpointId);
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [dialog, setDialog] = useState<Dialog>(null);
  const [rotated, setRotated] = useState<WebhookEndpoint | null>(null);
  const [days, setDays] = useState('14');

  useEffect(() => {
    document.title = 'Webhook endpoint · Support console · Tierline';
  }, []);

  const setEnabled = useMutation({
    mutationFn: (enabled: boolean) =>
      api<WebhookEndpoint>('PATCH', `/v1/admin/webhook-endpoints/${encodeURIComponent(endpointId)}`, { enabled }),
    onSuccess: async (changed) => {
      await queryClient.invalidateQueries({ queryKey: ['admin'] });
      notifications.show({
        color: 'green',
        title: changed.enabled ? 'Endpoint enabled' : 'Endpoint disabled',
        message: changed.enabled
          ? 'It gets events from now on, and its waiting deliveries go out.'
          : 'It gets no event until it is enabled again.',
      });
      setDialog(null);
    },
    onError: (error) => {
      if (dialog !== 'disable') {
        notifications.show({ color: 'red', title: 'The endpoint was not enabled', message: error.message });
      }
    },
  });

  const remove = useMutation({
    mutationFn: () => deleteWebhookEndpoint(endpointId),
    onSuccess: async () => {
      // The list is fetched again before it is shown, so it never shows the endpoint that is gone.
      await queryClient.invalidateQueries({ queryKey: ['admin', 'webhook-endpoints'], refetchType: 'all' });
      notifications.show({
        color: 'green',
        title: 'Endpoint deleted',
        message: 'It gets no more events, and its waiting deliveries were dropped.',
      });
      navigate('/support/webhooks');
    },
  });

  if (endpoint.error) {
    return (
      <DetailLoadError
        error={endpoint.error}
        back="/support/webhooks"
        backLabel="Webhooks"
        missingTitle="There is no webhook endpoint with this id"
        onRetry={() => void endpoint.refetch()}
      />
    );
  }
  if (!endpoint.data) return <PageLoader label="Loading the endpoint" />;
  const { data } = endpoint;

  return (
    <Stack gap="lg">
      <BackLink to="/support/webhooks">Webhooks</BackLink>
      <Group justify="space-between" align="flex-start" gap="md">
        <Stack gap={6} style={{ flex: '1 1 420px', minWidth: 0 }}>
          <Text size="sm" c="dimmed" fw={600}>
            Webhook endpoint
          </Text>
          <Title order={1} size="h3" ff="monospace" style={{ overflowWrap: 'anywhere' }}>
            {data.url}
          </Title>
          <Group gap="xs">
            <EndpointStateBadge enabled={data.enabled} />
            <Text size="sm" c="dimmed">
              Added {formatDate(data.created_at)}
            </Text>
            <Text size="xs" c="dimmed" ff="monospace">
              {data.id}
            </Text>
          </Group>
          {data.description && <Text size="sm">{data.description}</Text>}
          <Group gap="xs" mt={4}>
            <Text size="sm" fw={600}>
              Receives
            </Text>
            <EventTypeBadges events={data.events} />
          </Group>
        </Stack>
        <Group gap="sm">
          <Button
            variant="default"
            leftSection={<IconPencil size={16} aria-hidden />}
            onClick={() => setDialog('edit')}
          >
            Edit
          </Button>
          <Button variant="default" leftSection={<IconKey size={16} aria-hidden />} onClick={() => setDialog('rotate')}>
            Rotate secret
          </Button>
          {data.enabled ? (
            <Button
              color="red"
              variant="light"
              leftSection={<IconPlayerPause size={16} aria-hidden />}
              onClick={() => setDialog('disable')}
            >
              Disable
            </Button>
          ) : (
            <Button
              leftSection={<IconPlayerPlay size={16} aria-hidden />}
              loading={setEnabled.isPending}
              onClick={() => setEnabled.mutate(true)}
            >
              Enable
            </Button>
          )}
          <Button
            color="red"
            variant="subtle"
            leftSection={<IconTrash size={16} aria-hidden />}
            onClick={() => setDialog('delete')}
          >
            Delete endpoint
          </Button>
        </Group>
      </Group>

      <Section title="Deliveries per day" id="deliveries-chart-title">
        <DeliveriesChart endpointId={data.id} days={days} onDaysChange={setDays} />
      </Section>
      <DeliveryLog endpoint={data} />

      {dialog === 'disable' && (
        <ConfirmModal
          opened
          onClose={() => setDialog(null)}
          title="Disable this endpoint?"
          confirmLabel="Disable endpoint"
          onConfirm={() => setEnabled.mutate(false)}
          isPending={setEnabled.isPending}
          error={setEnabled.error}
        >
          <Text size="sm">
            Events that happen while it is disabled are never sent to it, not even after it is enabled again. Deliveries
            already waiting stay in the log and go out once it is enabled.
          </Text>
        </ConfirmModal>
      )}
      {dialog === 'edit' && (
        <EditWebhookEndpointModal
          endpoint={data}
          onClose={() => setDialog(null)}
          onSaved={() => {
            setDialog(null);
            notifications.show({
              color: 'green',
              title: 'Endpoint saved',
              message: 'Events from now on are sent as it says now.',
            });
          }}
        />
      )}
      {dialog === 'delete' && (
        <ConfirmModal
          opened
          onClose={() => setDialog(null)}
          title="Delete this endpoint?"
          confirmLabel="Delete endpoint"
          onConfirm={() => remove.mutate()}
          isPending={remove.isPending}
          error={remove.error}
        >
          <DeleteEndpointNote endpoint={data} />
        </ConfirmModal>
      )}
      {dialog === 'rotate' && (
        <RotateSecretModal
          endpoint={data}
          onClose={() => setDialog(null)}
          onRotated={(endpointWithSecret) => {
            setDialog(null);
            setRotated(endpointWithSecret);
          }}
        />
      )}
      {rotated && <WebhookSecretModal endpoint={rotated} title="Secret rotated" onClose={() => setRotated(null)} />}
    </Stack>
  );
}

/** How many deliveries are waiting, as far as the first page of them tells. */
function waitingDeliveriesSentence(page: Page<WebhookDelivery>): string {
  const count = page.data.length;
  if (page.next_cursor) return `It has more than ${count} deliveries waiting now.`;
  if (count === 0) return 'It has no delivery waiting now.';
  return count === 1 ? 'It has 1 delivery waiting now.' : `It has ${count} deliveries waiting now.`;
}

/** What deleting an endpoint does, said before it is done: above all, to the deliveries not yet made. */
function DeleteEndpointNote({ endpoint }: { endpoint: WebhookEndpoint }) {
  const now = useNow();
  const waiting = useWebhookDeliveries(endpoint.id, 'pending', now);
  const firstPage = waiting.data?.pages[0];
  return (
    <Stack gap="xs">
      <Text size="sm">
        Tierline stops sending events to{' '}
        <Text span inherit ff="monospace" style={{ overflowWrap: 'anywhere' }}>
          {endpoint.url}
        </Text>
        . Deliveries not yet made, waiting for their first attempt or for a retry, are dropped and never sent, and the
        endpoint's delivery log is deleted. Events it already received are not affected.
      </Text>
      {firstPage && (
        <Text size="sm" fw={600} data-testid="waiting-deliveries">
          {waitingDeliveriesSentence(firstPage)}
        </Text>
      )}
      <Text size="sm">This cannot be undone. To pause deliveries and keep the waiting ones, disable it instead.</Text>
    </Stack>
  );
}

function Section({ title, id, children }: { title: string; id: string; children: ReactNode }) {
  return (
    <Card withBorder padding="lg" radius="lg" component="section" aria-labelledby={id}>
      <Stack gap="md">
        <Title order={2} size="h3" id={id}>
          {title}
        </Title>
        {children}
      </Stack>
    </Card>
  );
}

const STATUS_FILTERS: { value: WebhookDeliveryStatus | 'all'; label: string }[] = [
  { value: 'all', label: 'All' },
  { value: 'failed', label: 'Failed' },
  { value: 'pending', label: 'Pending' },
  { value: 'succeeded', label: 'Delivered' },
];

/** The endpoint's deliveries, newest event first, each with its attempts and Retry. */
function DeliveryLog({ endpoint }: { endpoint: WebhookEndpoint }) {
  const [filter, setFilter] = useState<WebhookDeliveryStatus | 'all'>('all');
  const now = useNow();
  const isTestClock = Boolean(useTestClock().data);
  const queryClient = useQueryClient();
  const deliveries = useWebhookDeliveries(endpoint.id, filter === 'all' ? undefined : filter, now);
  const [openId, setOpenId] = useState<string | null>(null);
  const rows = deliveries.data?.pages.flatMap((page) => page.data) ?? [];

  // What the log shows moved on (a delivery settled): the chart counts it too.
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs when the log was fetched again
  useEffect(() => {
    void queryClient.invalidateQueries({ queryKey: ['admin', 'webhook-deliveries-daily', endpoint.id] });
  }, [deliveries.dataUpdatedAt]);

  const retry = useMutation({
    mutationFn: (deliveryId: string) =>
      api<WebhookDelivery>('POST', `/v1/admin/webhook-deliveries/${encodeURIComponent(deliveryId)}/retry`),
    onSuccess: async (delivery) => {
      await Promise.all([
        queryClient.invalidateQueries({ queryKey: ['admin', 'webhook-deliveries', endpoint.id] }),
        queryClient.invalidateQueries({ queryKey: ['admin', 'webhook-delivery', delivery.id] }),
      ]);
      notifications.show({
        color: 'green',
        title: 'Retry queued',
        message: isTestClock
          ? `The ${delivery.event_type} event goes out at the next advance of the test clock.`
          : `The ${delivery.event_type} event goes out within a minute.`,
      });
    },
    onError: (error) => {
      if (!openId) notifications.show({ color: 'red', title: 'It was not retried', message: error.message });
    },
  });

  return (
    <Card withBorder padding="lg" radius="lg" component="section" aria-labelledby="deliveries-title">
      <Stack gap="md">
        <Group justify="space-between" align="center" gap="sm">
          <Title order={2} size="h3" id="deliveries-title">
            Deliveries
          </Title>
          <SegmentedControl
            value={filter}
            onChange={(value) => setFilter(value as WebhookDeliveryStatus | 'all')}
            aria-label="Show deliveries"
            size="xs"
            data={STATUS_FILTERS}
          />
        </Group>
        {deliveries.error ? (
          <ErrorState error={deliveries.error} onRetry={() => void deliveries.refetch()} />
        ) : !deliveries.data ? (
          <PageLoader label="Loading deliveries" />
        ) : rows.length === 0 ? (
          <Text size="sm" c="dimmed" aria-live="polite">
            {filter === 'all'
              ? 'No delivery yet. Events of the chosen types that happen from now on are listed here.'
              : 'No delivery in this state.'}
          </Text>
        ) : (
          <>
            <Table.ScrollContainer minWidth={860}>
              <Table verticalSpacing="sm" highlightOnHover data-testid="deliveries">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th scope="col">Event</Table.Th>
                    <Table.Th scope="col">Status</Table.Th>
                    <Table.Th scope="col">Attempts</Table.Th>
                    <Table.Th scope="col" style={{ whiteSpace: 'nowrap' }}>
                      Next attempt
                    </Table.Th>
                    <Table.Th scope="col" style={{ whiteSpace: 'nowrap' }}>
                      Last answer
                    </Table.Th>
                    <Table.Th scope="col">
                      <VisuallyHidden>Actions</VisuallyHidden>
                    </Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {rows.map((delivery) => (
                    <Table.Tr key={delivery.id} data-testid={`delivery-${delivery.event_id}`}>
                      <Table.Td>
                        <Text size="sm" fw={600} ff="monospace">
                          {delivery.event_type}
                        </Text>
                        <Text size="xs" c="dimmed">
                          <time dateTime={delivery.created_at}>{formatDateTime(delivery.created_at)}</time>
                        </Text>
                        {delivery.org_id && (
                          <Anchor
                            component={Link}
                            to={`/support/orgs/${encodeURIComponent(delivery.org_id)}`}
                            size="xs"
                            ff="monospace"
                          >
                            {delivery.org_id}
                          </Anchor>
                        )}
                      </Table.Td>
                      <Table.Td>
                        <DeliveryStateBadge delivery={delivery} />
                      </Table.Td>
                      <Table.Td>
                        <Text size="sm">{delivery.attempt_count}</Text>
                      </Table.Td>
                      <Table.Td style={{ whiteSpace: 'nowrap' }}>
                        <When
                          iso={delivery.next_attempt_at}
                          now={now}
                          never={delivery.status === 'sending' ? 'Being sent' : '—'}
                        />
                      </Table.Td>
                      <Table.Td style={{ maxWidth: 240 }}>
                        <Text
                          size="sm"
                          c={
                            delivery.attempt_count === 0
                              ? 'dimmed'
                              : delivery.status === 'succeeded'
                                ? undefined
                                : 'red.9'
                          }
                          lineClamp={2}
                          title={delivery.last_error ?? undefined}
                        >
                          {lastResponseLabel(delivery)}
                        </Text>
                      </Table.Td>
                      <Table.Td style={{ textAlign: 'right', whiteSpace: 'nowrap' }}>
                        <Group gap={4} justify="flex-end" wrap="nowrap">
                          {/* Retry first: when it goes, Attempts stays where it was. */}
                          {canRetryDelivery(delivery) && (
                            <Button
                              variant="light"
                              size="compact-sm"
                              leftSection={<IconRefresh size={14} aria-hidden />}
                              loading={retry.isPending && retry.variables === delivery.id}
                              onClick={() => retry.mutate(delivery.id)}
                              aria-label={`Retry the ${delivery.event_type} delivery ${delivery.id}`}
                            >
                              Retry
                            </Button>
                          )}
                          <Button
                            variant="subtle"
                            size="compact-sm"
                            onClick={() => setOpenId(delivery.id)}
                            aria-label={`Attempts of the ${delivery.event_type} delivery ${delivery.id}`}
                          >
                            Attempts
                          </Button>
                        </Group>
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
            <ShowMore list={deliveries} label="Show more deliveries" />
          </>
        )}
      </Stack>
      {openId && (
        <WebhookDeliveryModal
          deliveryId={openId}
          onClose={() => {
            setOpenId(null);
            retry.reset();
          }}
          onRetry={() => retry.mutate(openId)}
          isRetrying={retry.isPending}
          retryError={retry.variables === openId ? retry.error : null}
        />
      )}
    </Card>
  );
}
