import {
  ActionIcon,
  Alert,
  Badge,
  Button,
  Card,
  Code,
  Group,
  Paper,
  SimpleGrid,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
  Tooltip,
} from '@mantine/core';
import { useForm } from '@mantine/form';
import { notifications } from '@mantine/notifications';
import { IconPlus, IconRoute, IconTrash } from '@tabler/icons-react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';
import { ApiError, api, type ControlPlane, orgPath } from '../api.ts';
import { formatDateTime } from '../format.ts';
import { useControlPlane } from '../queries.ts';
import { ErrorState, PageLoader } from './States.tsx';

interface RouteDraft {
  key: string;
  path_prefix: string;
  upstream_url: string;
  service: string;
}

let draftKeys = 0;
const newKey = () => {
  draftKeys += 1;
  return `route-${draftKeys}`;
};

/** The service usage is counted under when none is given: the prefix's first segment (as the API decides). */
export function defaultService(prefix: string): string {
  return prefix.replace(/^\/+/, '').split('/')[0] || 'default';
}

/**
 * The control plane's routes: path prefix → upstream URL, with the service usage is counted under.
 * Admins edit them; the API checks them and its refusal is shown at the field it names.
 */
export function RoutesCard({ orgId, canManage }: { orgId: string; canManage: boolean }) {
  const controlPlane = useControlPlane(orgId);
  return (
    <Card withBorder padding="lg" radius="lg" component="section" aria-labelledby="routes-title">
      <Stack gap="md">
        <div>
          <Group justify="space-between" align="baseline" gap="xs">
            <Title order={2} size="h3" id="routes-title">
              Routes
            </Title>
            {controlPlane.data && (
              <Group gap="xs">
                <Badge
                  color={controlPlane.data.status === 'active' ? 'green' : 'red'}
                  variant="light"
                  tt="none"
                  size="md"
                >
                  Control plane {controlPlane.data.status}
                </Badge>
                <Text size="xs" c="dimmed">
                  Version {controlPlane.data.version}
                </Text>
              </Group>
            )}
          </Group>
          <Text size="sm" c="dimmed">
            Runtimes send each request to the upstream of the longest path prefix it starts with, and count it under the
            route’s service (by default the prefix’s first segment). They pick up changes on their next sync.
          </Text>
        </div>
        {controlPlane.error ? (
          <ErrorState error={controlPlane.error} onRetry={() => void controlPlane.refetch()} />
        ) : !controlPlane.data ? (
          <PageLoader label="Loading routes" />
        ) : controlPlane.data.status !== 'active' ? (
          <Alert color="red" variant="light" title="This control plane is decommissioned" role="alert">
            Since {formatDateTime(controlPlane.data.decommissioned_at ?? controlPlane.data.created_at)} its runtimes are
            refused and answer proxied traffic with 503.
          </Alert>
        ) : canManage ? (
          <RoutesEditor orgId={orgId} controlPlane={controlPlane.data} />
        ) : (
          <RoutesTable controlPlane={controlPlane.data} />
        )}
      </Stack>
    </Card>
  );
}

