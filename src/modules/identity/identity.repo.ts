import { and, count, desc, eq, gt, inArray, isNull, sql } from 'drizzle-orm';
import type { Database, Executor } from '../../db/client.ts';
import { preparedFor } from '../../db/prepared.ts';
import {
  apiTokens,
  emailLocks,
  loginAttempts,
  memberRoles,
  memberships,
  orgs,
  sessions,
  systemAccounts,
  teamMembers,
  teams,
  users,
} from '../../db/schema/index.ts';
import { fail } from '../../kernel/errors.ts';
import { hashSecret, newId, newSecret } from '../../kernel/ids.ts';
import { recordAudit } from '../audit/index.ts';
import { effectiveRoles, type OrgRole } from './identity.ts';

export type UserRow = typeof users.$inferSelect;
export type SessionRow = typeof sessions.$inferSelect;
export type TokenRow = typeof apiTokens.$inferSelect;

export async function findUserByEmail(executor: Executor, normalizedEmail: string) {
  const [row] = await executor.select().from(users).where(eq(users.email, normalizedEmail));
  return row;
}

export async function getUser(executor: Executor, userId: string): Promise<UserRow> {
  const [row] = await executor.select().from(users).where(eq(users.id, userId));
  if (!row) throw fail.notFound('user');
  return row;
}

export async function insertUser(
  executor: Executor,
  values: { email: string; passwordHash: string; fullName: string; staffRoles?: string[]; now: Date },
): Promise<UserRow> {
  const [row] = await executor
    .insert(users)
    .values({
      id: newId('usr'),
      email: values.email,
      passwordHash: values.passwordHash,
      fullName: values.fullName,
      staffRoles: values.staffRoles ?? [],
      createdAt: values.now,
    })
    .returning();
  return row;
}

export async function findEmailLock(executor: Executor, normalizedEmail: string) {
  const [row] = await executor.select().from(emailLocks).where(eq(emailLocks.email, normalizedEmail));
  return row;
}

/** Adds a user to an org with individual roles (idempotent per role). */
export async function addMember(
  executor: Executor,
  values: { orgId: string; userId: string; roles: readonly string[]; now: Date },
): Promise<void> {
  await executor
    .insert(memberships)
    .values({ orgId: values.orgId, userId: values.userId, createdAt: values.now })
    .onConflictDoNothing();
  if (values.roles.length) {
    await executor
      .insert(memberRoles)
      .values(values.roles.map((role) => ({ orgId: values.orgId, userId: values.userId, role })))
      .onConflictDoNothing();
  }
}

export async function individualRoles(executor: Executor, orgId: string, userId: string): Promise<string[]> {
  const rows = await executor
    .select({ role: memberRoles.role })
    .from(memberRoles)
    .where(and(eq(memberRoles.orgId, orgId), eq(memberRoles.userId, userId)));
  return rows.map((row) => row.role);
}

export async function teamRoles(executor: Executor, orgId: string, userId: string): Promise<string[]> {
  const rows = await executor
    .select({ roles: teams.roles })
    .from(teamMembers)
    .innerJoin(teams, and(eq(teams.orgId, teamMembers.orgId), eq(teams.id, teamMembers.teamId)))
    .where(and(eq(teamMembers.orgId, orgId), eq(teamMembers.userId, userId)));
  return rows.flatMap((row) => row.roles);
}

/** The user's effective roles in the org: individual plus inherited from teams. Empty when not a member. */
export async function rolesInOrg(executor: Executor, orgId: string, userId: string): Promise<OrgRole[]> {
  const [own, inherited] = await Promise.all([
    individualRoles(executor, orgId, userId),
    teamRoles(executor, orgId, userId),
  ]);
  return effectiveRoles(own, inherited);
}

