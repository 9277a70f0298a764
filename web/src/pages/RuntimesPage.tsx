import {
  ActionIcon,
  Alert,
  Badge,
  Button,
  Card,
  Code,
  CopyButton,
  Group,
  Modal,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
  Tooltip,
  VisuallyHidden,
} from '@mantine/core';
import { useForm } from '@mantine/form';
import { notifications } from '@mantine/notifications';
import { IconCheck, IconCopy, IconPlus, IconServer2, IconTrash } from '@tabler/icons-react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { canManageOrg, canReadOrgAdmin } from '../access.ts';
import { ApiError, api, orgPath, type Runtime, type RuntimeState } from '../api.ts';
import { PLAN_NAMES } from '../billing.ts';
import { ConfirmModal } from '../components/ConfirmModal.tsx';
import { NoAdminAccess } from '../components/NoAdminAccess.tsx';
import { RoutesCard } from '../components/RoutesCard.tsx';
import { ErrorState, PageLoader } from '../components/States.tsx';
import { When } from '../components/When.tsx';
import { formatDate, formatNumber } from '../format.ts';
import { useCatalog, useMember, useNow, useRuntimes } from '../queries.ts';

export const RUNTIME_STATES: Record<RuntimeState, { label: string; color: string; hint: string }> = {
  connected: { label: 'Connected', color: 'green', hint: 'Called the control plane within the last 5 minutes.' },
  disconnected: { label: 'Disconnected', color: 'orange', hint: 'Not heard from for more than 5 minutes.' },
  never_connected: { label: 'Never connected', color: 'gray', hint: 'Registered, but has not called yet.' },
  decommissioned: {
    label: 'Decommissioned',
    color: 'red',
    hint: 'Its control plane is decommissioned: its calls are refused.',
  },
};

export function RuntimeStateBadge({ state }: { state: RuntimeState }) {
  const shown = RUNTIME_STATES[state];
  return (
    <Badge color={shown.color} variant="light" size="md" tt="none" data-state={state}>
      {shown.label}
    </Badge>
  );
}

/** Runtimes: register one (its token shown once), see their state, delete one; the control plane's routes. */
export function RuntimesPage() {
  const member = useMember()!;
  const orgId = member.org.id;
  const canRead = canReadOrgAdmin(member.roles);
  const canManage = canManageOrg(member.roles);
  const [isRegistering, setRegistering] = useState(false);

  useEffect(() => {
    document.title = 'Runtimes · Tierline';
  }, []);

  return (
    <Stack gap="lg">
      <Group justify="space-between" align="flex-end" gap="sm">
        <div style={{ flex: '1 1 420px' }}>
          <Title order={1}>Runtimes</Title>
          <Text c="dimmed" size="sm">
            The gateway runtimes of {member.org.name}: they proxy API traffic along the control plane’s routes and
            report the requests.
          </Text>
        </div>
        {canManage && member.org.status === 'active' && (
          <Button leftSection={<IconPlus size={16} aria-hidden />} onClick={() => setRegistering(true)}>
            Register runtime
          </Button>
        )}
      </Group>
      {canRead ? (
        <>
          <RuntimesCard orgId={orgId} canManage={canManage} />
          <RoutesCard orgId={orgId} canManage={canManage} />
        </>
      ) : (
        <NoAdminAccess what="runtimes and routes" roles={member.roles} orgName={member.org.name} />
      )}
      {isRegistering && (
        <RegisterRuntimeModal orgId={orgId} opened={isRegistering} onClose={() => setRegistering(false)} />
      )}
    </Stack>
  );
}

