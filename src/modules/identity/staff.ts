import { eq, sql } from 'drizzle-orm';
import type { Database } from '../../db/client.ts';
import { users } from '../../db/schema/index.ts';
import { fail } from '../../kernel/errors.ts';
import { newId } from '../../kernel/ids.ts';
import { recordAudit } from '../audit/index.ts';
import { findUserByEmail, insertUser } from './identity.repo.ts';
import { isValidEmail, normalizeEmail, passwordProblem, STAFF_ROLES } from './identity.ts';
import { hashPassword } from './passwords.ts';

/**
 * Creates the admin staff user from the environment, or gives an existing user the admin role. Several
 * processes may start at once with the same variables: the insert gives way to a user made meanwhile,
 * and the role is added in one statement.
 */
export async function ensureAdminStaff(db: Database, now: Date, email: string, password: string) {
  const normalized = normalizeEmail(email);
  if (!(await findUserByEmail(db, normalized))) {
    await db
      .insert(users)
      .values({
        id: newId('usr'),
        email: normalized,
        passwordHash: await hashPassword(password),
        fullName: 'Administrator',
        staffRoles: ['admin'],
        createdAt: now,
      })
      .onConflictDoNothing({ target: users.email });
  }
  const [user] = await db
    .update(users)
    .set({
      staffRoles: sql`case when 'admin' = any(${users.staffRoles}) then ${users.staffRoles} else array_append(${users.staffRoles}, 'admin') end`,
    })
    .where(eq(users.email, normalized))
    .returning({ id: users.id });
  return user.id;
}

/**
 * An admin creates a staff member (support, sales or admin); with no `actorId`, an operator does it
 * from the command line.
 */
export async function createStaffMember(
  db: Database,
  now: Date,
  input: { actorId: string | null; email: string; password: string; fullName: string; roles: string[] },
) {
  const email = normalizeEmail(input.email);
  if (!isValidEmail(email)) throw fail.validation('email', 'The email address is not valid.');
  const problem = passwordProblem(input.password);
  if (problem) throw fail.validation('password', problem);
  const roles = [...new Set(input.roles)].filter((role) => (STAFF_ROLES as readonly string[]).includes(role));
  if (roles.length === 0) throw fail.validation('roles', 'Give at least one staff role: support, sales or admin.');
  if (await findUserByEmail(db, email)) throw fail.conflict('email_taken', 'A user with this email exists.');
  const passwordHash = await hashPassword(input.password);
  return db.transaction(async (tx) => {
    const user = await insertUser(tx, { email, passwordHash, fullName: input.fullName.trim(), staffRoles: roles, now });
    await recordAudit(tx, now, {
      orgId: null,
      actor: input.actorId ? { type: 'staff', id: input.actorId } : { type: 'system', id: null },
      action: 'staff.created',
      targetType: 'user',
      targetId: user.id,
      after: { email, staff_roles: roles },
    });
    return user;
  });
}
