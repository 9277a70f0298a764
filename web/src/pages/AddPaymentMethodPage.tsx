import { Card, Stack, Text, Title } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';
import { Navigate, useNavigate } from 'react-router';
import type { PaymentMethod } from '../api.ts';
import { canManageBilling } from '../billing.ts';
import { BackLink } from '../components/BackLink.tsx';
import { BillingDetailsForm } from '../components/BillingDetailsForm.tsx';
import { useMember } from '../queries.ts';

/** A new card: it becomes the subscription's, and past-due invoices are charged to it at once. */
export function AddPaymentMethodPage() {
  const member = useMember()!;
  const navigate = useNavigate();
  const queryClient = useQueryClient();

  useEffect(() => {
    document.title = 'Add payment method · Tierline';
  }, []);

  if (!canManageBilling(member.roles)) return <Navigate to="/settings/billing" replace />;
  const added = async (method: PaymentMethod & { collected_invoices?: { id: string; status: string }[] }) => {
    await queryClient.invalidateQueries();
    const collected = method.collected_invoices ?? [];
    notifications.show({
      color: 'green',
      title: 'Card added',
      message:
        collected.length > 0
          ? `The card ending ${method.last4} will be charged from now on; ${collected.length} unpaid invoice${collected.length === 1 ? ' was' : 's were'} charged to it.`
          : `The card ending ${method.last4} will be charged from now on.`,
    });
    navigate('/settings/billing');
  };
  return (
    <Stack gap="lg">
      <Stack gap={4}>
        <BackLink to="/settings/billing">Billing and Usage</BackLink>
        <Title order={1}>Add payment method</Title>
        <Text c="dimmed" size="sm">
          The new card is verified now. It becomes the card your subscription is charged to, and any past-due invoice is
          charged to it right away.
        </Text>
      </Stack>
      <Card withBorder padding="lg" radius="lg" maw={760}>
        <BillingDetailsForm orgId={member.org.id} submitLabel="Add card" onAdded={added} />
      </Card>
    </Stack>
  );
}
