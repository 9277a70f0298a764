import {
  Alert,
  Badge,
  Button,
  Card,
  Chip,
  Group,
  Modal,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
  VisuallyHidden,
} from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { IconMailForward } from '@tabler/icons-react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, fieldError, type GrantableRole, type Invitation, type InvitationStatus, orgPath } from '../../api.ts';
import { formatDate, formatDateTime } from '../../format.ts';
import { useInvitations } from '../../queries.ts';
import { ConfirmModal } from '../ConfirmModal.tsx';
import { RoleBadges } from '../RoleBadges.tsx';
import { RolesField } from '../RolesField.tsx';
import { ErrorState, PageLoader } from '../States.tsx';

const STATUS: Record<InvitationStatus, { label: string; color: string }> = {
  pending: { label: 'Pending', color: 'blue' },
  accepted: { label: 'Accepted', color: 'green' },
  expired: { label: 'Expired', color: 'gray' },
  revoked: { label: 'Revoked', color: 'red' },
};

type Filter = 'all' | InvitationStatus;

/** Invitations sent from this org: pending, accepted, expired and revoked; admins revoke pending ones. */
export function InvitationsCard({ orgId, canManage }: { orgId: string; canManage: boolean }) {
  const invitations = useInvitations(orgId);
  const [filter, setFilter] = useState<Filter>('all');
  const [revoking, setRevoking] = useState<Invitation | null>(null);
  const all = invitations.data?.data ?? [];
  const count = (status: InvitationStatus) => all.filter((invitation) => invitation.status === status).length;
  const shown = filter === 'all' ? all : all.filter((invitation) => invitation.status === filter);

  return (
    <Card withBorder padding="lg" radius="lg" component="section" aria-labelledby="invitations-title">
      <Stack gap="md">
        <Group justify="space-between" align="flex-start" gap="sm">
          <div style={{ flex: '1 1 280px' }}>
            <Title order={2} size="h3" id="invitations-title">
              Invitations
            </Title>
            <Text size="sm" c="dimmed">
              An invitation is emailed with a link and expires after 7 days.
            </Text>
          </div>
          {all.length > 0 && (
            <Chip.Group value={filter} onChange={(value) => setFilter(value as Filter)}>
              <Group gap={6} role="radiogroup" aria-label="Show invitations">
                {(
                  [
                    ['all', `All (${all.length})`],
                    ['pending', `Pending (${count('pending')})`],
                    ['accepted', `Accepted (${count('accepted')})`],
                    ['expired', `Expired (${count('expired')})`],
                    ...(count('revoked') > 0 ? [['revoked', `Revoked (${count('revoked')})`]] : []),
                  ] as [Filter, string][]
                ).map(([value, label]) => (
                  <Chip key={value} value={value} size="xs" variant="outline">
                    {label}
                  </Chip>
                ))}
              </Group>
            </Chip.Group>
          )}
        </Group>
        {invitations.error ? (
          <ErrorState error={invitations.error} onRetry={() => void invitations.refetch()} />
        ) : !invitations.data ? (
          <PageLoader label="Loading invitations" />
        ) : shown.length === 0 ? (
          <Text size="sm" c="dimmed">
            {all.length === 0 ? 'No invitations sent yet.' : 'No invitations with this status.'}
          </Text>
        ) : (
          <Table.ScrollContainer minWidth={680}>
            <Table verticalSpacing="sm">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th scope="col">Email</Table.Th>
                  <Table.Th scope="col">Roles</Table.Th>
                  <Table.Th scope="col">Status</Table.Th>
                  <Table.Th scope="col">Sent</Table.Th>
                  <Table.Th scope="col">Expires or accepted</Table.Th>
                  {canManage && (
                    <Table.Th scope="col">
                      <VisuallyHidden>Actions</VisuallyHidden>
                    </Table.Th>
                  )}
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {shown.map((invitation) => (
                  <Table.Tr key={invitation.id} data-testid={`invitation-${invitation.email}`}>
                    <Table.Td>
                      <Text size="sm" fw={600}>
                        {invitation.email}
                      </Text>
                    </Table.Td>
                    <Table.Td>
                      <RoleBadges roles={invitation.roles} />
                    </Table.Td>
                    <Table.Td style={{ whiteSpace: 'nowrap' }}>
                      <Badge color={STATUS[invitation.status].color} variant="dot" tt="none" size="md">
                        {STATUS[invitation.status].label}
                      </Badge>
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm">{formatDate(invitation.created_at)}</Text>
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm">
                        {invitation.status === 'accepted' && invitation.accepted_at
                          ? `Accepted ${formatDate(invitation.accepted_at)}`
                          : invitation.status === 'pending'
                            ? `Expires ${formatDateTime(invitation.expires_at)}`
                            : invitation.status === 'expired'
                              ? `Expired ${formatDate(invitation.expires_at)}`
                              : '—'}
                      </Text>
                    </Table.Td>
                    {canManage && (
                      <Table.Td style={{ textAlign: 'right' }}>
                        {invitation.status === 'pending' && (
                          <Button
                            variant="subtle"
                            color="red"
                            size="compact-sm"
                            onClick={() => setRevoking(invitation)}
                            aria-label={`Revoke the invitation of ${invitation.email}`}
                          >
                            Revoke
                          </Button>
                        )}
                      </Table.Td>
                    )}
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </Stack>
      {revoking && <RevokeModal orgId={orgId} invitation={revoking} onClose={() => setRevoking(null)} />}
    </Card>
  );
}

function RevokeModal({ orgId, invitation, onClose }: { orgId: string; invitation: Invitation; onClose: () => void }) {
  const queryClient = useQueryClient();
  const revoke = useMutation({
    mutationFn: () => api('DELETE', orgPath(orgId, `/invitations/${encodeURIComponent(invitation.id)}`)),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ['org', orgId, 'invitations'] });
      notifications.show({ color: 'green', title: 'Invitation revoked', message: `Sent to ${invitation.email}.` });
      onClose();
    },
  });
  return (
    <ConfirmModal
      opened
      onClose={onClose}
      title={`Revoke the invitation of ${invitation.email}?`}
      confirmLabel="Revoke invitation"
      onConfirm={() => revoke.mutate()}
      isPending={revoke.isPending}
      error={revoke.error}
    >
      <Text size="sm">The link in the email stops working at once. You can invite the same address again later.</Text>
    </ConfirmModal>
  );
}

/** Invite by email with roles: the API emails the link; the token never reaches this page. */
export function InviteModal({
  orgId,
  orgName,
  opened,
  onClose,
}: {
  orgId: string;
  orgName: string;
  opened: boolean;
  onClose: () => void;
}) {
  const queryClient = useQueryClient();
  const [email, setEmail] = useState('');
  const [roles, setRoles] = useState<GrantableRole[]>(['member']);
  const [touched, setTouched] = useState(false);
  const invite = useMutation({
    mutationFn: () => api<Invitation>('POST', orgPath(orgId, '/invitations'), { email: email.trim(), roles }),
    onSuccess: async (invitation) => {
      await queryClient.invalidateQueries({ queryKey: ['org', orgId, 'invitations'] });
      notifications.show({
        color: 'green',
        title: 'Invitation sent',
        message: `${invitation.email} can join ${orgName} until ${formatDateTime(invitation.expires_at)}.`,
      });
      close();
    },
  });
  // The page mounts this only while it is open, so every invitation starts from a blank form.
  const close = onClose;
  const emailError =
    touched && !/^\S+@\S+\.\S+$/.test(email.trim())
      ? 'Enter the email address to invite.'
      : fieldError(invite.error, 'email', ['already_member', 'email_locked']);
  const rolesError = touched && roles.length === 0 ? 'Choose at least one role.' : fieldError(invite.error, 'roles');
  const otherError = invite.error && !emailError && !rolesError;
  return (
    <Modal
      opened={opened}
      onClose={close}
      title={<Text fw={700}>Invite a member to {orgName}</Text>}
      centered
      size="lg"
    >
      <form
        onSubmit={(event) => {
          event.preventDefault();
          setTouched(true);
          if (/^\S+@\S+\.\S+$/.test(email.trim()) && roles.length > 0) invite.mutate();
        }}
        noValidate
      >
        <Stack gap="md">
          <TextInput
            label="Email"
            type="email"
            placeholder="colleague@example.com"
            value={email}
            onChange={(event) => setEmail(event.currentTarget.value)}
            error={emailError}
            data-autofocus
          />
          <RolesField value={roles} onChange={setRoles} error={rolesError} />
          {otherError && (
            <Alert color="red" variant="light" title="The invitation was not sent" role="alert">
              {invite.error?.message}
            </Alert>
          )}
          <Group justify="flex-end" gap="sm">
            <Button variant="default" onClick={close} disabled={invite.isPending}>
              Cancel
            </Button>
            <Button type="submit" loading={invite.isPending} leftSection={<IconMailForward size={16} aria-hidden />}>
              Send invitation
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