function RoutesTable({ controlPlane }: { controlPlane: ControlPlane }) {
  const routes = controlPlane.config.routes;
  if (routes.length === 0) {
    return (
      <Text size="sm" c="dimmed">
        No routes yet: runtimes answer every request with 404 until an admin adds one.
      </Text>
    );
  }
  return (
    <Table.ScrollContainer minWidth={560}>
      <Table verticalSpacing="xs">
        <Table.Thead>
          <Table.Tr>
            <Table.Th scope="col">Path prefix</Table.Th>
            <Table.Th scope="col">Upstream URL</Table.Th>
            <Table.Th scope="col">Service</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {routes.map((route) => (
            <Table.Tr key={route.path_prefix}>
              <Table.Td>
                <Code>{route.path_prefix}</Code>
              </Table.Td>
              <Table.Td>
                <Text size="sm" style={{ wordBreak: 'break-all' }}>
                  {route.upstream_url}
                </Text>
              </Table.Td>
              <Table.Td>
                <Text size="sm">{route.service}</Text>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

const draftsOf = (controlPlane: ControlPlane): RouteDraft[] =>
  controlPlane.config.routes.map((route) => ({
    key: newKey(),
    path_prefix: route.path_prefix,
    upstream_url: route.upstream_url,
    // A service equal to the default is shown empty, so changing the prefix keeps following it.
    service: route.service === defaultService(route.path_prefix) ? '' : route.service,
  }));

function RoutesEditor({ orgId, controlPlane }: { orgId: string; controlPlane: ControlPlane }) {
  const queryClient = useQueryClient();
  const form = useForm<{ routes: RouteDraft[] }>({
    initialValues: { routes: draftsOf(controlPlane) },
    validate: {
      routes: {
        path_prefix: (value) => (value.trim() ? null : 'Give a path prefix, such as /payments.'),
        upstream_url: (value) => (value.trim() ? null : 'Give the URL requests go to.'),
      },
    },
  });

  // A newer version from the server (saved here or elsewhere) replaces the form, unless it has unsaved edits.
  // biome-ignore lint/correctness/useExhaustiveDependencies: follows the server's version only
  useEffect(() => {
    if (!form.isDirty()) {
      const drafts = draftsOf(controlPlane);
      form.setInitialValues({ routes: drafts });
      form.setValues({ routes: drafts });
    }
  }, [controlPlane.version]);

  const save = useMutation({
    mutationFn: (routes: RouteDraft[]) =>
      api<ControlPlane>('PUT', orgPath(orgId, '/control-plane/config'), {
        routes: routes.map((route) => ({
          path_prefix: route.path_prefix.trim(),
          upstream_url: route.upstream_url.trim(),
          ...(route.service.trim() ? { service: route.service.trim() } : {}),
        })),
      }),
    onSuccess: (updated) => {
      const drafts = draftsOf(updated);
      form.setInitialValues({ routes: drafts });
      form.setValues({ routes: drafts });
      form.resetDirty({ routes: drafts });
      queryClient.setQueryData(['org', orgId, 'control-plane'], updated);
      notifications.show({
        color: 'green',
        title: 'Routes saved',
        message: `Version ${updated.version}: runtimes pick it up on their next sync.`,
      });
    },
    onError: (error) => {
      // The API names the field it refused, such as routes.1.upstream_url: show the message there.
      const field = error instanceof ApiError ? error.field : undefined;
      if (field && /^routes\.\d+\.(path_prefix|upstream_url|service)$/.test(field)) {
        form.setFieldError(field, error.message);
      }
    },
  });
  const fieldError =
    save.error instanceof ApiError && save.error.field && /^routes\.\d+\./.test(save.error.field) ? save.error : null;

  const routes = form.values.routes;
  return (
    <form onSubmit={form.onSubmit((values) => save.mutate(values.routes))} noValidate>
      <Stack gap="sm">
        {routes.length === 0 && (
          <Paper withBorder p="md" radius="md" style={{ borderStyle: 'dashed' }}>
            <Group gap="sm" wrap="nowrap">
              <IconRoute size={24} stroke={1.5} color="var(--mantine-color-gray-6)" aria-hidden />
              <Text size="sm" c="dimmed">
                No routes yet: runtimes answer every request with 404 until you add one.
              </Text>
            </Group>
          </Paper>
        )}
        {routes.map((route, index) => {
          const prefix = route.path_prefix.trim();
          return (
            <Paper
              key={route.key}
              withBorder
              p="sm"
              radius="md"
              component="fieldset"
              m={0}
              miw={0}
              aria-label={`Route ${index + 1}`}
              data-testid={`route-${index}`}
            >
              <Group gap="sm" align="flex-start" wrap="nowrap">
                <SimpleGrid cols={{ base: 1, sm: 3 }} spacing="sm" style={{ flex: 1 }}>
                  <TextInput
                    label="Path prefix"
                    placeholder="/payments"
                    maxLength={200}
                    {...form.getInputProps(`routes.${index}.path_prefix`)}
                  />
                  <TextInput
                    label="Upstream URL"
                    placeholder="https://payments.internal:8443"
                    maxLength={2000}
                    {...form.getInputProps(`routes.${index}.upstream_url`)}
                  />
                  <TextInput
                    label="Service"
                    placeholder={prefix.startsWith('/') ? defaultService(prefix) : 'From the prefix'}
                    maxLength={100}
                    {...form.getInputProps(`routes.${index}.service`)}
                  />
                </SimpleGrid>
                <Tooltip label="Remove this route" withArrow>
                  <ActionIcon
                    variant="subtle"
                    color="red"
                    mt={26}
                    onClick={() => form.removeListItem('routes', index)}
                    aria-label={`Remove route ${index + 1}${prefix ? ` (${prefix})` : ''}`}
                  >
                    <IconTrash size={16} aria-hidden />
                  </ActionIcon>
                </Tooltip>
              </Group>
            </Paper>
          );
        })}
        {save.error && !fieldError && (
          <Alert color="red" variant="light" title="The routes were not saved" role="alert">
            {save.error.message}
          </Alert>
        )}
        {fieldError && (
          <Text size="sm" c="red.8" role="alert">
            The routes were not saved: see the field marked above.
          </Text>
        )}
        <Group justify="space-between" gap="sm">
          <Button
            variant="default"
            leftSection={<IconPlus size={16} aria-hidden />}
            onClick={() =>
              form.insertListItem('routes', { key: newKey(), path_prefix: '', upstream_url: '', service: '' })
            }
            disabled={routes.length >= 100}
          >
            Add route
          </Button>
          <Group gap="sm">
            {form.isDirty() && (
              <Button variant="subtle" color="gray" onClick={() => form.reset()} disabled={save.isPending}>
                Discard changes
              </Button>
            )}
            <Button type="submit" loading={save.isPending} disabled={!form.isDirty()}>
              Save routes
            </Button>
          </Group>
        </Group>
      </Stack>
    </form>
  );
}
