import { Alert, Button, Card, Group, Stack, Text, Textarea, TextInput, ThemeIcon, Title } from '@mantine/core';
import { useForm } from '@mantine/form';
import { IconCircleCheck } from '@tabler/icons-react';
import { useEffect, useState } from 'react';
import { Link, Navigate } from 'react-router';
import { ApiError, api, orgPath } from '../api.ts';
import { canManageBilling } from '../billing.ts';
import { BackLink } from '../components/BackLink.tsx';
import { useMember } from '../queries.ts';

const FIELDS = ['name', 'email', 'company', 'message'] as const;

/** Contact Sales about Enterprise: the form goes to the sales team's inbox. */
export function ContactSalesPage() {
  const member = useMember()!;
  const [sentTo, setSentTo] = useState<string | null>(null);
  const [failure, setFailure] = useState<ApiError | null>(null);
  const [isSubmitting, setSubmitting] = useState(false);
  const form = useForm({
    initialValues: {
      name: member.user.full_name,
      email: member.user.email,
      company: member.org.name,
      message: '',
    },
    validate: {
      name: (value) => (value.trim() ? null : 'Enter your name.'),
      email: (value) => (/^\S+@\S+$/.test(value.trim()) ? null : 'Enter the email sales should reply to.'),
      company: (value) => (value.trim() ? null : 'Enter your company.'),
      message: (value) => (value.trim() ? null : 'Tell us what you need: traffic, runtimes, terms.'),
    },
  });

  useEffect(() => {
    document.title = 'Contact Sales · Tierline';
  }, []);

  if (!canManageBilling(member.roles)) return <Navigate to="/settings/billing/plans" replace />;

  const submit = form.onSubmit(async (values) => {
    setSubmitting(true);
    setFailure(null);
    try {
      await api('POST', orgPath(member.org.id, '/sales-inquiries'), {
        name: values.name.trim(),
        email: values.email.trim(),
        company: values.company.trim(),
        message: values.message.trim(),
      });
      setSentTo(values.email.trim());
    } catch (error) {
      const failed = error instanceof ApiError ? error : new ApiError(0, 'unknown', 'Sending failed. Try again.');
      const field = FIELDS.find((name) => name === failed.field);
      if (field) form.setFieldError(field, failed.message);
      else setFailure(failed);
    } finally {
      setSubmitting(false);
    }
  });

  return (
    <Stack gap="lg">
      <Stack gap={4}>
        <BackLink to="/settings/billing/plans">Change Plan</BackLink>
        <Title order={1}>Contact Sales</Title>
        <Text c="dimmed" size="sm">
          Enterprise has terms per contract: monthly fee, included requests, overage, invoicing by bank transfer.
        </Text>
      </Stack>
      <Card withBorder padding="lg" radius="lg" maw={720}>
        {sentTo ? (
          <Stack gap="md" align="flex-start" role="status" data-testid="sales-confirmation">
            <ThemeIcon size={44} radius="xl" color="teal" variant="light">
              <IconCircleCheck size={28} aria-hidden />
            </ThemeIcon>
            <Title order={2} size="h3">
              Thanks, your message is with our sales team
            </Title>
            <Text size="sm">
              They will reply to {sentTo}, usually within one business day. Your plan stays as it is until a contract is
              signed.
            </Text>
            <Button component={Link} to="/settings/billing" variant="default">
              Back to Billing and Usage
            </Button>
          </Stack>
        ) : (
          <form onSubmit={submit} noValidate aria-label="Contact Sales">
            <Stack gap="md">
              {failure && (
                <Alert color="red" variant="light" title="Your message was not sent" role="alert">
                  {failure.message}
                </Alert>
              )}
              <Group grow align="flex-start" wrap="wrap" gap="md">
                <TextInput label="Name" autoComplete="name" required miw={220} {...form.getInputProps('name')} />
                <TextInput
                  label="Email"
                  type="email"
                  autoComplete="email"
                  required
                  miw={220}
                  {...form.getInputProps('email')}
                />
              </Group>
              <TextInput label="Company" autoComplete="organization" required {...form.getInputProps('company')} />
              <Textarea
                label="Message"
                description="Expected traffic, number of runtimes, anything about terms or invoicing."
                autosize
                minRows={4}
                maxRows={10}
                required
                {...form.getInputProps('message')}
              />
              <Group justify="flex-end">
                <Button type="submit" loading={isSubmitting}>
                  Contact Sales
                </Button>
              </Group>
            </Stack>
          </form>
        )}
      </Card>
    </Stack>
  );
}
