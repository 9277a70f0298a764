import { and, desc, eq, inArray, isNull, sql } from 'drizzle-orm';
import { inIds } from '../../db/bulk.ts';
import type { Executor } from '../../db/client.ts';
import { afterCursor, type Cursor } from '../../db/pagination.ts';
import {
  emailLocks,
  invitations,
  memberRoles,
  memberships,
  orgs,
  sessions,
  systemAccounts,
  teamMembers,
  teams,
} from '../../db/schema/index.ts';
import { newId } from '../../kernel/ids.ts';

/** What deactivation removed from one org, kept in its audit event so reactivation can restore it. */
export interface OrgAccessSnapshot {
  roles: Array<{ user_id: string; role: string }>;
  teams: Array<{ team_id: string; user_id: string }>;
  system_accounts: Array<{ id: string; roles: string[] }>;
}

const emptySnapshot = (): OrgAccessSnapshot => ({ roles: [], teams: [], system_accounts: [] });

type Rows<T> = { rows: T[] };

/**
 * Removes every individual role, team membership and system-account role in the orgs (spec 8.4);
 * memberships stay, so a login into the org can still be answered with org_deactivated. Returns what
 * was removed, per org.
 */
export async function removeOrgsAccess(
  executor: Executor,
  orgIds: readonly string[],
): Promise<Map<string, OrgAccessSnapshot>> {
  const snapshots = new Map(orgIds.map((id) => [id, emptySnapshot()]));
  if (orgIds.length === 0) return snapshots;
  const ids = [...orgIds];
  const roles = await executor
    .delete(memberRoles)
    .where(inArray(memberRoles.orgId, ids))
    .returning({ orgId: memberRoles.orgId, userId: memberRoles.userId, role: memberRoles.role });
  // Org ids as one JSON parameter: with a thousand-value IN list the planner scans the whole table.
  const teamRows = await executor
    .delete(teamMembers)
    .where(inIds(teamMembers.orgId, ids))
    .returning({ orgId: teamMembers.orgId, teamId: teamMembers.teamId, userId: teamMembers.userId });
  const accounts = (await executor.execute(sql`
    update system_accounts s set roles = '{}'
    from (select org_id, id, roles from system_accounts
          where ${inIds(sql`org_id`, ids)} and cardinality(roles) > 0
          for update) old
    where s.org_id = old.org_id and s.id = old.id
    returning s.org_id, s.id, old.roles`)) as unknown as Rows<{ org_id: string; id: string; roles: string[] }>;
  for (const row of roles) snapshots.get(row.orgId)?.roles.push({ user_id: row.userId, role: row.role });
  for (const row of teamRows) snapshots.get(row.orgId)?.teams.push({ team_id: row.teamId, user_id: row.userId });
  for (const row of accounts.rows) snapshots.get(row.org_id)?.system_accounts.push({ id: row.id, roles: row.roles });
  for (const snapshot of snapshots.values()) {
    snapshot.roles.sort((a, b) => a.user_id.localeCompare(b.user_id) || a.role.localeCompare(b.role));
    snapshot.teams.sort((a, b) => a.team_id.localeCompare(b.team_id) || a.user_id.localeCompare(b.user_id));
    snapshot.system_accounts.sort((a, b) => a.id.localeCompare(b.id));
  }
  return snapshots;
}

/**
 * Gives back what a snapshot holds, for the members, teams and system accounts that still exist.
 * Returns what was restored.
 */
