import { and, count, desc, eq, gt, isNull } from 'drizzle-orm';
import type { Executor } from '../../db/client.ts';
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
    .innerJoin(teams, eq(teams.id, teamMembers.teamId))
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

export async function findApiToken(executor: Executor, token: string) {
  const [row] = await executor
    .select()
    .from(apiTokens)
    .where(eq(apiTokens.tokenHash, hashSecret(token)));
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
