import type { Database, Executor } from '../../db/client.ts';
import { fail } from '../../kernel/errors.ts';
import { type Actor, recordAudit } from '../audit/index.ts';
import { lockActiveOrg } from '../organizations/index.ts';
import {
  deleteTeamMember,
  deleteTeam as deleteTeamRows,
  findMembership,
  findTeam,
  findTeamByName,
  insertTeam,
  insertTeamMember,
  listTeamMemberUsers,
  listTeamRows,
  type TeamRow,
  updateTeam as updateTeamRow,
} from './identity.repo.ts';
import { grantableRolesOf } from './members.ts';

/** A team with its members, who inherit its roles. */
export interface Team extends TeamRow {
  members: { userId: string; email: string; fullName: string }[];
}

const nameTaken = () => fail.conflict('team_name_taken', 'The organization already has a team with this name.');

/** Team names are trimmed and have 1 to 100 characters. */
function teamNameOf(name: string): string {
  const trimmed = name.trim();
  if (!trimmed || trimmed.length > 100) throw fail.validation('name', 'The team name must have 1 to 100 characters.');
  return trimmed;
}

async function loadTeams(executor: Executor, orgId: string, teamId?: string): Promise<Team[]> {
  const [rows, members] = await Promise.all([
    listTeamRows(executor, orgId, teamId),
    listTeamMemberUsers(executor, orgId, teamId),
  ]);
  return rows.map((row) => ({
    ...row,
    members: members
      .filter((member) => member.teamId === row.id)
      .map((member) => ({ userId: member.userId, email: member.email, fullName: member.fullName })),
  }));
}

async function getTeam(executor: Executor, orgId: string, teamId: string): Promise<Team> {
  const [team] = await loadTeams(executor, orgId, teamId);
  if (!team) throw fail.notFound('team');
  return team;
}

/** The org's teams with their members, newest first. */
export async function listTeams(executor: Executor, orgId: string): Promise<Team[]> {
  return loadTeams(executor, orgId);
}

/** Creates a team whose members inherit its roles; names are unique in the org. */
export async function createTeam(
  db: Database,
  now: Date,
  input: { orgId: string; actor: Actor; name: string; roles: readonly string[] },
): Promise<Team> {
  const name = teamNameOf(input.name);
  const roles = grantableRolesOf(input.roles);
  // The org lock serializes team changes, so the name check cannot race.
  return db.transaction(async (tx) => {
    await lockActiveOrg(tx, input.orgId);
    if (await findTeamByName(tx, input.orgId, name)) throw nameTaken();
    const row = await insertTeam(tx, { orgId: input.orgId, name, roles, now });
    await recordAudit(tx, now, {
      orgId: input.orgId,
      actor: input.actor,
      action: 'team.created',
      targetType: 'team',
      targetId: row.id,
      after: { name, roles },
    });
    return { ...row, members: [] };
  });
}

/** Renames a team and/or replaces its roles; its members' access changes with it. */
export async function updateTeam(
  db: Database,
  now: Date,
  input: { orgId: string; actor: Actor; teamId: string; name?: string; roles?: readonly string[] },
): Promise<Team> {
  if (input.name === undefined && input.roles === undefined) {
    throw fail.validation('name', 'Give a new name, new roles, or both.');
  }
  const name = input.name === undefined ? undefined : teamNameOf(input.name);
  const roles = input.roles === undefined ? undefined : grantableRolesOf(input.roles);
  // The org lock serializes team changes, so the name check cannot race.
  return db.transaction(async (tx) => {
    await lockActiveOrg(tx, input.orgId);
    const before = await findTeam(tx, input.orgId, input.teamId);
    if (!before) throw fail.notFound('team');
    if (name !== undefined && name !== before.name && (await findTeamByName(tx, input.orgId, name))) {
      throw nameTaken();
    }
    await updateTeamRow(tx, input.orgId, input.teamId, { name, roles });
    await recordAudit(tx, now, {
      orgId: input.orgId,
      actor: input.actor,
      action: 'team.updated',
      targetType: 'team',
      targetId: before.id,
      before: { name: before.name, roles: before.roles },
      after: { name: name ?? before.name, roles: roles ?? before.roles },
    });
    return getTeam(tx, input.orgId, input.teamId);
  });
}

/** Deletes a team; its members lose the roles it granted. */
export async function deleteTeam(
  db: Database,
  now: Date,
  input: { orgId: string; actor: Actor; teamId: string },
): Promise<void> {
  await db.transaction(async (tx) => {
    await lockActiveOrg(tx, input.orgId);
    const team = await getTeam(tx, input.orgId, input.teamId);
    await deleteTeamRows(tx, input.orgId, input.teamId);
    await recordAudit(tx, now, {
      orgId: input.orgId,
      actor: input.actor,
      action: 'team.deleted',
      targetType: 'team',
      targetId: team.id,
      before: { name: team.name, roles: team.roles, member_ids: team.members.map((member) => member.userId) },
    });
  });
}

/** Puts an org member in a team (idempotent); the member inherits the team's roles. */
export async function addTeamMember(
  db: Database,
  now: Date,
  input: { orgId: string; actor: Actor; teamId: string; userId: string },
): Promise<Team> {
  return db.transaction(async (tx) => {
    await lockActiveOrg(tx, input.orgId);
    if (!(await findTeam(tx, input.orgId, input.teamId))) throw fail.notFound('team');
    if (!(await findMembership(tx, input.orgId, input.userId))) throw fail.notFound('member');
    if (await insertTeamMember(tx, input.orgId, input.teamId, input.userId)) {
      await recordAudit(tx, now, {
        orgId: input.orgId,
        actor: input.actor,
        action: 'team.member_added',
        targetType: 'team',
        targetId: input.teamId,
        after: { user_id: input.userId },
      });
    }
    return getTeam(tx, input.orgId, input.teamId);
  });
}

/** Takes a member out of a team; the member loses the roles inherited from it. */
export async function removeTeamMember(
  db: Database,
  now: Date,
  input: { orgId: string; actor: Actor; teamId: string; userId: string },
): Promise<void> {
  await db.transaction(async (tx) => {
    await lockActiveOrg(tx, input.orgId);
    if (!(await findTeam(tx, input.orgId, input.teamId))) throw fail.notFound('team');
    if (!(await deleteTeamMember(tx, input.orgId, input.teamId, input.userId))) throw fail.notFound('team member');
    await recordAudit(tx, now, {
      orgId: input.orgId,
      actor: input.actor,
      action: 'team.member_removed',
      targetType: 'team',
      targetId: input.teamId,
      before: { user_id: input.userId },
    });
  });
}

/** The team as the API shows it (snake_case). */
export function presentTeam(team: Team) {
  return {
    id: team.id,
    org_id: team.orgId,
    name: team.name,
    roles: team.roles,
    members: team.members.map((member) => ({
      user_id: member.userId,
      email: member.email,
      full_name: member.fullName,
    })),
    created_at: team.createdAt.toISOString(),
  };
}
