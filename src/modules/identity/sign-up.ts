import type { Database } from '../../db/client.ts';
import { AppError, fail } from '../../kernel/errors.ts';
import { recordAudit } from '../audit/index.ts';
import { insertOrg, recordOrgLogin, validateOrgName } from '../organizations/index.ts';
import { addMember, findEmailLock, findUserByEmail, insertSession, insertUser } from './identity.repo.ts';
import { isValidEmail, normalizeEmail, passwordProblem, SESSION_LIMITS } from './identity.ts';
import { hashPassword, verifyPassword } from './passwords.ts';

export interface SignUpInput {
  email: string;
  password: string;
  fullName: string;
  orgName: string;
}

const emailTaken = () =>
  fail.conflict(
    'email_taken',
    'An account with this email exists. Log in, or sign up with its password to open another organization.',
  );

/**
 * Sign-up (spec 9): a new user with a new org, or, with an existing user's email and password,
 * another org owned by that user. Creates the owner role and control plane and logs the user in.
 */
export async function signUp(db: Database, now: Date, input: SignUpInput) {
  const email = normalizeEmail(input.email);
  if (!isValidEmail(email)) throw fail.validation('email', 'The email address is not valid.');
  if (await findEmailLock(db, email)) {
    throw fail.conflict(
      'email_locked',
      'This email is locked because its organization was deactivated. Contact support.',
    );
  }
  const problem = passwordProblem(input.password);
  if (problem) throw fail.validation('password', problem);
  const fullName = input.fullName.trim();
  if (!fullName || fullName.length > 200)
    throw fail.validation('full_name', 'The full name must have 1 to 200 characters.');
  const orgProblem = validateOrgName(input.orgName);
  if (orgProblem) throw fail.validation('org_name', orgProblem);

  const existing = await findUserByEmail(db, email);
  if (existing && !(await verifyPassword(input.password, existing.passwordHash))) throw emailTaken();
  const passwordHash = existing ? existing.passwordHash : await hashPassword(input.password);

  try {
    return await db.transaction(async (tx) => {
      if (await findEmailLock(tx, email)) {
        throw fail.conflict(
          'email_locked',
          'This email is locked because its organization was deactivated. Contact support.',
        );
      }
      const user = existing ?? (await insertUser(tx, { email, passwordHash, fullName, now }));
      const org = await insertOrg(tx, { name: input.orgName.trim(), email, ownerUserId: user.id, now });
      await addMember(tx, { orgId: org.id, userId: user.id, roles: ['owner'], now });
      await recordOrgLogin(tx, { orgId: org.id, userId: user.id, method: 'signup', now });
      const actor = { type: 'user' as const, id: user.id };
      if (!existing) {
        await recordAudit(tx, now, {
          orgId: org.id,
          actor,
          action: 'user.created',
          targetType: 'user',
          targetId: user.id,
          after: { email },
        });
      }
      await recordAudit(tx, now, {
        orgId: org.id,
        actor,
        action: 'org.created',
        targetType: 'org',
        targetId: org.id,
        after: { name: org.name, email: org.email, owner_user_id: user.id },
      });
      const session = await insertSession(tx, {
        userId: user.id,
        orgId: org.id,
        isStaff: false,
        now,
        lifetimeSeconds: SESSION_LIMITS.absoluteSeconds,
      });
      return { user, org, session, roles: ['owner'] as const };
    });
  } catch (error) {
    if (!(error instanceof AppError) && isUniqueViolation(error)) throw emailTaken();
    throw error;
  }
}

/** PostgreSQL's unique_violation, whichever driver raised it. */
export function isUniqueViolation(error: unknown): boolean {
  let current: unknown = error;
  while (current && typeof current === 'object') {
    if ((current as { code?: string }).code === '23505') return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}
