import { and, desc, eq } from 'drizzle-orm';
import type { Database, Executor, Transaction } from '../../db/client.ts';
import { invitations } from '../../db/schema/index.ts';
import type { DueItem } from '../../jobs/runner.ts';
import { scheduleDue } from '../../jobs/runner.ts';
import { addDays } from '../../kernel/calendar.ts';
import { AppError, fail } from '../../kernel/errors.ts';
import { hashSecret, newId, newSecret } from '../../kernel/ids.ts';
import { type Actor, recordAudit } from '../audit/index.ts';
import { queueEmail } from '../notifications/index.ts';
import { getOrg, lockOrg, orgDeactivated, recordOrgLogin } from '../organizations/index.ts';
import { addMember, findUserByEmail, insertSession, insertUser, rolesInOrg } from './identity.repo.ts';
import {
  GRANTABLE_ROLES,
  INVITATION_TTL_DAYS,
  isValidEmail,
  normalizeEmail,
  passwordProblem,
  SESSION_LIMITS,
} from './identity.ts';
import { hashPassword, verifyPassword } from './passwords.ts';

export const INVITATION_EXPIRY = 'invitation_expiry';
export type InvitationRow = typeof invitations.$inferSelect;

export function presentInvitation(row: InvitationRow) {
  return {
    id: row.id,
    org_id: row.orgId,
    email: row.email,
    roles: row.roles,
    status: row.status,
    invited_by: row.invitedBy,
    created_at: row.createdAt.toISOString(),
    expires_at: row.expiresAt.toISOString(),
    accepted_at: row.acceptedAt?.toISOString() ?? null,
  };
}

/** Invites an email into the org with roles; the link goes to the outbox, expiry is due work. */
export async function inviteMember(
  db: Database,
  now: Date,
  input: { orgId: string; actor: Actor; email: string; roles: string[] },
) {
  const email = normalizeEmail(input.email);
  if (!isValidEmail(email)) throw fail.validation('email', 'The email address is not valid.');
  const roles = [...new Set(input.roles)];
  if (roles.length === 0 || roles.some((role) => !(GRANTABLE_ROLES as readonly string[]).includes(role))) {
    throw fail.validation('roles', 'Give one or more of org_admin, org_admin_read_only, member.');
  }
  return db.transaction(async (tx) => {
    const org = await getOrg(tx, input.orgId);
    const existing = await findUserByEmail(tx, email);
    if (existing && (await rolesInOrg(tx, org.id, existing.id)).length > 0) {
      throw fail.conflict('already_member', 'This person is already a member of the organization.');
    }
    const token = newSecret('tli');
    const expiresAt = addDays(now, INVITATION_TTL_DAYS);
    const [row] = await tx
      .insert(invitations)
      .values({
        id: newId('inv'),
        orgId: org.id,
        email,
        roles,
        tokenHash: hashSecret(token),
        invitedBy: input.actor.id ?? 'system',
        status: 'pending',
        createdAt: now,
        expiresAt,
      })
      .returning();
    await queueEmail(tx, now, {
      to: email,
      subject: `You are invited to ${org.name} on Tierline`,
      kind: 'invitation',
      orgId: org.id,
      body: `You have been invited to join ${org.name} as ${roles.join(', ')}.\nAccept: /accept-invitation?token=${token}\nThe invitation expires on ${expiresAt.toISOString()}.`,
    });
    await scheduleDue(tx, { kind: INVITATION_EXPIRY, subjectId: row.id, dueAt: expiresAt, now });
    await recordAudit(tx, now, {
      orgId: org.id,
      actor: input.actor,
      action: 'invitation.created',
      targetType: 'invitation',
      targetId: row.id,
      after: { email, roles },
    });
    return { invitation: row, token };
  });
}

export async function listInvitations(executor: Executor, orgId: string) {
  return executor.select().from(invitations).where(eq(invitations.orgId, orgId)).orderBy(desc(invitations.createdAt));
}