/** Every org the user has joined (roles may have been removed by a deactivation), with its status. */
export async function listUserOrgs(executor: Executor, userId: string) {
  return executor
    .select({
      id: orgs.id,
      name: orgs.name,
      status: orgs.status,
      plan: orgs.plan,
      lastLoginAt: orgs.lastLoginAt,
      joinedAt: memberships.createdAt,
    })
    .from(memberships)
    .innerJoin(orgs, eq(orgs.id, memberships.orgId))
    .where(eq(memberships.userId, userId))
    .orderBy(desc(orgs.lastLoginAt), desc(memberships.createdAt));
}

export interface NewSession {
  token: string;
  session: SessionRow;
}

/** Starts a session: an org session for members, or a staff session (orgId null). */
export async function insertSession(
  executor: Executor,
  values: { userId: string; orgId: string | null; isStaff: boolean; now: Date; lifetimeSeconds: number },
): Promise<NewSession> {
  const token = newSecret('tls_sess');
  const [session] = await executor
    .insert(sessions)
    .values({
      id: newId('ses'),
      tokenHash: hashSecret(token),
      userId: values.userId,
      orgId: values.orgId,
      isStaff: values.isStaff,
      createdAt: values.now,
      lastSeenAt: values.now,
      expiresAt: new Date(values.now.getTime() + values.lifetimeSeconds * 1000),
    })
    .returning();
  return { token, session };
}

export async function findSessionByToken(executor: Executor, token: string) {
  const [row] = await executor
    .select()
    .from(sessions)
    .where(eq(sessions.tokenHash, hashSecret(token)));
  return row;
}

export async function endSession(executor: Executor, sessionId: string, now: Date) {
  await executor
    .update(sessions)
    .set({ endedAt: now })
    .where(and(eq(sessions.id, sessionId), isNull(sessions.endedAt)));
}

/** Ends every open session scoped to an org (deactivation). */
export async function endOrgSessions(executor: Executor, orgId: string, now: Date) {
  await executor
    .update(sessions)
    .set({ endedAt: now })
    .where(and(eq(sessions.orgId, orgId), isNull(sessions.endedAt)));
}

export async function touchSession(executor: Executor, sessionId: string, now: Date) {
  await executor.update(sessions).set({ lastSeenAt: now }).where(eq(sessions.id, sessionId));
}

/** Creates an API token (personal or system account); the secret is returned once. */
export async function insertApiToken(
  executor: Executor,
  values: {
    orgId: string;
    kind: 'personal' | 'system';
    userId: string | null;
    systemAccountId: string | null;
    name: string;
    expiresAt: Date | null;
    now: Date;
  },
): Promise<{ token: string; row: TokenRow }> {
  const token = newSecret(values.kind === 'personal' ? 'tlp' : 'tlsa');
  const [row] = await executor
    .insert(apiTokens)
    .values({
      id: newId('tok'),
      orgId: values.orgId,
      kind: values.kind,
      userId: values.userId,
      systemAccountId: values.systemAccountId,
      name: values.name,
      tokenHash: hashSecret(token),
      prefix: token.slice(0, 12),
      createdAt: values.now,
      expiresAt: values.expiresAt,
    })
    .returning();
  return { token, row };
}

/**
 * An API token with what authorizing its caller needs, in one statement: its org's status, and the
 * caller's roles before they are made effective (a personal token's user's individual and team
 * roles; a system account's roles, null when the account is gone).
 */
export async function findTokenCaller(executor: Executor, tokenHash: string) {
  const statement = preparedFor(executor, 'token_caller', (db) =>
    db
      .select({
        token: apiTokens,
        orgStatus: orgs.status,
        roles: sql<string[] | null>`case when ${apiTokens.kind} = 'personal' then array(
          select ${memberRoles.role} from ${memberRoles}
          where ${memberRoles.orgId} = ${apiTokens.orgId} and ${memberRoles.userId} = ${apiTokens.userId}
          union all
          select unnest(${teams.roles}) from ${teamMembers}
          join ${teams} on ${teams.orgId} = ${teamMembers.orgId} and ${teams.id} = ${teamMembers.teamId}
          where ${teamMembers.orgId} = ${apiTokens.orgId} and ${teamMembers.userId} = ${apiTokens.userId})
        else (select ${systemAccounts.roles} from ${systemAccounts}
          where ${systemAccounts.orgId} = ${apiTokens.orgId} and ${systemAccounts.id} = ${apiTokens.systemAccountId})
        end`,
      })
      .from(apiTokens)
      .leftJoin(orgs, eq(orgs.id, apiTokens.orgId))
      .where(eq(apiTokens.tokenHash, sql.placeholder('hash')))
      .prepare('token_caller'),
  );
  const [row] = await statement.execute({ hash: tokenHash });
  return row;
}

