import { Button, Card, Group, Stack, Text, Title } from '@mantine/core';
import { IconUserPlus } from '@tabler/icons-react';
import { useEffect, useState } from 'react';
import { canManageOrg, canReadOrgAdmin } from '../access.ts';
import { NoAdminAccess } from '../components/NoAdminAccess.tsx';
import { RoleBadges } from '../components/RoleBadges.tsx';
import { InvitationsCard, InviteModal } from '../components/team/InvitationsCard.tsx';
import { MembersCard } from '../components/team/MembersCard.tsx';
import { TeamsCard } from '../components/team/TeamsCard.tsx';
import { useMember } from '../queries.ts';

/** Team: members and their roles, teams, invitations. Owners and admins change them; read-only admins see them. */
export function TeamPage() {
  const member = useMember()!;
  const orgId = member.org.id;
  const canRead = canReadOrgAdmin(member.roles);
  const canManage = canManageOrg(member.roles);
  const [isInviting, setInviting] = useState(false);

  useEffect(() => {
    document.title = 'Team · Tierline';
  }, []);

  return (
    <Stack gap="lg">
      <Group justify="space-between" align="flex-end" gap="sm">
        <div style={{ flex: '1 1 420px' }}>
          <Title order={1}>Team</Title>
          <Text c="dimmed" size="sm">
            The people of {member.org.name}, their roles, their teams and the invitations sent.
          </Text>
        </div>
        {canManage && (
          <Button leftSection={<IconUserPlus size={16} aria-hidden />} onClick={() => setInviting(true)}>
            Invite member
          </Button>
        )}
      </Group>
      {canRead ? (
        <>
          <MembersCard orgId={orgId} orgName={member.org.name} canManage={canManage} currentUserId={member.user.id} />
          <TeamsCard orgId={orgId} canManage={canManage} />
          <InvitationsCard orgId={orgId} canManage={canManage} />
        </>
      ) : (
        <>
          <Card withBorder padding="lg" radius="lg" component="section" aria-labelledby="your-roles-title">
            <Stack gap="xs">
              <Title order={2} size="h3" id="your-roles-title">
                Your roles
              </Title>
              <RoleBadges roles={member.roles} />
            </Stack>
          </Card>
          <NoAdminAccess what="members, teams and invitations" roles={member.roles} orgName={member.org.name} />
        </>
      )}
      {canManage && isInviting && (
        <InviteModal orgId={orgId} orgName={member.org.name} opened={isInviting} onClose={() => setInviting(false)} />
      )}
    </Stack>
  );
}
