import { Alert, Button, Divider, Group, Modal, Stack, Text } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, type DowngradePreview, type Invoice, orgPath, type PaymentMethod } from '../api.ts';
import { brandName, formatDateTime, formatMoney, formatPeriod } from '../format.ts';
import { ErrorState, PageLoader } from './States.tsx';

/**
 * Cancel Plan: the final invoice the downgrade to Free would issue now, exactly as the API previews
 * it (prorated plan fee and unbilled usage), and the button that makes it happen.
 */
export function CancelPlanModal({
  orgId,
  opened,
  onClose,
  paymentMethod,
  planName,
}: {
  orgId: string;
  opened: boolean;
  onClose: () => void;
  paymentMethod: PaymentMethod | null;
  planName: string;
}) {
  const queryClient = useQueryClient();
  const preview = useQuery({
    queryKey: ['org', orgId, 'downgrade-preview'],
    queryFn: () => api<DowngradePreview>('POST', orgPath(orgId, '/subscription/preview'), { plan: 'free' }),
    enabled: opened,
    gcTime: 0,
    staleTime: 0,
    retry: false,
  });
  const downgrade = useMutation({
    mutationFn: () => api<{ final_invoice: Invoice }>('DELETE', orgPath(orgId, '/subscription')),
    onSuccess: async (result) => {
      await queryClient.invalidateQueries();
      onClose();
      const invoice = result.final_invoice;
      notifications.show({
        color: 'green',
        title: 'Your organization is on Free now',
        message: `Final invoice ${invoice.number}: ${formatMoney(invoice.total, invoice.currency)}, ${invoice.status === 'paid' ? 'paid' : invoice.status.replace('_', ' ')}.`,
      });
    },
  });

  const invoice = preview.data?.invoice;
  return (
    <Modal
      opened={opened}
      onClose={() => {
        downgrade.reset();
        onClose();
      }}
      title={<Text fw={700}>Cancel {planName} and move to Free</Text>}
      size="lg"
      centered
    >
      {preview.isPending && <PageLoader label="Working out the final charge" />}
      {preview.error && <ErrorState error={preview.error} onRetry={() => void preview.refetch()} />}
      {preview.data && (
        <Stack gap="md">
          <Text size="sm">
            The change takes effect immediately: from now on the organization is on Free, with unlimited unbilled
            requests and up to 3 runtimes. {planName} is billed for the part of this period used so far, and for the
            requests not yet billed.
          </Text>
          {invoice ? (
            <Stack gap="xs" p="md" bg="gray.0" style={{ borderRadius: 'var(--mantine-radius-md)' }}>
              <Group justify="space-between" align="baseline">
                <Text fw={600}>Final charge today</Text>
                <Text fw={700} size="xl" data-testid="final-charge">
                  {formatMoney(invoice.total, invoice.currency)}
                </Text>
              </Group>
              <Text size="xs" c="dimmed">
                For {formatPeriod(invoice.period.start, invoice.period.end)}
                {paymentMethod ? `, charged to ${brandName(paymentMethod.brand)} ending ${paymentMethod.last4}` : ''}.
              </Text>
              <Divider my={4} />
              <Stack gap={6} component="ul" p={0} m={0} style={{ listStyle: 'none' }}>
                {invoice.lines.map((line) => (
                  <Group
                    component="li"
                    key={`${line.kind}-${line.description}`}
                    justify="space-between"
                    wrap="nowrap"
                    gap="md"
                    align="flex-start"
                  >
                    <Text size="sm">{line.description}</Text>
                    <Text size="sm" style={{ whiteSpace: 'nowrap' }}>
                      {formatMoney(line.amount, invoice.currency)}
                    </Text>
                  </Group>
                ))}
              </Stack>
            </Stack>
          ) : (
            <Text size="sm">There is nothing left to charge.</Text>
          )}
          {preview.data.voids_invoice_id && (
            <Alert color="blue" variant="light">
              This period’s invoice was already calculated and is not charged yet: it is voided and this final invoice
              replaces it.
            </Alert>
          )}
          <Text size="xs" c="dimmed">
            Effective {formatDateTime(preview.data.effective_at)}.
          </Text>
          {downgrade.error && (
            <Alert color="red" variant="light" title="The plan was not changed" role="alert">
              {downgrade.error.message}
            </Alert>
          )}
          <Group justify="flex-end" gap="sm">
            <Button variant="default" onClick={onClose} disabled={downgrade.isPending}>
              Keep {planName}
            </Button>
            <Button color="red" loading={downgrade.isPending} onClick={() => downgrade.mutate()}>
              Confirm Downgrade
            </Button>
          </Group>
        </Stack>
      )}
    </Modal>
  );
}
