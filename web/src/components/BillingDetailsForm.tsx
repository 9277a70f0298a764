import { Alert, Button, Group, NativeSelect, SimpleGrid, Stack, Text, TextInput, Title } from '@mantine/core';
import { useForm } from '@mantine/form';
import { IconCreditCard, IconLock } from '@tabler/icons-react';
import { type ReactNode, useMemo, useState } from 'react';
import { ApiError, api, orgPath, type PaymentMethod } from '../api.ts';
import { COUNTRY_CODES } from '../billing.ts';
import { countryName } from '../format.ts';
import { useMember, useNow } from '../queries.ts';

interface Values {
  number: string;
  exp_month: string;
  exp_year: string;
  cvc: string;
  name: string;
  email: string;
  line1: string;
  city: string;
  postal_code: string;
  country: string;
}

// Where the API's validation errors point (card.number, billing_details.address.city, …) in this form.
const API_FIELDS: Record<string, keyof Values> = {
  'card.number': 'number',
  'card.exp_month': 'exp_month',
  'card.exp_year': 'exp_year',
  'card.cvc': 'cvc',
  'billing_details.name': 'name',
  'billing_details.email': 'email',
  'billing_details.address.line1': 'line1',
  'billing_details.address.city': 'city',
  'billing_details.address.postal_code': 'postal_code',
  'billing_details.address.country': 'country',
};

function defaultCountry(): string {
  const region = (navigator.language || '').split('-')[1]?.toUpperCase();
  return region && COUNTRY_CODES.includes(region) ? region : 'US';
}

/**
 * Card and billing details (spec 4: a payment method and billing name, email and address). Adds the
 * payment method, then hands it to `onAdded` (which subscribes, for an upgrade). A declined card is
 * shown in the API's words and nothing else happens.
 */