/** Revokes a pending invitation of this org. */
export async function revokeInvitation(
  db: Database,
  now: Date,
  input: { orgId: string; invitationId: string; actor: Actor },
) {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(invitations)
      .set({ status: 'revoked' })
      .where(
        and(
          eq(invitations.id, input.invitationId),
          eq(invitations.orgId, input.orgId),
          eq(invitations.status, 'pending'),
        ),
      )
      .returning();
    if (!row) throw fail.notFound('pending invitation');
    await recordAudit(tx, now, {
      orgId: input.orgId,
      actor: input.actor,
      action: 'invitation.revoked',
      targetType: 'invitation',
      targetId: row.id,
      before: { status: 'pending' },
      after: { status: 'revoked' },
    });
  });
}

/**
 * Accepts an invitation by its token. An existing user proves the account with its password; a new
 * person chooses a password and a name. The person joins with the invited roles and is logged in.
 */
export async function acceptInvitation(
  db: Database,
  now: Date,
  input: { token: string; password: string; fullName?: string },
) {
  const [invitation] = await db
    .select()
    .from(invitations)
    .where(eq(invitations.tokenHash, hashSecret(input.token)));
  if (!invitation) throw fail.notFound('invitation');
  if (invitation.status !== 'pending' || invitation.expiresAt <= now) {
    throw new AppError(410, 'invitation_expired', 'This invitation is no longer valid. Ask for a new one.');
  }
  const existing = await findUserByEmail(db, invitation.email);
  if (existing) {
    if (!(await verifyPassword(input.password, existing.passwordHash))) {
      throw new AppError(401, 'invalid_credentials', 'The password is not right for this account.');
    }
  } else {
    const problem = passwordProblem(input.password);
    if (problem) throw fail.validation('password', problem);
    if (!input.fullName?.trim()) throw fail.validation('full_name', 'Tell us your full name.');
  }
  const passwordHash = existing ? existing.passwordHash : await hashPassword(input.password);
  return db.transaction(async (tx) => {
    // The org row is locked first, as deactivation locks it: a member who joins while the org is
    // being deactivated either joins before (and loses the roles with everyone) or is refused.
    const org = await lockOrg(tx, invitation.orgId);
    const [claimed] = await tx
      .update(invitations)
      .set({ status: 'accepted', acceptedAt: now })
      .where(
        and(
          eq(invitations.orgId, invitation.orgId),
          eq(invitations.id, invitation.id),
          eq(invitations.status, 'pending'),
        ),
      )
      .returning();
    if (!claimed)
      throw new AppError(410, 'invitation_expired', 'This invitation is no longer valid. Ask for a new one.');
    if (org.status !== 'active') {
      throw orgDeactivated();
    }
    const user =
      existing ??
      (await insertUser(tx, {
        email: invitation.email,
        passwordHash,
        fullName: (input.fullName as string).trim(),
        now,
      }));
    await tx
      .update(invitations)
      .set({ acceptedBy: user.id })
      .where(and(eq(invitations.orgId, invitation.orgId), eq(invitations.id, invitation.id)));
    await addMember(tx, { orgId: org.id, userId: user.id, roles: invitation.roles, now });
    await recordOrgLogin(tx, { orgId: org.id, userId: user.id, method: 'invitation', now });
    await recordAudit(tx, now, {
      orgId: org.id,
      actor: { type: 'user', id: user.id },
      action: 'member.joined',
      targetType: 'user',
      targetId: user.id,
      after: { roles: invitation.roles, invitation_id: invitation.id },
    });
    const session = await insertSession(tx, {
      userId: user.id,
      orgId: org.id,
      isStaff: false,
      now,
      lifetimeSeconds: SESSION_LIMITS.absoluteSeconds,
    });
    return { user, org, roles: await rolesInOrg(tx, org.id, user.id), session };
  });
}

/** Due work: a pending invitation past its expiry becomes expired (once). */
export async function expireInvitationHandler(tx: Transaction, item: DueItem, now: Date) {
  // The item names the invitation by id alone: found through invitations_id_idx.
  const [row] = await tx
    .update(invitations)
    .set({ status: 'expired' })
    .where(and(eq(invitations.id, item.subjectId), eq(invitations.status, 'pending')))
    .returning();
  if (!row) return;
  await recordAudit(tx, now, {
    orgId: row.orgId,
    actor: { type: 'system', id: null },
    action: 'invitation.expired',
    targetType: 'invitation',
    targetId: row.id,
    before: { status: 'pending' },
    after: { status: 'expired' },
  });
}
