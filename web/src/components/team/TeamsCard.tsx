import {
  Alert,
  Button,
  Card,
  Group,
  Modal,
  NativeSelect,
  Paper,
  Pill,
  Stack,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { IconPencil, IconPlus, IconTrash, IconUsersGroup } from '@tabler/icons-react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, fieldError, type GrantableRole, type Member, orgPath, type Team } from '../../api.ts';
import { useMembers, useTeams } from '../../queries.ts';
import { ConfirmModal } from '../ConfirmModal.tsx';
import { RoleBadges } from '../RoleBadges.tsx';
import { RolesField } from '../RolesField.tsx';
import { ErrorState, PageLoader } from '../States.tsx';

/** Teams: named groups whose members inherit the team's roles. Admins create, rename, set roles and fill them. */
export function TeamsCard({ orgId, canManage }: { orgId: string; canManage: boolean }) {
  const teams = useTeams(orgId);
  const members = useMembers(orgId);
  const [editing, setEditing] = useState<Team | 'new' | null>(null);
  const [deleting, setDeleting] = useState<Team | null>(null);

  return (
    <Card withBorder padding="lg" radius="lg" component="section" aria-labelledby="teams-title">
      <Stack gap="md">
        <Group justify="space-between" align="flex-start" gap="sm">
          <div style={{ flex: '1 1 320px' }}>
            <Title order={2} size="h3" id="teams-title">
              Teams
            </Title>
            <Text size="sm" c="dimmed">
              Members of a team inherit its roles, in addition to their own.
            </Text>
          </div>
          {canManage && (
            <Button
              variant="default"
              leftSection={<IconPlus size={16} aria-hidden />}
              onClick={() => setEditing('new')}
            >
              Create team
            </Button>
          )}
        </Group>
        {teams.error ? (
          <ErrorState error={teams.error} onRetry={() => void teams.refetch()} />
        ) : !teams.data ? (
          <PageLoader label="Loading teams" />
        ) : teams.data.data.length === 0 ? (
          <Stack align="center" gap={6} py="md">
            <IconUsersGroup size={32} stroke={1.4} color="var(--mantine-color-gray-6)" aria-hidden />
            <Text fw={600}>No teams yet</Text>
            <Text size="sm" c="dimmed" ta="center" maw={440}>
              A team gives its roles to everyone in it, for example read-only access for a finance team.
            </Text>
          </Stack>
        ) : (
          teams.data.data.map((team) => (
            <TeamRow
              key={team.id}
              orgId={orgId}
              team={team}
              members={members.data?.data ?? []}
              canManage={canManage}
              onEdit={() => setEditing(team)}
              onDelete={() => setDeleting(team)}
            />
          ))
        )}
      </Stack>
      {editing && (
        <TeamModal orgId={orgId} team={editing === 'new' ? null : editing} onClose={() => setEditing(null)} />
      )}
      {deleting && <DeleteTeamModal orgId={orgId} team={deleting} onClose={() => setDeleting(null)} />}
    </Card>
  );
}

function TeamRow({
  orgId,
  team,
  members,
  canManage,
  onEdit,
  onDelete,
}: {
  orgId: string;
  team: Team;
  members: Member[];
  canManage: boolean;
  onEdit: () => void;
  onDelete: () => void;
}) {
  const queryClient = useQueryClient();
  const [candidate, setCandidate] = useState('');
  const outside = members.filter((member) => !team.members.some((inTeam) => inTeam.user_id === member.user_id));
  const teamPath = `/teams/${encodeURIComponent(team.id)}/members/`;
  const add = useMutation({
    mutationFn: (userId: string) => api<Team>('PUT', orgPath(orgId, `${teamPath}${encodeURIComponent(userId)}`)),
    onSuccess: async () => {
      setCandidate('');
      await queryClient.invalidateQueries({ queryKey: ['org', orgId] });
    },
    onError: (error) => notifications.show({ color: 'red', title: 'Not added', message: error.message }),
  });
  const remove = useMutation({
    mutationFn: (userId: string) => api('DELETE', orgPath(orgId, `${teamPath}${encodeURIComponent(userId)}`)),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['org', orgId] }),
    onError: (error) => notifications.show({ color: 'red', title: 'Not removed', message: error.message }),
  });
  const headingId = `team-${team.id}-name`;

  return (
    <Paper
      withBorder
      radius="md"
      p="md"
      component="article"
      aria-labelledby={headingId}
      data-testid={`team-${team.name}`}
    >
      <Stack gap="sm">
        <Group justify="space-between" align="flex-start" gap="sm">
          <Group gap="sm" align="center">
            <Title order={3} size="h4" id={headingId}>
              {team.name}
            </Title>
            <RoleBadges roles={team.roles} />
          </Group>
          {canManage && (
            <Group gap={4}>
              <Button
                variant="subtle"
                size="compact-sm"
                leftSection={<IconPencil size={14} aria-hidden />}
                onClick={onEdit}
                aria-label={`Edit team ${team.name}`}
              >
                Edit
              </Button>
              <Button
                variant="subtle"
                color="red"
                size="compact-sm"
                leftSection={<IconTrash size={14} aria-hidden />}
                onClick={onDelete}
                aria-label={`Delete team ${team.name}`}
              >
                Delete
              </Button>
            </Group>
          )}
        </Group>
        {team.members.length === 0 ? (
          <Text size="sm" c="dimmed">
            Nobody is in this team yet.
          </Text>
        ) : (
          <Group
            gap={6}
            component="ul"
            p={0}
            m={0}
            style={{ listStyle: 'none' }}
            aria-label={`Members of ${team.name}`}
          >
            {team.members.map((member) => (
              <li key={member.user_id}>
                <Pill
                  size="md"
                  withRemoveButton={canManage}
                  onRemove={() => remove.mutate(member.user_id)}
                  // Mantine hides the remove button from the keyboard and screen readers (it is made for inputs): here it is the control.
                  removeButtonProps={{
                    tabIndex: 0,
                    'aria-hidden': false,
                    'aria-label': `Remove ${member.full_name} from ${team.name}`,
                  }}
                  title={member.email}
                >
                  {member.full_name}
                </Pill>
              </li>
            ))}
          </Group>
        )}
        {canManage && outside.length > 0 && (
          <Group
            component="form"
            gap="xs"
            align="flex-end"
            onSubmit={(event) => {
              event.preventDefault();
              if (candidate) add.mutate(candidate);
            }}
          >
            <NativeSelect
              aria-label={`Add a member to ${team.name}`}
              value={candidate}
              onChange={(event) => setCandidate(event.currentTarget.value)}
              data={[
                { value: '', label: 'Choose a member to add…' },
                ...outside.map((member) => ({ value: member.user_id, label: `${member.full_name} (${member.email})` })),
              ]}
              size="xs"
              style={{ flex: '1 1 240px', maxWidth: 360 }}
            />
            <Button type="submit" size="xs" variant="default" disabled={!candidate} loading={add.isPending}>
              Add to team
            </Button>
          </Group>
        )}
      </Stack>
    </Paper>
  );
}