export function BillingDetailsForm({
  orgId,
  submitLabel,
  onAdded,
  aside,
}: {
  orgId: string;
  submitLabel: string;
  onAdded: (method: PaymentMethod) => Promise<void>;
  aside?: ReactNode;
}) {
  const member = useMember();
  const thisYear = useNow().getUTCFullYear();
  const [failure, setFailure] = useState<ApiError | null>(null);
  const [isSubmitting, setSubmitting] = useState(false);
  const months = useMemo(
    () => [
      { value: '', label: 'Month', disabled: true },
      ...Array.from({ length: 12 }, (_, index) => {
        const value = String(index + 1);
        const name = new Intl.DateTimeFormat(navigator.language, { month: 'long', timeZone: 'UTC' }).format(
          new Date(Date.UTC(2000, index, 1)),
        );
        return { value, label: `${value.padStart(2, '0')} – ${name}` };
      }),
    ],
    [],
  );
  const years = useMemo(
    () => [
      { value: '', label: 'Year', disabled: true },
      ...Array.from({ length: 21 }, (_, index) => String(thisYear + index)),
    ],
    [thisYear],
  );
  const countries = useMemo(
    () =>
      COUNTRY_CODES.map((code) => ({ value: code, label: countryName(code) })).sort((a, b) =>
        a.label.localeCompare(b.label),
      ),
    [],
  );

  const form = useForm<Values>({
    initialValues: {
      number: '',
      exp_month: '',
      exp_year: '',
      cvc: '',
      name: member?.user.full_name ?? '',
      email: member?.user.email ?? '',
      line1: '',
      city: '',
      postal_code: '',
      country: defaultCountry(),
    },
    validate: {
      number: (value) =>
        /^\d{12,19}$/.test(value.replace(/[\s-]/g, '')) ? null : 'Enter the 12 to 19 digits on the card.',
      exp_month: (value) => (value ? null : 'Choose the month.'),
      exp_year: (value) => (value ? null : 'Choose the year.'),
      cvc: (value) => (/^\d{3,4}$/.test(value.trim()) ? null : 'Enter the 3 or 4 digits on the back of the card.'),
      name: (value) => (value.trim() ? null : 'Enter the name to put on invoices.'),
      email: (value) => (/^\S+@\S+$/.test(value.trim()) ? null : 'Enter the email that receives invoices.'),
      line1: (value) => (value.trim() ? null : 'Enter the street address.'),
      city: (value) => (value.trim() ? null : 'Enter the city.'),
      postal_code: (value) => (value.trim() ? null : 'Enter the postal code.'),
      country: (value) => (value ? null : 'Choose the country.'),
    },
  });

  const submit = form.onSubmit(async (values) => {
    setSubmitting(true);
    setFailure(null);
    try {
      const method = await api<PaymentMethod>('POST', orgPath(orgId, '/payment-methods'), {
        card: {
          number: values.number.replace(/[\s-]/g, ''),
          exp_month: Number(values.exp_month),
          exp_year: Number(values.exp_year),
          cvc: values.cvc.trim(),
        },
        billing_details: {
          name: values.name.trim(),
          email: values.email.trim(),
          address: {
            line1: values.line1.trim(),
            city: values.city.trim(),
            postal_code: values.postal_code.trim(),
            country: values.country,
          },
        },
      });
      await onAdded(method);
    } catch (error) {
      const failed = error instanceof ApiError ? error : new ApiError(0, 'unknown', 'That did not work. Try again.');
      const field = failed.field ? API_FIELDS[failed.field] : undefined;
      if (field) form.setFieldError(field, failed.message);
      else setFailure(failed);
    } finally {
      setSubmitting(false);
    }
  });

  return (
    <form onSubmit={submit} noValidate aria-label="Billing details">
      <Stack gap="lg">
        {failure && (
          <Alert
            color="red"
            variant="light"
            title={failure.code === 'card_declined' ? 'Your card was declined' : 'That did not work'}
            role="alert"
            data-testid="billing-error"
          >
            <Text size="sm">{failure.message}</Text>
            {failure.code === 'card_declined' && (
              <Text size="sm" mt={4}>
                Nothing was changed: no card was added and your plan is as it was.
              </Text>
            )}
          </Alert>
        )}
        <Stack gap="sm">
          <Group gap="xs">
            <IconCreditCard size={20} aria-hidden />
            <Title order={3} size="h4">
              Card
            </Title>
          </Group>
          <TextInput
            label="Card number"
            inputMode="numeric"
            autoComplete="cc-number"
            placeholder="1234 1234 1234 1234"
            required
            {...form.getInputProps('number')}
          />
          <SimpleGrid cols={{ base: 1, xs: 3 }} spacing="sm">
            <NativeSelect
              label="Expiration month"
              autoComplete="cc-exp-month"
              data={months}
              required
              {...form.getInputProps('exp_month')}
            />
            <NativeSelect
              label="Expiration year"
              autoComplete="cc-exp-year"
              data={years}
              required
              {...form.getInputProps('exp_year')}
            />
            <TextInput
              label="CVC"
              inputMode="numeric"
              autoComplete="cc-csc"
              maxLength={4}
              required
              {...form.getInputProps('cvc')}
            />
          </SimpleGrid>
        </Stack>
        <Stack gap="sm">
          <Title order={3} size="h4">
            Billing details
          </Title>
          <SimpleGrid cols={{ base: 1, xs: 2 }} spacing="sm">
            <TextInput label="Name" autoComplete="name" required {...form.getInputProps('name')} />
            <TextInput label="Email" type="email" autoComplete="email" required {...form.getInputProps('email')} />
          </SimpleGrid>
          <TextInput label="Address" autoComplete="address-line1" required {...form.getInputProps('line1')} />
          <SimpleGrid cols={{ base: 1, xs: 3 }} spacing="sm">
            <TextInput label="City" autoComplete="address-level2" required {...form.getInputProps('city')} />
            <TextInput label="Postal code" autoComplete="postal-code" required {...form.getInputProps('postal_code')} />
            <NativeSelect
              label="Country"
              autoComplete="country"
              data={countries}
              required
              {...form.getInputProps('country')}
            />
          </SimpleGrid>
        </Stack>
        {aside}
        <Group justify="space-between" align="center" wrap="nowrap" gap="md">
          <Group gap={6} c="dimmed" wrap="nowrap" align="flex-start" style={{ flex: 1 }}>
            <IconLock size={14} aria-hidden style={{ flexShrink: 0, marginTop: 2 }} />
            <Text size="xs">Only the brand, last four digits and expiry are kept. The CVC is never stored.</Text>
          </Group>
          <Button type="submit" loading={isSubmitting} size="md" style={{ flexShrink: 0 }}>
            {submitLabel}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
