import { Card, Divider, Grid, Group, Stack, Text, Title } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { Navigate, useNavigate } from 'react-router';
import { api, orgPath, type PaymentMethod } from '../api.ts';
import { canManageBilling, findPlan, planFeatures } from '../billing.ts';
import { BackLink } from '../components/BackLink.tsx';
import { BillingDetailsForm } from '../components/BillingDetailsForm.tsx';
import { ErrorState, PageLoader } from '../components/States.tsx';
import { formatDate, formatMoney } from '../format.ts';
import { useBilling, useCatalog, useMember } from '../queries.ts';

interface UpgradePreview {
  effective_at: string;
  next_calculation_at: string;
  next_billing_at: string;
}

/** Upgrade to Plus: billing details, then Subscribe (add the card, then start the subscription). */
export function UpgradePage() {
  const member = useMember()!;
  const orgId = member.org.id;
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const billing = useBilling(orgId);
  const catalog = useCatalog();
  const canManage = canManageBilling(member.roles);
  const [subscribed, setSubscribed] = useState(false);
  const preview = useQuery({
    queryKey: ['org', orgId, 'upgrade-preview'],
    queryFn: () => api<UpgradePreview>('POST', orgPath(orgId, '/subscription/preview'), { plan: 'plus' }),
    enabled: canManage && billing.data?.plan === 'free',
    retry: false,
  });

  useEffect(() => {
    document.title = 'Upgrade to Plus · Tierline';
  }, []);

  if (billing.error || catalog.error) {
    return <ErrorState error={billing.error ?? catalog.error} onRetry={() => void billing.refetch()} />;
  }
  if (!billing.data || !catalog.data) return <PageLoader label="Loading" />;
  // Someone who arrives already on Plus goes to Change Plan; someone who just subscribed here goes on
  // to Billing and Usage below, whichever of the refreshed data and the navigation comes first.
  if (!canManage || (billing.data.plan !== 'free' && !subscribed)) {
    return <Navigate to="/settings/billing/plans" replace />;
  }

  const plus = findPlan(catalog.data, 'plus');
  const subscribe = async (method: PaymentMethod) => {
    await api('POST', orgPath(orgId, '/subscription'), { plan: 'plus', payment_method_id: method.id });
    setSubscribed(true);
    // Everything but this page's upgrade preview, which an org on Plus no longer has (409).
    await queryClient.invalidateQueries({ predicate: (query) => query.queryKey[2] !== 'upgrade-preview' });
    notifications.show({
      color: 'green',
      title: 'Welcome to Plus',
      message: `${member.org.name} is on Plus now. The first charge is in a month, for the month used.`,
    });
    navigate('/settings/billing');
  };

  return (
    <Stack gap="lg">
      <Stack gap={4}>
        <BackLink to="/settings/billing/plans">Change Plan</BackLink>
        <Title order={1}>Upgrade to Plus</Title>
        <Text c="dimmed" size="sm">
          Add a card and the billing details to put on invoices. The card is verified now; nothing is charged today.
        </Text>
      </Stack>
      <Grid gap="lg">
        <Grid.Col span={{ base: 12, md: 8 }}>
          <Card withBorder padding="lg" radius="lg">
            <BillingDetailsForm orgId={orgId} submitLabel="Subscribe" onAdded={subscribe} />
          </Card>
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 4 }}>
          <Card withBorder padding="lg" radius="lg" component="aside" aria-labelledby="summary-title">
            <Stack gap="sm">
              <Title order={2} size="h4" id="summary-title">
                Plus
              </Title>
              {plus && plus.monthly_fee !== null && (
                <Text size="xl" fw={700}>
                  {formatMoney(plus.monthly_fee, catalog.data.currency)}{' '}
                  <Text span size="sm" c="dimmed" fw={400}>
                    per month
                  </Text>
                </Text>
              )}
              {plus && (
                <Stack gap={4}>
                  {planFeatures(plus, catalog.data.currency).map((feature) => (
                    <Text size="sm" key={feature}>
                      {feature}
                    </Text>
                  ))}
                </Stack>
              )}
              <Divider />
              <Group justify="space-between">
                <Text size="sm">Due today</Text>
                <Text size="sm" fw={600}>
                  {formatMoney(0, catalog.data.currency)}
                </Text>
              </Group>
              {preview.data && (
                <>
                  <Group justify="space-between">
                    <Text size="sm">Charges calculated</Text>
                    <Text size="sm">{formatDate(preview.data.next_calculation_at)}</Text>
                  </Group>
                  <Group justify="space-between">
                    <Text size="sm">First charge</Text>
                    <Text size="sm" fw={600}>
                      {formatDate(preview.data.next_billing_at)}
                    </Text>
                  </Group>
                </>
              )}
            </Stack>
          </Card>
        </Grid.Col>
      </Grid>
    </Stack>
  );
}