export async function findSystemAccount(executor: Executor, orgId: string, id: string) {
  const [row] = await executor
    .select()
    .from(systemAccounts)
    .where(and(eq(systemAccounts.orgId, orgId), eq(systemAccounts.id, id)));
  return row;
}

/** Failed logins since an instant, for one account key and for one address. */
export async function countRecentFailures(
  executor: Executor,
  values: { accountKey: string; address: string; since: Date },
) {
  const [perAccount] = await executor
    .select({ n: count() })
    .from(loginAttempts)
    .where(
      and(
        eq(loginAttempts.accountKey, values.accountKey),
        eq(loginAttempts.succeeded, false),
        gt(loginAttempts.at, values.since),
      ),
    );
  const [perAddress] = await executor
    .select({ n: count() })
    .from(loginAttempts)
    .where(
      and(
        eq(loginAttempts.address, values.address),
        eq(loginAttempts.succeeded, false),
        gt(loginAttempts.at, values.since),
      ),
    );
  return { perAccount: perAccount.n, perAddress: perAddress.n };
}

export async function recordLoginAttempt(
  executor: Executor,
  values: { accountKey: string; address: string; succeeded: boolean; now: Date },
) {
  await executor.insert(loginAttempts).values({
    id: newId('att'),
    accountKey: values.accountKey,
    address: values.address,
    succeeded: values.succeeded,
    at: values.now,
  });
}

/** The user's personal tokens in one org that are not revoked, newest first. */
export async function listPersonalTokens(executor: Executor, orgId: string, userId: string): Promise<TokenRow[]> {
  return executor
    .select()
    .from(apiTokens)
    .where(
      and(
        eq(apiTokens.orgId, orgId),
        eq(apiTokens.userId, userId),
        eq(apiTokens.kind, 'personal'),
        isNull(apiTokens.revokedAt),
      ),
    )
    .orderBy(desc(apiTokens.createdAt), desc(apiTokens.id));
}

/** Revokes one of the user's personal tokens in the org, with its audit event; a 404 when there is none. */
export async function revokePersonalToken(
  db: Database,
  now: Date,
  input: { orgId: string; userId: string; tokenId: string },
): Promise<void> {
  await db.transaction(async (tx) => {
    const [revoked] = await tx
      .update(apiTokens)
      .set({ revokedAt: now })
      .where(
        and(
          eq(apiTokens.id, input.tokenId),
          eq(apiTokens.orgId, input.orgId),
          eq(apiTokens.userId, input.userId),
          eq(apiTokens.kind, 'personal'),
          isNull(apiTokens.revokedAt),
        ),
      )
      .returning({ id: apiTokens.id, name: apiTokens.name });
    if (!revoked) throw fail.notFound('token');
    await recordAudit(tx, now, {
      orgId: input.orgId,
      actor: { type: 'user', id: input.userId },
      action: 'token.revoked',
      targetType: 'api_token',
      targetId: revoked.id,
      before: { name: revoked.name, kind: 'personal' },
    });
  });
}

/** Every user holding a staff role, newest first. */
export async function listStaffUsers(executor: Executor): Promise<UserRow[]> {
  return executor
    .select()
    .from(users)
    .where(sql`cardinality(${users.staffRoles}) > 0`)
    .orderBy(desc(users.createdAt), desc(users.id));
}

