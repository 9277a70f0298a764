import { Alert, Anchor, Button, Code, Group, Modal, SimpleGrid, Stack, Table, Text } from '@mantine/core';
import { IconRefresh } from '@tabler/icons-react';
import type { ReactNode } from 'react';
import { Link } from 'react-router';
import { formatNumber } from '../../format.ts';
import { useNow, useWebhookDelivery } from '../../queries.ts';
import { canRetryDelivery } from '../../support.ts';
import { ErrorState, PageLoader } from '../States.tsx';
import { When } from '../When.tsx';
import { DeliveryStateBadge } from './WebhookBadges.tsx';

function Fact({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div>
      <Text size="xs" c="dimmed" tt="uppercase" fw={600} mb={2}>
        {label}
      </Text>
      {children}
    </div>
  );
}

/** One delivery: its event, where it stands, every attempt with what came back, and Retry. */
export function WebhookDeliveryModal({
  deliveryId,
  onClose,
  onRetry,
  isRetrying,
  retryError,
}: {
  deliveryId: string;
  onClose: () => void;
  onRetry: () => void;
  isRetrying: boolean;
  retryError: Error | null;
}) {
  const now = useNow();
  const detail = useWebhookDelivery(deliveryId, now);
  const delivery = detail.data;
  return (
    <Modal
      opened
      onClose={onClose}
      title={<Text fw={700}>{delivery ? `Delivery of ${delivery.event_type}` : 'Delivery'}</Text>}
      centered
      size="xl"
    >
      {detail.error ? (
        <ErrorState error={detail.error} onRetry={() => void detail.refetch()} />
      ) : !delivery ? (
        <PageLoader label="Loading the delivery" />
      ) : (
        <Stack gap="md">
          <SimpleGrid cols={{ base: 1, xs: 2, sm: 4 }} spacing="md">
            <Fact label="Status">
              <DeliveryStateBadge delivery={delivery} />
            </Fact>
            <Fact label="Event">
              <When iso={delivery.created_at} now={now} />
            </Fact>
            <Fact label={delivery.status === 'succeeded' ? 'Delivered' : 'Next attempt'}>
              <When
                iso={delivery.status === 'succeeded' ? delivery.succeeded_at : delivery.next_attempt_at}
                now={now}
                never={delivery.status === 'sending' ? 'Being sent now' : 'None scheduled'}
              />
            </Fact>
            <Fact label="Retried until">
              <When iso={delivery.retry_until} now={now} />
            </Fact>
          </SimpleGrid>
          <Group gap="lg">
            <Text size="xs" c="dimmed" ff="monospace">
              {delivery.event_id}
            </Text>
            {delivery.org_id && (
              <Anchor
                component={Link}
                to={`/support/orgs/${encodeURIComponent(delivery.org_id)}`}
                size="xs"
                ff="monospace"
                onClick={onClose}
              >
                {delivery.org_id}
              </Anchor>
            )}
          </Group>
          <div>
            <Text size="sm" fw={600} mb={6} id="attempts-title">
              Attempts ({formatNumber(delivery.attempts.length)})
            </Text>
            {delivery.attempts.length === 0 ? (
              <Text size="sm" c="dimmed">
                Not attempted yet.
              </Text>
            ) : (
              <Table.ScrollContainer minWidth={560}>
                <Table verticalSpacing="xs" aria-labelledby="attempts-title" data-testid="delivery-attempts">
                  <Table.Thead>
                    <Table.Tr>
                      <Table.Th scope="col">#</Table.Th>
                      <Table.Th scope="col">Sent</Table.Th>
                      <Table.Th scope="col">Result</Table.Th>
                      <Table.Th scope="col">Took</Table.Th>
                      <Table.Th scope="col">Answer</Table.Th>
                    </Table.Tr>
                  </Table.Thead>
                  <Table.Tbody>
                    {delivery.attempts.map((attempt) => (
                      <Table.Tr key={attempt.id}>
                        <Table.Td>{attempt.attempt}</Table.Td>
                        <Table.Td style={{ whiteSpace: 'nowrap' }}>
                          <When iso={attempt.started_at} now={now} />
                        </Table.Td>
                        <Table.Td>
                          <Text size="sm" fw={600} c={attempt.succeeded ? 'teal.9' : 'red.9'}>
                            {attempt.response_status !== null ? `HTTP ${attempt.response_status}` : 'No answer'}
                          </Text>
                          <Text size="xs" c="dimmed">
                            {attempt.succeeded ? 'Delivered' : 'Failed'}
                          </Text>
                        </Table.Td>
                        <Table.Td style={{ whiteSpace: 'nowrap' }}>
                          <Text size="sm">{formatNumber(attempt.duration_ms)} ms</Text>
                        </Table.Td>
                        <Table.Td>
                          {attempt.error ? (
                            <Text size="sm" c="red.9" style={{ overflowWrap: 'anywhere' }}>
                              {attempt.error}
                            </Text>
                          ) : attempt.response_body ? (
                            <Code fz="xs" style={{ whiteSpace: 'pre-wrap', overflowWrap: 'anywhere' }}>
                              {attempt.response_body}
                            </Code>
                          ) : (
                            <Text size="sm" c="dimmed">
                              Empty
                            </Text>
                          )}
                        </Table.Td>
                      </Table.Tr>
                    ))}
                  </Table.Tbody>
                </Table>
              </Table.ScrollContainer>
            )}
          </div>
          <details>
            <summary style={{ cursor: 'pointer' }}>
              <Text span size="sm" fw={600}>
                Event body, as sent
              </Text>
            </summary>
            <Code block fz="xs" mt={6} style={{ whiteSpace: 'pre-wrap', overflowWrap: 'anywhere' }}>
              {JSON.stringify(delivery.event, null, 2)}
            </Code>
          </details>
          {retryError && (
            <Alert color="red" variant="light" title="It was not retried" role="alert">
              {retryError.message}
            </Alert>
          )}
          <Group justify="flex-end" gap="sm">
            <Button variant="default" onClick={onClose}>
              Close
            </Button>
            {canRetryDelivery(delivery) && (
              <Button leftSection={<IconRefresh size={16} aria-hidden />} loading={isRetrying} onClick={onRetry}>
                Retry now
              </Button>
            )}
          </Group>
        </Stack>
      )}
    </Modal>
  );
}
