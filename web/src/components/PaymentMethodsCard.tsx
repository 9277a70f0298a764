import { Badge, Button, Card, Group, Paper, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import { IconCreditCard } from '@tabler/icons-react';
import { Link } from 'react-router';
import { brandName, countryName } from '../format.ts';
import { usePaymentMethods } from '../queries.ts';
import { ErrorState, PageLoader } from './States.tsx';

/** The org's cards; the one the subscription charges is marked. Admins can add another. */
export function PaymentMethodsCard({
  orgId,
  defaultId,
  canManage,
}: {
  orgId: string;
  defaultId: string | null;
  canManage: boolean;
}) {
  const methods = usePaymentMethods(orgId, true);
  return (
    <Card withBorder padding="lg" radius="lg" component="section" aria-labelledby="payment-methods-title">
      <Stack gap="md">
        <Group justify="space-between" wrap="wrap" gap="xs">
          <Title order={2} size="h3" id="payment-methods-title">
            Payment methods
          </Title>
          {canManage && (
            <Button component={Link} to="/settings/billing/payment-methods/new" variant="default" size="xs">
              Add payment method
            </Button>
          )}
        </Group>
        {methods.error ? (
          <ErrorState error={methods.error} onRetry={() => void methods.refetch()} />
        ) : !methods.data ? (
          <PageLoader label="Loading payment methods" />
        ) : methods.data.data.length === 0 ? (
          <Text size="sm" c="dimmed">
            No payment method yet. One is added when you upgrade to Plus.
          </Text>
        ) : (
          <SimpleGrid cols={{ base: 1, sm: 2 }} spacing="sm">
            {methods.data.data.map((method) => (
              <Paper key={method.id} withBorder p="md" radius="md">
                <Group justify="space-between" align="flex-start" wrap="nowrap">
                  <Group gap="sm" wrap="nowrap" align="flex-start">
                    <IconCreditCard size={28} stroke={1.4} aria-hidden />
                    <div>
                      <Text fw={600} size="sm">
                        {brandName(method.brand)} ending {method.last4}
                      </Text>
                      <Text size="xs" c="dimmed">
                        Expires {String(method.exp_month).padStart(2, '0')}/{method.exp_year}
                      </Text>
                      <Text size="xs" c="dimmed" mt={4}>
                        {method.billing_details.name} · {method.billing_details.email}
                      </Text>
                      <Text size="xs" c="dimmed">
                        {method.billing_details.address.city}, {countryName(method.billing_details.address.country)}
                      </Text>
                    </div>
                  </Group>
                  {method.id === defaultId && (
                    <Badge variant="light" color="indigo" size="sm" style={{ flexShrink: 0 }}>
                      Default
                    </Badge>
                  )}
                </Group>
              </Paper>
            ))}
          </SimpleGrid>
        )}
      </Stack>
    </Card>
  );
}
