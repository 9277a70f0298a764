import { Alert, Anchor, Button, PasswordInput, SegmentedControl, Stack, Text, TextInput } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useEffect, useState } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { ApiError, api } from '../api.ts';
import { useForgetSession } from '../components/AppLayout.tsx';
import { AuthLayout } from '../components/AuthLayout.tsx';

/**
 * The link of an invitation email (/accept-invitation?token=…): a new person chooses a name and a
 * password, someone with a Tierline account confirms it with theirs. Accepting logs them in.
 */
export function AcceptInvitationPage() {
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const token = params.get('token') ?? '';
  const forgetSession = useForgetSession();
  const [hasAccount, setHasAccount] = useState<'new' | 'existing'>('new');
  const [failure, setFailure] = useState<ApiError | null>(null);
  const [isSubmitting, setSubmitting] = useState(false);
  const form = useForm({
    initialValues: { full_name: '', password: '' },
    validate: {
      full_name: (value) => (hasAccount === 'new' && !value.trim() ? 'Enter your name.' : null),
      password: (value) =>
        hasAccount === 'new' && value.length < 8 ? 'Use at least 8 characters.' : value ? null : 'Enter your password.',
    },
  });

  useEffect(() => {
    document.title = 'Accept an invitation · Tierline';
  }, []);

  const submit = form.onSubmit(async (values) => {
    setSubmitting(true);
    setFailure(null);
    try {
      await api('POST', '/v1/invitations/accept', {
        token,
        password: values.password,
        ...(hasAccount === 'new' ? { full_name: values.full_name.trim() } : {}),
      });
      forgetSession();
      navigate('/settings/billing', { replace: true });
    } catch (error) {
      const failed = error instanceof ApiError ? error : new ApiError(0, 'unknown', 'That did not work. Try again.');
      if (failed.field === 'full_name' || failed.field === 'password') form.setFieldError(failed.field, failed.message);
      else if (failed.code === 'invalid_credentials') form.setFieldError('password', failed.message);
      else setFailure(failed);
    } finally {
      setSubmitting(false);
    }
  });

  if (!token) {
    return (
      <AuthLayout title="Accept an invitation">
        <Alert color="red" variant="light" title="This link has no invitation in it" role="alert">
          Open the link from the invitation email again, whole.
        </Alert>
      </AuthLayout>
    );
  }

  return (
    <AuthLayout
      title="Join your team on Tierline"
      subtitle="You were invited to an organization. Accepting logs you in to it."
      footer={
        <>
          Not for you?{' '}
          <Anchor component={Link} to="/login" size="sm" underline="always">
            Go to the login page
          </Anchor>
        </>
      }
    >
      {failure && (
        <Alert
          color="red"
          variant="light"
          role="alert"
          title={
            failure.code === 'invitation_expired'
              ? 'This invitation is no longer valid'
              : failure.status === 404
                ? 'This invitation was not found'
                : failure.code === 'org_deactivated'
                  ? 'This organization is deactivated'
                  : 'The invitation was not accepted'
          }
        >
          <Text size="sm">
            {failure.status === 404
              ? 'Check that the whole link was opened, or ask for a new invitation.'
              : failure.message}
          </Text>
        </Alert>
      )}
      <form onSubmit={submit} noValidate>
        <Stack gap="md">
          <SegmentedControl
            fullWidth
            value={hasAccount}
            onChange={(value) => {
              setHasAccount(value as 'new' | 'existing');
              form.clearErrors();
            }}
            aria-label="Do you have a Tierline account?"
            data={[
              { value: 'new', label: 'I am new to Tierline' },
              { value: 'existing', label: 'I have an account' },
            ]}
          />
          {hasAccount === 'new' && (
            <TextInput label="Full name" autoComplete="name" required {...form.getInputProps('full_name')} />
          )}
          <PasswordInput
            label={hasAccount === 'new' ? 'Choose a password' : 'Your Tierline password'}
            description={
              hasAccount === 'new' ? 'At least 8 characters.' : 'The password of the invited email’s account.'
            }
            autoComplete={hasAccount === 'new' ? 'new-password' : 'current-password'}
            required
            {...form.getInputProps('password')}
          />
          <Button type="submit" fullWidth loading={isSubmitting}>
            Accept invitation
          </Button>
        </Stack>
      </form>
    </AuthLayout>
  );
}
