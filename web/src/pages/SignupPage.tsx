import { Alert, Anchor, Button, PasswordInput, Stack, Text, TextInput } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useEffect, useState } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { ApiError, api } from '../api.ts';
import { useForgetSession } from '../components/AppLayout.tsx';
import { AuthLayout } from '../components/AuthLayout.tsx';

const FIELDS = ['full_name', 'email', 'password', 'org_name'] as const;

/** Sign up: a person, their organization (they own it) and a session. */
export function SignupPage() {
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const isAnother = params.get('another') === '1';
  const forgetSession = useForgetSession();
  const [failure, setFailure] = useState<ApiError | null>(null);
  const [isSubmitting, setSubmitting] = useState(false);
  const form = useForm({
    initialValues: { full_name: '', email: '', password: '', org_name: '' },
    validate: {
      full_name: (value) => (value.trim() ? null : 'Enter your name.'),
      email: (value) => (/^\S+@\S+\.\S+$/.test(value.trim()) ? null : 'Enter an email address like name@example.com.'),
      password: (value) =>
        value.length < 8 ? 'Use at least 8 characters.' : value.length > 128 ? 'Use at most 128 characters.' : null,
      org_name: (value) =>
        value.trim() ? (value.trim().length > 100 ? 'Use at most 100 characters.' : null) : 'Name your organization.',
    },
  });

  useEffect(() => {
    document.title = `${isAnother ? 'Create an organization' : 'Sign up'} · Tierline`;
  }, [isAnother]);

  const submit = form.onSubmit(async (values) => {
    setSubmitting(true);
    setFailure(null);
    try {
      await api('POST', '/v1/signup', {
        full_name: values.full_name.trim(),
        email: values.email.trim(),
        password: values.password,
        org_name: values.org_name.trim(),
      });
      forgetSession();
      navigate('/settings/billing', { replace: true });
    } catch (error) {
      const failed = error instanceof ApiError ? error : new ApiError(0, 'unknown', 'Signing up failed. Try again.');
      const field = FIELDS.find((name) => failed.field === name);
      if (field) form.setFieldError(field, failed.message);
      else setFailure(failed);
    } finally {
      setSubmitting(false);
    }
  });

  return (
    <AuthLayout
      title={isAnother ? 'Create another organization' : 'Create your Tierline account'}
      subtitle={
        isAnother
          ? 'Use your email and password: the new organization is added to your account, and you own it.'
          : 'Start on the Free plan: unlimited API requests, unbilled, up to 3 runtimes.'
      }
      footer={
        <>
          Already have an account?{' '}
          <Anchor component={Link} to="/login" size="sm" underline="always">
            Log in
          </Anchor>
        </>
      }
    >
      {failure && <SignupFailure error={failure} />}
      <form onSubmit={submit} noValidate>
        <Stack gap="md">
          <TextInput label="Full name" autoComplete="name" required {...form.getInputProps('full_name')} />
          <TextInput label="Email" type="email" autoComplete="email" required {...form.getInputProps('email')} />
          <PasswordInput
            label="Password"
            description="8 to 128 characters"
            autoComplete={isAnother ? 'current-password' : 'new-password'}
            required
            {...form.getInputProps('password')}
          />
          <TextInput
            label="Organization name"
            autoComplete="organization"
            required
            {...form.getInputProps('org_name')}
          />
          <Button type="submit" fullWidth loading={isSubmitting} mt="xs">
            {isAnother ? 'Create organization' : 'Sign up'}
          </Button>
        </Stack>
      </form>
    </AuthLayout>
  );
}

function SignupFailure({ error }: { error: ApiError }) {
  if (error.code === 'email_taken') {
    return (
      <Alert color="red" variant="light" title="This email already has an account" role="alert">
        <Text size="sm">
          <Anchor component={Link} to="/login" size="sm" underline="always">
            Log in
          </Anchor>{' '}
          instead, or enter that account’s password here to create another organization owned by it.
        </Text>
      </Alert>
    );
  }
  if (error.code === 'email_locked') {
    return (
      <Alert color="red" variant="light" title="This email cannot be used" role="alert">
        <Text size="sm">{error.message} Support can reactivate that organization or release the email.</Text>
      </Alert>
    );
  }
  return (
    <Alert color="red" variant="light" title="Could not sign up" role="alert">
      <Text size="sm">{error.message}</Text>
    </Alert>
  );
}