function TeamModal({ orgId, team, onClose }: { orgId: string; team: Team | null; onClose: () => void }) {
  const queryClient = useQueryClient();
  const [name, setName] = useState(team?.name ?? '');
  const [roles, setRoles] = useState<GrantableRole[]>(team?.roles ?? ['member']);
  const [touched, setTouched] = useState(false);
  const save = useMutation({
    mutationFn: () =>
      team
        ? api<Team>('PATCH', orgPath(orgId, `/teams/${encodeURIComponent(team.id)}`), {
            name: name.trim(),
            roles,
          })
        : api<Team>('POST', orgPath(orgId, '/teams'), { name: name.trim(), roles }),
    onSuccess: async (saved) => {
      await queryClient.invalidateQueries({ queryKey: ['org', orgId] });
      notifications.show({
        color: 'green',
        title: team ? 'Team saved' : 'Team created',
        message: team ? `${saved.name} is up to date.` : `${saved.name} is ready: add its members.`,
      });
      onClose();
    },
  });
  const nameError =
    touched && !name.trim() ? 'Give the team a name.' : fieldError(save.error, 'name', ['team_name_taken']);
  const rolesError = touched && roles.length === 0 ? 'Choose at least one role.' : fieldError(save.error, 'roles');
  const otherError =
    save.error && !fieldError(save.error, 'name', ['team_name_taken']) && !fieldError(save.error, 'roles');
  return (
    <Modal
      opened
      onClose={onClose}
      title={<Text fw={700}>{team ? `Edit ${team.name}` : 'Create a team'}</Text>}
      centered
      size="lg"
    >
      <form
        onSubmit={(event) => {
          event.preventDefault();
          setTouched(true);
          if (name.trim() && roles.length > 0) save.mutate();
        }}
        noValidate
      >
        <Stack gap="md">
          <TextInput
            label="Name"
            placeholder="Finance"
            maxLength={100}
            value={name}
            onChange={(event) => setName(event.currentTarget.value)}
            error={nameError}
            data-autofocus
          />
          <RolesField label="Roles its members inherit" value={roles} onChange={setRoles} error={rolesError} />
          {otherError && (
            <Alert color="red" variant="light" title="The team was not saved" role="alert">
              {save.error?.message}
            </Alert>
          )}
          <Group justify="flex-end" gap="sm">
            <Button variant="default" onClick={onClose} disabled={save.isPending}>
              Cancel
            </Button>
            <Button type="submit" loading={save.isPending}>
              {team ? 'Save team' : 'Create team'}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

function DeleteTeamModal({ orgId, team, onClose }: { orgId: string; team: Team; onClose: () => void }) {
  const queryClient = useQueryClient();
  const remove = useMutation({
    mutationFn: () => api('DELETE', orgPath(orgId, `/teams/${encodeURIComponent(team.id)}`)),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ['org', orgId] });
      notifications.show({ color: 'green', title: 'Team deleted', message: `${team.name} is gone.` });
      onClose();
    },
  });
  return (
    <ConfirmModal
      opened
      onClose={onClose}
      title={`Delete ${team.name}?`}
      confirmLabel="Delete team"
      onConfirm={() => remove.mutate()}
      isPending={remove.isPending}
      error={remove.error}
    >
      <Text size="sm">
        Its {team.members.length === 1 ? 'member loses' : `${team.members.length} members lose`} the roles it gave them;
        their own roles stay. The members stay in the organization.
      </Text>
    </ConfirmModal>
  );
}