export type MembershipRow = typeof memberships.$inferSelect;
export type TeamRow = typeof teams.$inferSelect;
export type SystemAccountRow = typeof systemAccounts.$inferSelect;

/** The user's membership row in the org, if any. */
export async function findMembership(executor: Executor, orgId: string, userId: string) {
  const [row] = await executor
    .select()
    .from(memberships)
    .where(and(eq(memberships.orgId, orgId), eq(memberships.userId, userId)));
  return row;
}

/** The org's memberships with each user's email and name, newest first (optionally one user). */
export async function listMembershipsWithUsers(executor: Executor, orgId: string, userId?: string) {
  return executor
    .select({
      userId: memberships.userId,
      joinedAt: memberships.createdAt,
      email: users.email,
      fullName: users.fullName,
    })
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .where(and(eq(memberships.orgId, orgId), userId ? eq(memberships.userId, userId) : undefined))
    .orderBy(desc(memberships.createdAt), desc(memberships.userId));
}

/** Every individual role row of the org (optionally one user). */
export async function listOrgMemberRoles(executor: Executor, orgId: string, userId?: string) {
  return executor
    .select({ userId: memberRoles.userId, role: memberRoles.role })
    .from(memberRoles)
    .where(and(eq(memberRoles.orgId, orgId), userId ? eq(memberRoles.userId, userId) : undefined));
}

/** Every team membership of the org with the team's name and roles (optionally one user). */
export async function listOrgTeamMemberships(executor: Executor, orgId: string, userId?: string) {
  return executor
    .select({ userId: teamMembers.userId, teamId: teams.id, teamName: teams.name, roles: teams.roles })
    .from(teamMembers)
    .innerJoin(teams, and(eq(teams.orgId, teamMembers.orgId), eq(teams.id, teamMembers.teamId)))
    .where(and(eq(teamMembers.orgId, orgId), userId ? eq(teamMembers.userId, userId) : undefined))
    .orderBy(teams.name);
}

/** Replaces the user's individual roles in the org with exactly these. */
export async function replaceIndividualRoles(
  executor: Executor,
  orgId: string,
  userId: string,
  roles: readonly string[],
): Promise<void> {
  await executor.delete(memberRoles).where(and(eq(memberRoles.orgId, orgId), eq(memberRoles.userId, userId)));
  if (roles.length) {
    await executor.insert(memberRoles).values(roles.map((role) => ({ orgId, userId, role })));
  }
}

/** Removes one individual role of the user in the org (a no-op when absent). */
export async function removeIndividualRole(executor: Executor, orgId: string, userId: string, role: string) {
  await executor
    .delete(memberRoles)
    .where(and(eq(memberRoles.orgId, orgId), eq(memberRoles.userId, userId), eq(memberRoles.role, role)));
}

/** Deletes the user's membership in the org with its roles and team places. */
export async function deleteMembership(executor: Executor, orgId: string, userId: string): Promise<void> {
  await executor.delete(teamMembers).where(and(eq(teamMembers.orgId, orgId), eq(teamMembers.userId, userId)));
  await executor.delete(memberRoles).where(and(eq(memberRoles.orgId, orgId), eq(memberRoles.userId, userId)));
  await executor.delete(memberships).where(and(eq(memberships.orgId, orgId), eq(memberships.userId, userId)));
}

/** Ends the user's open sessions scoped to the org. */
export async function endUserOrgSessions(executor: Executor, orgId: string, userId: string, now: Date) {
  await executor
    .update(sessions)
    .set({ endedAt: now })
    .where(and(eq(sessions.orgId, orgId), eq(sessions.userId, userId), isNull(sessions.endedAt)));
}

/** Revokes the user's personal tokens in the org. */
export async function revokeUserOrgTokens(executor: Executor, orgId: string, userId: string, now: Date) {
  await executor
    .update(apiTokens)
    .set({ revokedAt: now })
    .where(and(eq(apiTokens.orgId, orgId), eq(apiTokens.userId, userId), isNull(apiTokens.revokedAt)));
}

