import { Alert, Badge, Button, Card, Group, Modal, Stack, Table, Text, Title, VisuallyHidden } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { IconTrash, IconUserCog } from '@tabler/icons-react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { ROLE_LABELS } from '../../access.ts';
import { api, type GrantableRole, type Member, orgPath } from '../../api.ts';
import { formatDate } from '../../format.ts';
import { useMembers } from '../../queries.ts';
import { ConfirmModal } from '../ConfirmModal.tsx';
import { RoleBadges } from '../RoleBadges.tsx';
import { RolesField } from '../RolesField.tsx';
import { ErrorState, PageLoader } from '../States.tsx';

/** Members with their individual, team-inherited and effective roles; admins change roles and remove members. */
export function MembersCard({
  orgId,
  orgName,
  canManage,
  currentUserId,
}: {
  orgId: string;
  orgName: string;
  canManage: boolean;
  currentUserId: string;
}) {
  const members = useMembers(orgId);
  const [editing, setEditing] = useState<Member | null>(null);
  const [removing, setRemoving] = useState<Member | null>(null);

  return (
    <Card withBorder padding="lg" radius="lg" component="section" aria-labelledby="members-title">
      <Stack gap="md">
        <div>
          <Title order={2} size="h3" id="members-title">
            Members
          </Title>
          <Text size="sm" c="dimmed">
            Each member’s own roles, the roles they inherit from their teams, and the sum of both, which decides what
            they can do.
          </Text>
        </div>
        {members.error ? (
          <ErrorState error={members.error} onRetry={() => void members.refetch()} />
        ) : !members.data ? (
          <PageLoader label="Loading members" />
        ) : (
          <Table.ScrollContainer minWidth={860}>
            <Table verticalSpacing="sm" highlightOnHover>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th scope="col">Member</Table.Th>
                  <Table.Th scope="col">Own roles</Table.Th>
                  <Table.Th scope="col">From teams</Table.Th>
                  <Table.Th scope="col">Effective roles</Table.Th>
                  <Table.Th scope="col">Joined</Table.Th>
                  {canManage && (
                    <Table.Th scope="col">
                      <VisuallyHidden>Actions</VisuallyHidden>
                    </Table.Th>
                  )}
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {members.data.data.map((member) => {
                  const isOwner = member.roles.includes('owner');
                  return (
                    <Table.Tr key={member.user_id} data-testid={`member-${member.email}`}>
                      <Table.Td>
                        <Group gap={6} wrap="nowrap">
                          <Text size="sm" fw={600}>
                            {member.full_name}
                          </Text>
                          {member.user_id === currentUserId && (
                            <Badge size="xs" variant="outline" color="gray" tt="none">
                              You
                            </Badge>
                          )}
                        </Group>
                        <Text size="xs" c="dimmed">
                          {member.email}
                        </Text>
                      </Table.Td>
                      <Table.Td data-column="own">
                        <RoleBadges roles={member.roles} />
                      </Table.Td>
                      <Table.Td data-column="teams">
                        <RoleBadges roles={member.team_roles} />
                        {member.teams.length > 0 && (
                          <Text size="xs" c="dimmed" mt={4}>
                            Through {member.teams.map((team) => team.name).join(', ')}
                          </Text>
                        )}
                      </Table.Td>
                      <Table.Td data-column="effective">
                        <RoleBadges roles={member.effective_roles} empty="No roles" />
                      </Table.Td>
                      <Table.Td>
                        <Text size="sm">{formatDate(member.joined_at)}</Text>
                      </Table.Td>
                      {canManage && (
                        <Table.Td>
                          <Group gap={4} justify="flex-end" wrap="nowrap">
                            <Button
                              variant="subtle"
                              size="compact-sm"
                              leftSection={<IconUserCog size={14} aria-hidden />}
                              onClick={() => setEditing(member)}
                              aria-label={`Change roles of ${member.full_name}`}
                            >
                              Roles
                            </Button>
                            {!isOwner && (
                              <Button
                                variant="subtle"
                                color="red"
                                size="compact-sm"
                                leftSection={<IconTrash size={14} aria-hidden />}
                                onClick={() => setRemoving(member)}
                                aria-label={`Remove ${member.full_name}`}
                              >
                                Remove
                              </Button>
                            )}
                          </Group>
                        </Table.Td>
                      )}
                    </Table.Tr>
                  );
                })}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </Stack>
      {editing && (
        <EditRolesModal
          orgId={orgId}
          member={editing}
          isSelf={editing.user_id === currentUserId}
          onClose={() => setEditing(null)}
        />
      )}
      {removing && (
        <RemoveMemberModal orgId={orgId} orgName={orgName} member={removing} onClose={() => setRemoving(null)} />
      )}
    </Card>
  );
}

function EditRolesModal({
  orgId,
  member,
  isSelf,
  onClose,
}: {
  orgId: string;
  member: Member;
  isSelf: boolean;
  onClose: () => void;
}) {
  const queryClient = useQueryClient();
  const isOwner = member.roles.includes('owner');
  const [roles, setRoles] = useState<GrantableRole[]>(
    member.roles.filter((role) => role !== 'owner') as GrantableRole[],
  );
  const [touched, setTouched] = useState(false);
  const save = useMutation({
    mutationFn: () =>
      api<Member>('PUT', orgPath(orgId, `/members/${encodeURIComponent(member.user_id)}/roles`), { roles }),
    onSuccess: async (updated) => {
      await queryClient.invalidateQueries({ queryKey: ['org', orgId] });
      if (isSelf) await queryClient.invalidateQueries({ queryKey: ['me'] });
      notifications.show({
        color: 'green',
        title: 'Roles changed',
        message: `${updated.full_name}: ${updated.effective_roles.map((role) => ROLE_LABELS[role]).join(', ')}.`,
      });
      onClose();
    },
  });
  const losesAdmin = isSelf && !isOwner && !roles.includes('org_admin') && !member.team_roles.includes('org_admin');
  return (
    <Modal opened onClose={onClose} title={<Text fw={700}>Roles of {member.full_name}</Text>} centered size="lg">
      <form
        onSubmit={(event) => {
          event.preventDefault();
          setTouched(true);
          if (roles.length > 0) save.mutate();
        }}
        noValidate
      >
        <Stack gap="md">
          {isOwner && (
            <Alert color="grape" variant="light">
              {member.full_name} owns the organization and keeps the Owner role; it moves only by an ownership transfer.
              The roles below come in addition.
            </Alert>
          )}
          <RolesField
            label="Own roles"
            value={roles}
            onChange={setRoles}
            error={touched && roles.length === 0 ? 'Choose at least one role.' : undefined}
          />
          {member.team_roles.length > 0 && (
            <Text size="sm" c="dimmed">
              Inherited from {member.teams.map((team) => team.name).join(', ')} as well:{' '}
              {member.team_roles.map((role) => ROLE_LABELS[role]).join(', ')}. Change those on the team.
            </Text>
          )}
          {losesAdmin && (
            <Alert color="orange" variant="light" role="alert">
              These are your own roles: without Admin you can no longer change members, teams or runtimes.
            </Alert>
          )}
          {save.error && (
            <Alert color="red" variant="light" title="The roles were not changed" role="alert">
              {save.error.message}
            </Alert>
          )}
          <Group justify="flex-end" gap="sm">
            <Button variant="default" onClick={onClose} disabled={save.isPending}>
              Cancel
            </Button>
            <Button type="submit" loading={save.isPending}>
              Save roles
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

function RemoveMemberModal({
  orgId,
  orgName,
  member,
  onClose,
}: {
  orgId: string;
  orgName: string;
  member: Member;
  onClose: () => void;
}) {
  const queryClient = useQueryClient();
  const remove = useMutation({
    mutationFn: () => api('DELETE', orgPath(orgId, `/members/${encodeURIComponent(member.user_id)}`)),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ['org', orgId] });
      notifications.show({ color: 'green', title: 'Member removed', message: `${member.full_name} left ${orgName}.` });
      onClose();
    },
  });
  return (
    <ConfirmModal
      opened
      onClose={onClose}
      title={`Remove ${member.full_name} from ${orgName}?`}
      confirmLabel="Remove member"
      onConfirm={() => remove.mutate()}
      isPending={remove.isPending}
      error={remove.error}
    >
      <Text size="sm">
        {member.full_name} ({member.email}) loses every role and team place in {orgName} at once, and their sessions and
        personal tokens in it end. Their Tierline account and their other organizations are not affected. You can invite
        them again later.
      </Text>
    </ConfirmModal>
  );
}
