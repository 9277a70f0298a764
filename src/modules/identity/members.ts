import type { Database, Executor } from '../../db/client.ts';
import { fail } from '../../kernel/errors.ts';
import { type Actor, recordAudit } from '../audit/index.ts';
import { lockActiveOrg } from '../organizations/index.ts';
import {
  addMember,
  deleteMembership,
  endUserOrgSessions,
  findMembership,
  listMembershipsWithUsers,
  listOrgMemberRoles,
  listOrgTeamMemberships,
  removeIndividualRole,
  replaceIndividualRoles,
  revokeUserOrgTokens,
  setOrgOwner,
} from './identity.repo.ts';
import { effectiveRoles, GRANTABLE_ROLES, type GrantableRole, type OrgRole } from './identity.ts';

/** A member as the team API shows it: individual, team-inherited and effective roles. */
export interface Member {
  userId: string;
  email: string;
  fullName: string;
  joinedAt: Date;
  roles: OrgRole[];
  teamRoles: OrgRole[];
  effectiveRoles: OrgRole[];
  teams: { id: string; name: string }[];
}

/** Dedupes granted roles into catalog order; anything but org_admin, org_admin_read_only, member is a 400. */
export function grantableRolesOf(roles: readonly string[], field = 'roles'): GrantableRole[] {
  const wanted = new Set(roles);
  if (wanted.size === 0 || [...wanted].some((role) => !(GRANTABLE_ROLES as readonly string[]).includes(role))) {
    throw fail.validation(field, 'Give one or more of org_admin, org_admin_read_only, member.');
  }
  return GRANTABLE_ROLES.filter((role) => wanted.has(role));
}

async function loadMembers(executor: Executor, orgId: string, userId?: string): Promise<Member[]> {
  const [rows, roleRows, teamRows] = await Promise.all([
    listMembershipsWithUsers(executor, orgId, userId),
    listOrgMemberRoles(executor, orgId, userId),
    listOrgTeamMemberships(executor, orgId, userId),
  ]);
  return rows.map((row) => {
    const own = roleRows.filter((entry) => entry.userId === row.userId).map((entry) => entry.role);
    const joined = teamRows.filter((entry) => entry.userId === row.userId);
    const inherited = joined.flatMap((entry) => entry.roles);
    return {
      userId: row.userId,
      email: row.email,
      fullName: row.fullName,
      joinedAt: row.joinedAt,
      roles: effectiveRoles(own, []),
      teamRoles: effectiveRoles([], inherited),
      effectiveRoles: effectiveRoles(own, inherited),
      teams: joined.map((entry) => ({ id: entry.teamId, name: entry.teamName })),
    };
  });
}

async function getMember(executor: Executor, orgId: string, userId: string): Promise<Member> {
  const [member] = await loadMembers(executor, orgId, userId);
  if (!member) throw fail.notFound('member');
  return member;
}

/** Every member of the org with individual, team and effective roles, newest first. */
export async function listMembers(executor: Executor, orgId: string): Promise<Member[]> {
  return loadMembers(executor, orgId);
}

/** Replaces a member's individual roles; the owner keeps `owner`, which only moves by owner transfer. */
export async function setMemberRoles(
  db: Database,
  now: Date,
  input: { orgId: string; actor: Actor; userId: string; roles: readonly string[] },
): Promise<Member> {
  const granted = grantableRolesOf(input.roles);
  return db.transaction(async (tx) => {
    await lockActiveOrg(tx, input.orgId);
    const before = await getMember(tx, input.orgId, input.userId);
    const roles = before.roles.includes('owner') ? ['owner' as const, ...granted] : granted;
    await replaceIndividualRoles(tx, input.orgId, input.userId, roles);
    await recordAudit(tx, now, {
      orgId: input.orgId,
      actor: input.actor,
      action: 'member.roles_changed',
      targetType: 'user',
      targetId: input.userId,
      before: { roles: before.roles },
      after: { roles },
    });
    return getMember(tx, input.orgId, input.userId);
  });
}

/** Removes a member (not the owner) with its roles and team places; its sessions and tokens in the org end. */
export async function removeMember(
  db: Database,
  now: Date,
  input: { orgId: string; actor: Actor; userId: string },
): Promise<void> {
  await db.transaction(async (tx) => {
    const org = await lockActiveOrg(tx, input.orgId);
    const member = await getMember(tx, input.orgId, input.userId);
    if (org.ownerUserId === input.userId || member.roles.includes('owner')) {
      throw fail.conflict('owner_cannot_be_removed', 'The owner cannot be removed. Transfer ownership first.');
    }
    await deleteMembership(tx, input.orgId, input.userId);
    await endUserOrgSessions(tx, input.orgId, input.userId, now);
    await revokeUserOrgTokens(tx, input.orgId, input.userId, now);
    await recordAudit(tx, now, {
      orgId: input.orgId,
      actor: input.actor,
      action: 'member.removed',
      targetType: 'user',
      targetId: input.userId,
      before: { roles: member.roles, team_ids: member.teams.map((team) => team.id) },
    });
  });
}

/** Moves ownership to another member; only the current owner may, and keeps org_admin afterwards. */
export async function transferOwnership(
  db: Database,
  now: Date,
  input: { orgId: string; actor: Actor; callerUserId: string | null; newOwnerUserId: string },
) {
  return db.transaction(async (tx) => {
    const org = await lockActiveOrg(tx, input.orgId);
    if (!input.callerUserId || org.ownerUserId !== input.callerUserId) {
      throw fail.forbidden('owner_required', 'Only the current owner can transfer ownership.');
    }
    if (!(await findMembership(tx, input.orgId, input.newOwnerUserId))) throw fail.notFound('member');
    if (input.newOwnerUserId === org.ownerUserId) {
      throw fail.conflict('already_owner', 'This member already owns the organization.');
    }
    const previousOwnerId = org.ownerUserId;
    await removeIndividualRole(tx, input.orgId, previousOwnerId, 'owner');
    await addMember(tx, { orgId: input.orgId, userId: previousOwnerId, roles: ['org_admin'], now });
    await addMember(tx, { orgId: input.orgId, userId: input.newOwnerUserId, roles: ['owner'], now });
    const updated = await setOrgOwner(tx, input.orgId, input.newOwnerUserId);
    await recordAudit(tx, now, {
      orgId: input.orgId,
      actor: input.actor,
      action: 'org.owner_transferred',
      targetType: 'org',
      targetId: input.orgId,
      before: { owner_user_id: previousOwnerId },
      after: { owner_user_id: input.newOwnerUserId },
    });
    return {
      org: updated,
      owner: await getMember(tx, input.orgId, input.newOwnerUserId),
      previousOwner: await getMember(tx, input.orgId, previousOwnerId),
    };
  });
}

/** The member as the API shows it (snake_case). */
export function presentMember(member: Member) {
  return {
    user_id: member.userId,
    email: member.email,
    full_name: member.fullName,
    joined_at: member.joinedAt.toISOString(),
    roles: member.roles,
    team_roles: member.teamRoles,
    effective_roles: member.effectiveRoles,
    teams: member.teams,
  };
}
