import { Alert, Button, Group, Modal, Radio, Select, SimpleGrid, Stack, Text, TextInput } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { ApiError, api, type Invoice, type PlanId, type StaffOrgDetail, type Subscription } from '../../api.ts';
import { cardLabel, PLAN_NAMES } from '../../billing.ts';
import {
  brandName,
  currencyDigits,
  formatMoney,
  formatNumber,
  parseCountInput,
  parseMoneyInput,
} from '../../format.ts';
import { useCatalog } from '../../queries.ts';

interface Draft {
  plan: PlanId;
  monthlyFee: string;
  includedRequests: string;
  overagePerMillion: string;
  netDays: string;
  paymentMethodId: string;
}

type Errors = Partial<Record<keyof Draft, string>>;

/** Where the API's refusal belongs on this form. */
const API_FIELDS: Record<string, keyof Draft> = {
  'terms.monthly_fee': 'monthlyFee',
  'terms.included_requests': 'includedRequests',
  'terms.overage_per_million': 'overagePerMillion',
  'terms.net_days': 'netDays',
  payment_method_id: 'paymentMethodId',
};

/**
 * Set an org's plan as sales (PUT /v1/admin/orgs/{id}/subscription): Enterprise with its contract
 * terms, Plus, or Free. The current subscription ends now as a downgrade and the new one starts now.
 */
