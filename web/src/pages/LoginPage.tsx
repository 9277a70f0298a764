import { Alert, Anchor, Button, PasswordInput, Stack, Text, TextInput } from '@mantine/core';
import { useForm } from '@mantine/form';
import { IconInfoCircle, IconLock } from '@tabler/icons-react';
import { useEffect, useState } from 'react';
import { Link, useLocation, useNavigate, useSearchParams } from 'react-router';
import { ApiError, api } from '../api.ts';
import { useForgetSession } from '../components/AppLayout.tsx';
import { AuthLayout } from '../components/AuthLayout.tsx';

/** Only paths of these pages are followed after login: never another site. */
export function safeNext(next: string | null): string {
  return next?.startsWith('/') && !next.startsWith('//') ? next : '/';
}

/** Log in with email and password; explains a deactivated organization in plain words. */
export function LoginPage() {
  const navigate = useNavigate();
  const location = useLocation();
  const [params] = useSearchParams();
  const forgetSession = useForgetSession();
  const [failure, setFailure] = useState<ApiError | null>(null);
  const [isSubmitting, setSubmitting] = useState(false);
  const state = (location.state ?? {}) as { sessionEnded?: boolean; loggedOut?: boolean };
  const form = useForm({
    initialValues: { email: '', password: '' },
    validate: {
      email: (value) => (/^\S+@\S+$/.test(value.trim()) ? null : 'Enter the email address you signed up with.'),
      password: (value) => (value ? null : 'Enter your password.'),
    },
  });

  useEffect(() => {
    document.title = 'Log in · Tierline';
  }, []);

  const submit = form.onSubmit(async (values) => {
    setSubmitting(true);
    setFailure(null);
    try {
      await api('POST', '/v1/auth/login', { email: values.email.trim(), password: values.password });
      forgetSession();
      navigate(safeNext(params.get('next')), { replace: true });
    } catch (error) {
      setFailure(error instanceof ApiError ? error : new ApiError(0, 'unknown', 'Logging in failed. Try again.'));
      form.setFieldValue('password', '');
    } finally {
      setSubmitting(false);
    }
  });

  return (
    <AuthLayout
      title="Log in to Tierline"
      subtitle="Manage your organization, its plan and its usage."
      footer={
        <>
          New to Tierline?{' '}
          <Anchor component={Link} to="/signup" size="sm" underline="always">
            Create an account
          </Anchor>
        </>
      }
    >
      {state.sessionEnded && !failure && (
        <Alert color="blue" variant="light" icon={<IconInfoCircle aria-hidden />} role="status">
          Your session has ended. Log in again to continue.
        </Alert>
      )}
      {state.loggedOut && !failure && (
        <Alert color="gray" variant="light" role="status">
          You have logged out.
        </Alert>
      )}
      {failure && <LoginFailure error={failure} />}
      <form onSubmit={submit} noValidate>
        <Stack gap="md">
          <TextInput
            label="Email"
            type="email"
            autoComplete="email"
            required
            autoFocus
            {...form.getInputProps('email')}
          />
          <PasswordInput
            label="Password"
            autoComplete="current-password"
            required
            {...form.getInputProps('password')}
          />
          <Button type="submit" fullWidth loading={isSubmitting} mt="xs">
            Log in
          </Button>
        </Stack>
      </form>
    </AuthLayout>
  );
}

function LoginFailure({ error }: { error: ApiError }) {
  if (error.code === 'org_deactivated') {
    return (
      <Alert
        color="red"
        variant="light"
        icon={<IconLock aria-hidden />}
        title="This organization has been deactivated"
        role="alert"
      >
        <Text size="sm">
          Nobody can log in to a deactivated organization, so there is nothing to open for this login. Your account
          itself is fine. To get the organization back, contact support: they can reactivate it.
        </Text>
      </Alert>
    );
  }
  const title =
    error.status === 401
      ? 'That email and password do not match'
      : error.status === 429
        ? 'Too many attempts'
        : 'Could not log in';
  return (
    <Alert color="red" variant="light" title={title} role="alert">
      <Text size="sm">{error.message}</Text>
    </Alert>
  );
}