/** Points the org's owner at another user; returns the updated org row. */
export async function setOrgOwner(executor: Executor, orgId: string, userId: string) {
  const [row] = await executor.update(orgs).set({ ownerUserId: userId }).where(eq(orgs.id, orgId)).returning();
  return row;
}

export async function insertTeam(
  executor: Executor,
  values: { orgId: string; name: string; roles: readonly string[]; now: Date },
): Promise<TeamRow> {
  const [row] = await executor
    .insert(teams)
    .values({
      id: newId('team'),
      orgId: values.orgId,
      name: values.name,
      roles: [...values.roles],
      createdAt: values.now,
    })
    .returning();
  return row;
}

/** The org's team by id; undefined for another org's team. */
export async function findTeam(executor: Executor, orgId: string, teamId: string) {
  const [row] = await executor
    .select()
    .from(teams)
    .where(and(eq(teams.orgId, orgId), eq(teams.id, teamId)));
  return row;
}

export async function findTeamByName(executor: Executor, orgId: string, name: string) {
  const [row] = await executor
    .select()
    .from(teams)
    .where(and(eq(teams.orgId, orgId), eq(teams.name, name)));
  return row;
}

/** The org's teams, newest first (optionally one team). */
export async function listTeamRows(executor: Executor, orgId: string, teamId?: string): Promise<TeamRow[]> {
  return executor
    .select()
    .from(teams)
    .where(and(eq(teams.orgId, orgId), teamId ? eq(teams.id, teamId) : undefined))
    .orderBy(desc(teams.createdAt), desc(teams.id));
}

/** The members of the org's teams with each user's email and name (optionally one team). */
export async function listTeamMemberUsers(executor: Executor, orgId: string, teamId?: string) {
  return executor
    .select({ teamId: teamMembers.teamId, userId: users.id, email: users.email, fullName: users.fullName })
    .from(teamMembers)
    .innerJoin(users, eq(users.id, teamMembers.userId))
    .where(and(eq(teamMembers.orgId, orgId), teamId ? eq(teamMembers.teamId, teamId) : undefined))
    .orderBy(users.email);
}

export async function updateTeam(
  executor: Executor,
  orgId: string,
  teamId: string,
  values: { name?: string; roles?: readonly string[] },
): Promise<TeamRow> {
  const [row] = await executor
    .update(teams)
    .set({
      ...(values.name !== undefined ? { name: values.name } : {}),
      ...(values.roles !== undefined ? { roles: [...values.roles] } : {}),
    })
    .where(and(eq(teams.orgId, orgId), eq(teams.id, teamId)))
    .returning();
  return row;
}

/** Deletes the org's team and its member rows. */
export async function deleteTeam(executor: Executor, orgId: string, teamId: string): Promise<void> {
  await executor.delete(teamMembers).where(and(eq(teamMembers.orgId, orgId), eq(teamMembers.teamId, teamId)));
  await executor.delete(teams).where(and(eq(teams.orgId, orgId), eq(teams.id, teamId)));
}

/** Adds the user to the team; returns false when already there. */
export async function insertTeamMember(executor: Executor, orgId: string, teamId: string, userId: string) {
  const rows = await executor
    .insert(teamMembers)
    .values({ orgId, teamId, userId })
    .onConflictDoNothing()
    .returning({ userId: teamMembers.userId });
  return rows.length > 0;
}

/** Removes the user from the team; returns false when not there. */
export async function deleteTeamMember(executor: Executor, orgId: string, teamId: string, userId: string) {
  const rows = await executor
    .delete(teamMembers)
    .where(and(eq(teamMembers.orgId, orgId), eq(teamMembers.teamId, teamId), eq(teamMembers.userId, userId)))
    .returning({ userId: teamMembers.userId });
  return rows.length > 0;
}

export async function insertSystemAccount(
  executor: Executor,
  values: { orgId: string; name: string; roles: readonly string[]; now: Date },
): Promise<SystemAccountRow> {
  const [row] = await executor
    .insert(systemAccounts)
    .values({
      id: newId('sa'),
      orgId: values.orgId,
      name: values.name,
      roles: [...values.roles],
      createdAt: values.now,
    })
    .returning();
  return row;
}