function RuntimesCard({ orgId, canManage }: { orgId: string; canManage: boolean }) {
  const member = useMember()!;
  const runtimes = useRuntimes(orgId);
  const catalog = useCatalog();
  const now = useNow();
  const [deleting, setDeleting] = useState<Runtime | null>(null);
  const limit = catalog.data?.data.find((plan) => plan.id === member.org.plan)?.limits.runtimes ?? null;
  const counted = runtimes.data?.data.filter((runtime) => runtime.state !== 'decommissioned').length ?? 0;

  return (
    <Card withBorder padding="lg" radius="lg" component="section" aria-labelledby="runtimes-title">
      <Stack gap="md">
        <Group justify="space-between" align="baseline">
          <Title order={2} size="h3" id="runtimes-title">
            Registered runtimes
          </Title>
          {runtimes.data && limit !== null && (
            <Text size="sm" c="dimmed" data-testid="runtime-limit">
              {formatNumber(counted)} of {formatNumber(limit)} on {PLAN_NAMES[member.org.plan]}
            </Text>
          )}
        </Group>
        {runtimes.error ? (
          <ErrorState error={runtimes.error} onRetry={() => void runtimes.refetch()} />
        ) : !runtimes.data ? (
          <PageLoader label="Loading runtimes" />
        ) : runtimes.data.data.length === 0 ? (
          <Stack align="center" gap={6} py="lg">
            <IconServer2 size={32} stroke={1.4} color="var(--mantine-color-gray-6)" aria-hidden />
            <Text fw={600}>No runtimes yet</Text>
            <Text size="sm" c="dimmed" ta="center" maw={460}>
              {canManage
                ? 'Register a runtime to get its token, then start it with that token: it syncs the routes below and reports the requests it proxies.'
                : 'An owner or org admin can register runtimes.'}
            </Text>
          </Stack>
        ) : (
          <Table.ScrollContainer minWidth={680}>
            <Table verticalSpacing="sm" highlightOnHover>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th scope="col">Runtime</Table.Th>
                  <Table.Th scope="col">State</Table.Th>
                  <Table.Th scope="col">Last seen</Table.Th>
                  <Table.Th scope="col">Registered</Table.Th>
                  {canManage && (
                    <Table.Th scope="col">
                      <VisuallyHidden>Actions</VisuallyHidden>
                    </Table.Th>
                  )}
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {runtimes.data.data.map((runtime) => (
                  <Table.Tr key={runtime.id} data-testid={`runtime-${runtime.name}`}>
                    <Table.Td>
                      <Text size="sm" fw={600}>
                        {runtime.name}
                      </Text>
                      <Text size="xs" c="dimmed" ff="monospace">
                        {runtime.token_prefix}…
                      </Text>
                    </Table.Td>
                    <Table.Td>
                      <Tooltip label={RUNTIME_STATES[runtime.state].hint} withArrow>
                        <span>
                          <RuntimeStateBadge state={runtime.state} />
                        </span>
                      </Tooltip>
                    </Table.Td>
                    <Table.Td>
                      <When iso={runtime.last_seen_at} now={now} />
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm">{formatDate(runtime.created_at)}</Text>
                    </Table.Td>
                    {canManage && (
                      <Table.Td style={{ textAlign: 'right' }}>
                        <Button
                          variant="subtle"
                          color="red"
                          size="compact-sm"
                          leftSection={<IconTrash size={14} aria-hidden />}
                          onClick={() => setDeleting(runtime)}
                          aria-label={`Delete runtime ${runtime.name}`}
                        >
                          Delete
                        </Button>
                      </Table.Td>
                    )}
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </Stack>
      {deleting && <DeleteRuntimeModal orgId={orgId} runtime={deleting} onClose={() => setDeleting(null)} />}
    </Card>
  );
}

function DeleteRuntimeModal({ orgId, runtime, onClose }: { orgId: string; runtime: Runtime; onClose: () => void }) {
  const queryClient = useQueryClient();
  const remove = useMutation({
    mutationFn: () => api('DELETE', orgPath(orgId, `/runtimes/${encodeURIComponent(runtime.id)}`)),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ['org', orgId, 'runtimes'] });
      notifications.show({ color: 'green', title: 'Runtime deleted', message: `${runtime.name} can no longer call.` });
      onClose();
    },
  });
  return (
    <ConfirmModal
      opened
      onClose={onClose}
      title={`Delete ${runtime.name}?`}
      confirmLabel="Delete runtime"
      onConfirm={() => remove.mutate()}
      isPending={remove.isPending}
      error={remove.error}
    >
      <Text size="sm">
        Its token stops working at once: the runtime can no longer fetch routes or report usage, and the requests it
        still proxies are not counted. The usage it already reported is kept. Its place under the plan’s runtime limit
        is freed.
      </Text>
    </ConfirmModal>
  );
}

function RegisterRuntimeModal({ orgId, opened, onClose }: { orgId: string; opened: boolean; onClose: () => void }) {
  const queryClient = useQueryClient();
  const [created, setCreated] = useState<{ runtime: Runtime; token: string } | null>(null);
  const form = useForm({
    initialValues: { name: '' },
    validate: { name: (value) => (value.trim() ? null : 'Give the runtime a name, such as edge-eu-1.') },
  });
  const register = useMutation({
    mutationFn: (name: string) =>
      api<{ runtime: Runtime; token: string }>('POST', orgPath(orgId, '/runtimes'), { name }),
    onSuccess: async (result) => {
      setCreated(result);
      await queryClient.invalidateQueries({ queryKey: ['org', orgId, 'runtimes'] });
    },
    onError: (error) => {
      if (error instanceof ApiError && error.field === 'name') form.setFieldError('name', error.message);
    },
  });
  // The page mounts this only while it is open: closing forgets the token for good.
  const close = onClose;
  const command = created
    ? `npm run runtime -- --control-plane ${window.location.origin} --token ${created.token} --listen 8000`
    : '';

  return (
    <Modal
      opened={opened}
      onClose={close}
      title={<Text fw={700}>{created ? `${created.runtime.name} is registered` : 'Register a runtime'}</Text>}
      size="lg"
      centered
      closeOnClickOutside={!created}
    >
      {created ? (
        <Stack gap="md">
          <Alert color="orange" variant="light" title="Copy the token now: you will not see it again" role="alert">
            <Text size="sm">
              Tierline keeps only a hash of it. If it is lost, delete this runtime and register a new one.
            </Text>
          </Alert>
          <div>
            <Text size="sm" fw={600} mb={6} id="runtime-token-label">
              Runtime token
            </Text>
            <Group gap="xs" wrap="nowrap" align="stretch">
              <Code
                block
                data-testid="runtime-token"
                aria-labelledby="runtime-token-label"
                style={{
                  flex: 1,
                  wordBreak: 'break-all',
                  whiteSpace: 'pre-wrap',
                  fontSize: 'var(--mantine-font-size-sm)',
                }}
              >
                {created.token}
              </Code>
              <CopyButton value={created.token} timeout={4000}>
                {({ copied, copy }) => (
                  <>
                    <VisuallyHidden aria-live="polite">
                      {copied ? 'The token is copied to the clipboard.' : ''}
                    </VisuallyHidden>
                    <Button
                      onClick={copy}
                      color={copied ? 'teal' : 'indigo'}
                      leftSection={copied ? <IconCheck size={16} aria-hidden /> : <IconCopy size={16} aria-hidden />}
                      style={{ flexShrink: 0 }}
                      h="auto"
                    >
                      {copied ? 'Copied' : 'Copy token'}
                    </Button>
                  </>
                )}
              </CopyButton>
            </Group>
            <Text size="xs" c="dimmed" mt={6}>
              The runtime sends it as <Code>Authorization: Bearer …</Code> to fetch its routes and report usage.
            </Text>
          </div>
          <div>
            <Group justify="space-between" mb={6}>
              <Text size="sm" fw={600}>
                Start the reference runtime with it
              </Text>
              <CopyButton value={command} timeout={4000}>
                {({ copied, copy }) => (
                  <Tooltip label={copied ? 'Copied' : 'Copy the command'} withArrow>
                    <ActionIcon
                      variant="subtle"
                      color={copied ? 'teal' : 'gray'}
                      onClick={copy}
                      aria-label="Copy the command"
                    >
                      {copied ? <IconCheck size={16} aria-hidden /> : <IconCopy size={16} aria-hidden />}
                    </ActionIcon>
                  </Tooltip>
                )}
              </CopyButton>
            </Group>
            <Code block style={{ wordBreak: 'break-all', whiteSpace: 'pre-wrap' }}>
              {command}
            </Code>
          </div>
          <Group justify="flex-end">
            <Button onClick={close}>Done</Button>
          </Group>
        </Stack>
      ) : (
        <form onSubmit={form.onSubmit((values) => register.mutate(values.name.trim()))} noValidate>
          <Stack gap="md">
            <TextInput
              label="Name"
              description="To tell your runtimes apart, for example by region or host."
              placeholder="edge-eu-1"
              maxLength={100}
              data-autofocus
              {...form.getInputProps('name')}
            />
            {register.error && !(register.error instanceof ApiError && register.error.field === 'name') && (
              <Alert color="red" variant="light" title="The runtime was not registered" role="alert">
                {register.error.message}
              </Alert>
            )}
            <Group justify="flex-end" gap="sm">
              <Button variant="default" onClick={close} disabled={register.isPending}>
                Cancel
              </Button>
              <Button type="submit" loading={register.isPending}>
                Register
              </Button>
            </Group>
          </Stack>
        </form>
      )}
    </Modal>
  );
}