export async function restoreOrgAccess(
  executor: Executor,
  orgId: string,
  snapshot: OrgAccessSnapshot,
): Promise<OrgAccessSnapshot> {
  const restored = emptySnapshot();
  const members = new Set(
    (await executor.select({ userId: memberships.userId }).from(memberships).where(eq(memberships.orgId, orgId))).map(
      (row) => row.userId,
    ),
  );
  const roles = snapshot.roles.filter((entry) => members.has(entry.user_id));
  if (roles.length) {
    restored.roles = (
      await executor
        .insert(memberRoles)
        .values(roles.map((entry) => ({ orgId, userId: entry.user_id, role: entry.role })))
        .onConflictDoNothing()
        .returning({ user_id: memberRoles.userId, role: memberRoles.role })
    ).map((row) => ({ user_id: row.user_id, role: row.role }));
  }
  const liveTeams = new Set(
    (await executor.select({ id: teams.id }).from(teams).where(eq(teams.orgId, orgId))).map((row) => row.id),
  );
  const teamRows = snapshot.teams.filter((entry) => liveTeams.has(entry.team_id) && members.has(entry.user_id));
  if (teamRows.length) {
    restored.teams = (
      await executor
        .insert(teamMembers)
        .values(teamRows.map((entry) => ({ orgId, teamId: entry.team_id, userId: entry.user_id })))
        .onConflictDoNothing()
        .returning({ team_id: teamMembers.teamId, user_id: teamMembers.userId })
    ).map((row) => ({ team_id: row.team_id, user_id: row.user_id }));
  }
  for (const account of snapshot.system_accounts) {
    const [row] = await executor
      .update(systemAccounts)
      .set({ roles: account.roles })
      .where(and(eq(systemAccounts.orgId, orgId), eq(systemAccounts.id, account.id)))
      .returning({ id: systemAccounts.id, roles: systemAccounts.roles });
    if (row) restored.system_accounts.push(row);
  }
  return restored;
}

/** Ends every open session scoped to the orgs (deactivation). */
export async function endOrgsSessions(executor: Executor, orgIds: readonly string[], now: Date): Promise<number> {
  if (orgIds.length === 0) return 0;
  const ended = await executor
    .update(sessions)
    .set({ endedAt: now })
    .where(and(inArray(sessions.orgId, [...orgIds]), isNull(sessions.endedAt)))
    .returning({ id: sessions.id });
  return ended.length;
}

/** Revokes the orgs' pending invitations: nobody can join a deactivated org. */
export async function revokeOrgsInvitations(executor: Executor, orgIds: readonly string[]): Promise<number> {
  if (orgIds.length === 0) return 0;
  const revoked = await executor
    .update(invitations)
    .set({ status: 'revoked' })
    .where(and(inIds(invitations.orgId, orgIds), eq(invitations.status, 'pending')))
    .returning({ id: invitations.id });
  return revoked.length;
}

export type EmailLockRow = typeof emailLocks.$inferSelect;

/** Locks each org's email (spec 8.5); a lock is kept per org, so lifting one org's leaves the others. */
export async function lockOrgEmails(
  executor: Executor,
  locks: ReadonlyArray<{ email: string; orgId: string }>,
  reason: string,
  now: Date,
): Promise<void> {
  if (locks.length === 0) return;
  await executor
    .insert(emailLocks)
    .values(locks.map((lock) => ({ id: newId('elk'), email: lock.email, orgId: lock.orgId, reason, createdAt: now })))
    .onConflictDoNothing();
}

/** Lifts the lock an org's deactivation put on its email (reactivation). */
export async function unlockOrgEmail(executor: Executor, orgId: string): Promise<EmailLockRow[]> {
  return executor.delete(emailLocks).where(eq(emailLocks.orgId, orgId)).returning();
}

/** Lifts every lock on an email (support); the orgs stay as they are. */
export async function unlockEmail(executor: Executor, email: string): Promise<EmailLockRow[]> {
  return executor.delete(emailLocks).where(eq(emailLocks.email, email)).returning();
}

/** Email locks, newest first, with the name of the org that holds each; optionally of one email. */
export async function listEmailLocks(
  executor: Executor,
  values: { limit: number; cursor?: Cursor; email?: string },
): Promise<Array<EmailLockRow & { orgName: string | null }>> {
  const rows = await executor
    .select({ lock: emailLocks, orgName: orgs.name })
    .from(emailLocks)
    .leftJoin(orgs, eq(orgs.id, emailLocks.orgId))
    .where(
      and(
        values.email ? eq(emailLocks.email, values.email) : undefined,
        afterCursor(emailLocks.createdAt, emailLocks.id, values.cursor),
      ),
    )
    .orderBy(desc(emailLocks.createdAt), desc(emailLocks.id))
    .limit(values.limit);
  return rows.map((row) => ({ ...row.lock, orgName: row.orgName }));
}

/** The locks an org's deactivation put on its email (still in place). */
export async function listOrgEmailLocks(executor: Executor, orgId: string): Promise<EmailLockRow[]> {
  return executor.select().from(emailLocks).where(eq(emailLocks.orgId, orgId));
}
