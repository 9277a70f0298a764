import type { Database } from '../../db/client.ts';
import { AppError, fail } from '../../kernel/errors.ts';
import { recordAudit } from '../audit/index.ts';
import { lockOrg, orgDeactivated, recordOrgLogin } from '../organizations/index.ts';
import {
  countRecentFailures,
  findUserByEmail,
  insertSession,
  listUserOrgs,
  recordLoginAttempt,
  rolesInOrg,
} from './identity.repo.ts';
import { LOGIN_LIMITS, normalizeEmail, SESSION_LIMITS } from './identity.ts';
import { DUMMY_HASH_PROMISE, verifyPassword } from './passwords.ts';

export interface LogInInput {
  email: string;
  password: string;
  orgId?: string;
  address: string;
}

/**
 * Logs a user into one org (or a staff member into the console when no org is named). Failures are
 * throttled per account and per address; every login into an org is recorded and moves last_login_at.
 */
export async function logIn(db: Database, now: Date, input: LogInInput) {
  const email = normalizeEmail(input.email);
  const since = new Date(now.getTime() - LOGIN_LIMITS.windowSeconds * 1000);
  const failures = await countRecentFailures(db, { accountKey: email, address: input.address, since });
  if (failures.perAccount >= LOGIN_LIMITS.perAccount || failures.perAddress >= LOGIN_LIMITS.perAddress) {
    throw fail.tooMany('Too many failed logins. Wait a few minutes and try again.', LOGIN_LIMITS.windowSeconds);
  }

  const user = await findUserByEmail(db, email);
  const valid = await verifyPassword(input.password, user?.passwordHash ?? (await DUMMY_HASH_PROMISE));
  if (!user || !valid) {
    await db.transaction(async (tx) => {
      await recordLoginAttempt(tx, { accountKey: email, address: input.address, succeeded: false, now });
      await recordAudit(tx, now, {
        orgId: null,
        actor: { type: 'anonymous', id: null },
        action: 'auth.login_failed',
        targetType: 'user',
        targetId: user?.id ?? null,
        after: { email, address: input.address, known_user: Boolean(user) },
      });
    });
    throw new AppError(401, 'invalid_credentials', 'The email or password is not right.');
  }

  if (!input.orgId && user.staffRoles.length > 0) {
    return db.transaction(async (tx) => {
      await recordLoginAttempt(tx, { accountKey: email, address: input.address, succeeded: true, now });
      await recordAudit(tx, now, {
        orgId: null,
        actor: { type: 'staff', id: user.id },
        action: 'auth.login',
        targetType: 'user',
        targetId: user.id,
        after: { console: true, address: input.address },
      });
      const session = await insertSession(tx, {
        userId: user.id,
        orgId: null,
        isStaff: true,
        now,
        lifetimeSeconds: SESSION_LIMITS.absoluteSeconds,
      });
      return { user, org: null, roles: [], session };
    });
  }

  const orgId = await chooseOrg(db, user.id, input.orgId);
  return db.transaction(async (tx) => {
    // The org row is locked first, as deactivation locks it: a login racing a deactivation either
    // finishes before it (and its session is ended by it) or sees the org deactivated.
    const org = await lockOrg(tx, orgId);
    if (org.status !== 'active') throw orgDeactivated();
    const roles = await rolesInOrg(tx, orgId, user.id);
    if (roles.length === 0) throw fail.notFound('organization');
    await recordLoginAttempt(tx, { accountKey: email, address: input.address, succeeded: true, now });
    await recordOrgLogin(tx, { orgId, userId: user.id, method: 'password', now });
    await recordAudit(tx, now, {
      orgId,
      actor: { type: 'user', id: user.id },
      action: 'auth.login',
      targetType: 'user',
      targetId: user.id,
      after: { address: input.address },
    });
    const session = await insertSession(tx, {
      userId: user.id,
      orgId,
      isStaff: false,
      now,
      lifetimeSeconds: SESSION_LIMITS.absoluteSeconds,
    });
    return { user, orgId, roles, session };
  });
}

/** The org to log into: the named one, else the user's most recently used active org. */
async function chooseOrg(db: Database, userId: string, requested: string | undefined): Promise<string> {
  const joined = await listUserOrgs(db, userId);
  if (requested) {
    const org = joined.find((candidate) => candidate.id === requested);
    if (!org) throw fail.notFound('organization');
    if (org.status !== 'active') throw orgDeactivated();
    return org.id;
  }
  for (const org of joined) {
    if (org.status === 'active' && (await rolesInOrg(db, org.id, userId)).length > 0) return org.id;
  }
  if (joined.length > 0) throw orgDeactivated();
  throw fail.forbidden('no_organization', 'This account has no organization. Sign up to create one.');
}