/** The org's system accounts, newest first. */
export async function listSystemAccountRows(executor: Executor, orgId: string): Promise<SystemAccountRow[]> {
  return executor
    .select()
    .from(systemAccounts)
    .where(eq(systemAccounts.orgId, orgId))
    .orderBy(desc(systemAccounts.createdAt), desc(systemAccounts.id));
}

/** The org's system account tokens that are not revoked, newest first (optionally of one account). */
export async function listSystemTokens(executor: Executor, orgId: string, systemAccountId?: string) {
  return executor
    .select()
    .from(apiTokens)
    .where(
      and(
        eq(apiTokens.orgId, orgId),
        eq(apiTokens.kind, 'system'),
        systemAccountId ? eq(apiTokens.systemAccountId, systemAccountId) : undefined,
        isNull(apiTokens.revokedAt),
      ),
    )
    .orderBy(desc(apiTokens.createdAt), desc(apiTokens.id));
}

/** Deletes the org's system account and revokes all of its tokens. */
export async function deleteSystemAccount(executor: Executor, orgId: string, systemAccountId: string, now: Date) {
  await executor
    .update(apiTokens)
    .set({ revokedAt: now })
    .where(
      and(eq(apiTokens.orgId, orgId), eq(apiTokens.systemAccountId, systemAccountId), isNull(apiTokens.revokedAt)),
    );
  await executor
    .delete(systemAccounts)
    .where(and(eq(systemAccounts.orgId, orgId), eq(systemAccounts.id, systemAccountId)));
}

/** Revokes one token of the org's system account; returns it, or undefined when there is none. */
export async function revokeSystemToken(
  executor: Executor,
  orgId: string,
  systemAccountId: string,
  tokenId: string,
  now: Date,
) {
  const [row] = await executor
    .update(apiTokens)
    .set({ revokedAt: now })
    .where(
      and(
        eq(apiTokens.id, tokenId),
        eq(apiTokens.orgId, orgId),
        eq(apiTokens.kind, 'system'),
        eq(apiTokens.systemAccountId, systemAccountId),
        isNull(apiTokens.revokedAt),
      ),
    )
    .returning();
  return row;
}

/** The emails of each org's owner and org admins (individual or through a team): who billing mail goes to. */
export async function listAdminEmailsByOrg(
  executor: Executor,
  orgIds: readonly string[],
): Promise<Map<string, string[]>> {
  const byOrg = new Map<string, Set<string>>(orgIds.map((id) => [id, new Set<string>()]));
  if (orgIds.length === 0) return new Map();
  const direct = await executor
    .selectDistinct({ orgId: memberRoles.orgId, email: users.email })
    .from(memberRoles)
    .innerJoin(users, eq(users.id, memberRoles.userId))
    .where(and(inArray(memberRoles.orgId, [...orgIds]), inArray(memberRoles.role, ['owner', 'org_admin'])));
  const viaTeams = await executor
    .selectDistinct({ orgId: teamMembers.orgId, email: users.email })
    .from(teamMembers)
    .innerJoin(teams, and(eq(teams.orgId, teamMembers.orgId), eq(teams.id, teamMembers.teamId)))
    .innerJoin(users, eq(users.id, teamMembers.userId))
    .where(and(inArray(teamMembers.orgId, [...orgIds]), sql`'org_admin' = any(${teams.roles})`));
  for (const row of [...direct, ...viaTeams]) byOrg.get(row.orgId)?.add(row.email);
  return new Map([...byOrg].map(([id, emails]) => [id, [...emails].sort()]));
}

/** The emails of the org's owner and org admins. */
export async function listAdminEmails(executor: Executor, orgId: string): Promise<string[]> {
  return (await listAdminEmailsByOrg(executor, [orgId])).get(orgId) ?? [];
}