export function SetPlanModal({ detail, onClose }: { detail: StaffOrgDetail; onClose: () => void }) {
  const queryClient = useQueryClient();
  const catalog = useCatalog();
  const currency = catalog.data?.currency ?? 'usd';
  const { org, subscription, payment_methods: methods } = detail;
  // The card the current subscription charges, else the newest card on file.
  const currentCard = methods.find((method) => method.id === subscription?.payment_method_id);
  const [draft, setDraft] = useState<Draft>({
    plan: 'enterprise',
    monthlyFee: '',
    includedRequests: '',
    overagePerMillion: '',
    netDays: '30',
    paymentMethodId: currentCard?.id ?? methods[0]?.id ?? '',
  });
  const [errors, setErrors] = useState<Errors>({});
  const set = (field: keyof Draft) => (value: string) => {
    setDraft((current) => ({ ...current, [field]: value }));
    setErrors((current) => ({ ...current, [field]: undefined }));
  };

  const monthlyFee = parseMoneyInput(draft.monthlyFee, currency);
  const included = parseCountInput(draft.includedRequests);
  const overage = parseMoneyInput(draft.overagePerMillion, currency);
  const netDays = parseCountInput(draft.netDays);
  const chargesCard = draft.plan === 'plus' || (draft.plan === 'enterprise' && netDays === 0);

  const save = useMutation({
    mutationFn: () =>
      api<{ subscription: Subscription | null; final_invoice: Invoice | null }>(
        'PUT',
        `/v1/admin/orgs/${encodeURIComponent(org.id)}/subscription`,
        {
          plan: draft.plan,
          ...(draft.plan === 'enterprise'
            ? {
                terms: {
                  monthly_fee: monthlyFee,
                  included_requests: included,
                  overage_per_million: overage,
                  net_days: netDays,
                },
              }
            : {}),
          ...(chargesCard && draft.paymentMethodId ? { payment_method_id: draft.paymentMethodId } : {}),
        },
      ),
    onSuccess: async (result) => {
      await queryClient.invalidateQueries({ queryKey: ['admin'] });
      const final = result.final_invoice;
      notifications.show({
        color: 'green',
        title: `${org.name} is on ${PLAN_NAMES[draft.plan]}`,
        message: final
          ? `The previous subscription ended with final invoice ${final.number} (${formatMoney(final.total, final.currency)}).`
          : 'The new plan starts now.',
      });
      onClose();
    },
    onError: (error) => {
      const field = error instanceof ApiError && error.field ? API_FIELDS[error.field] : undefined;
      if (field) setErrors((current) => ({ ...current, [field]: error.message }));
      else if (error instanceof ApiError && error.status === 404 && /payment method/i.test(error.message)) {
        setErrors((current) => ({ ...current, paymentMethodId: error.message }));
      }
    },
  });

  const submit = (event: React.FormEvent) => {
    event.preventDefault();
    const found: Errors = {};
    if (draft.plan === 'enterprise') {
      const digits = currencyDigits(currency);
      const moneyHint = `Enter an amount such as ${digits ? '2500 or 2500.00' : '2500'}.`;
      if (monthlyFee === null) found.monthlyFee = moneyHint;
      if (included === null) found.includedRequests = 'Enter a whole number of requests, such as 50,000,000.';
      if (overage === null) found.overagePerMillion = moneyHint;
      if (netDays === null || netDays > 365) found.netDays = 'Enter 0 to charge a card, or 1 to 365 days.';
    }
    if (chargesCard && !draft.paymentMethodId) {
      found.paymentMethodId =
        methods.length === 0
          ? 'The organization has no card: its owner adds one under Billing first.'
          : 'Choose the card to charge.';
    }
    setErrors(found);
    if (Object.keys(found).length === 0) save.mutate();
  };

  const chosenCard = methods.find((method) => method.id === draft.paymentMethodId);
  const cardName = chosenCard ? `${brandName(chosenCard.brand)} ending ${chosenCard.last4}` : 'the card';
  const apiErrorShownAtField = Object.values(errors).some((message) => message && message === save.error?.message);
  const current = PLAN_NAMES[org.plan];
  return (
    <Modal opened onClose={onClose} title={<Text fw={700}>Set the plan of {org.name}</Text>} centered size="lg">
      <form onSubmit={submit} noValidate>
        <Stack gap="md">
          <Radio.Group
            label="Plan"
            description={`Now on ${current}.`}
            value={draft.plan}
            onChange={(value) => set('plan')(value)}
          >
            <Group gap="lg" mt="xs">
              {(['enterprise', 'plus', 'free'] as const).map((plan) => (
                <Radio key={plan} value={plan} label={PLAN_NAMES[plan]} />
              ))}
            </Group>
          </Radio.Group>

          {draft.plan === 'enterprise' && (
            <fieldset style={{ border: 0, padding: 0, margin: 0, minWidth: 0 }}>
              <Text component="legend" size="sm" fw={600} mb="xs">
                Contract terms
              </Text>
              <SimpleGrid cols={{ base: 1, xs: 2 }} spacing="sm">
                <TextInput
                  label="Monthly fee"
                  description={`In ${currency.toUpperCase()}, per month`}
                  inputMode="decimal"
                  placeholder="2,500.00"
                  value={draft.monthlyFee}
                  onChange={(event) => set('monthlyFee')(event.currentTarget.value)}
                  error={errors.monthlyFee}
                />
                <TextInput
                  label="Included requests"
                  description="Per invoice, before overage"
                  inputMode="numeric"
                  placeholder="50,000,000"
                  value={draft.includedRequests}
                  onChange={(event) => set('includedRequests')(event.currentTarget.value)}
                  error={errors.includedRequests}
                />
                <TextInput
                  label="Overage per million requests"
                  description={`In ${currency.toUpperCase()}`}
                  inputMode="decimal"
                  placeholder="15.00"
                  value={draft.overagePerMillion}
                  onChange={(event) => set('overagePerMillion')(event.currentTarget.value)}
                  error={errors.overagePerMillion}
                />
                <TextInput
                  label="Payment terms (net days)"
                  description="0: charge the card. N: transfer due in N days"
                  inputMode="numeric"
                  value={draft.netDays}
                  onChange={(event) => set('netDays')(event.currentTarget.value)}
                  error={errors.netDays}
                />
              </SimpleGrid>
            </fieldset>
          )}

          {chargesCard && (
            <Select
              label="Payment method"
              description={
                methods.length === 0
                  ? 'The organization has no card on file.'
                  : 'One of the organization’s cards, charged each month.'
              }
              placeholder={methods.length === 0 ? 'No card on file' : 'Choose a card'}
              data={methods.map((method) => ({
                value: method.id,
                label: `${cardLabel(method)}${method.id === currentCard?.id ? ' (charged now)' : ''}`,
              }))}
              value={draft.paymentMethodId || null}
              onChange={(value) => set('paymentMethodId')(value ?? '')}
              allowDeselect={false}
              disabled={methods.length === 0}
              error={errors.paymentMethodId}
              comboboxProps={{ withinPortal: true }}
            />
          )}

          <Alert color="blue" variant="light" data-testid="plan-change-summary">
            <Text size="sm">
              {org.plan === 'free'
                ? ''
                : `The current ${current} subscription ends now as a downgrade, with a final invoice. `}
              {draft.plan === 'free'
                ? `${org.name} moves to Free now.`
                : draft.plan === 'plus'
                  ? `Plus starts now, billed monthly to ${cardName}.`
                  : monthlyFee !== null && included !== null && overage !== null && netDays !== null
                    ? `Enterprise starts now: ${formatMoney(monthlyFee, currency)} a month with ${formatNumber(included)} requests included, then ${formatMoney(overage, currency)} per million, ${netDays === 0 ? `charged to ${cardName}` : `invoiced, due ${netDays} days after each billing date`}.`
                    : 'Enterprise starts now, on the terms above.'}
            </Text>
          </Alert>

          {save.error && !apiErrorShownAtField && (
            <Alert color="red" variant="light" title="The plan was not changed" role="alert">
              {save.error.message}
            </Alert>
          )}
          <Group justify="flex-end" gap="sm">
            <Button variant="default" onClick={onClose} disabled={save.isPending}>
              Cancel
            </Button>
            <Button type="submit" loading={save.isPending}>
              Set {PLAN_NAMES[draft.plan]}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
