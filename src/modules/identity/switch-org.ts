import type { Database } from '../../db/client.ts';
import { fail } from '../../kernel/errors.ts';
import { findOrg, lockOrg, orgDeactivated, recordOrgLogin } from '../organizations/index.ts';
import { endSession, insertSession, rolesInOrg } from './identity.repo.ts';
import { SESSION_LIMITS } from './identity.ts';

/** Moves a logged-in user to another of their orgs: a new session there, counted as a login. */
export async function switchOrg(db: Database, now: Date, input: { userId: string; sessionId: string; orgId: string }) {
  return db.transaction(async (tx) => {
    // Locked first, as deactivation locks it (see logIn).
    const org = (await findOrg(tx, input.orgId)) ? await lockOrg(tx, input.orgId) : undefined;
    const roles = org ? await rolesInOrg(tx, input.orgId, input.userId) : [];
    if (!org || (roles.length === 0 && org.status === 'active')) throw fail.notFound('organization');
    if (org.status !== 'active') {
      throw orgDeactivated();
    }
    await endSession(tx, input.sessionId, now);
    await recordOrgLogin(tx, { orgId: org.id, userId: input.userId, method: 'switch', now });
    const session = await insertSession(tx, {
      userId: input.userId,
      orgId: org.id,
      isStaff: false,
      now,
      lifetimeSeconds: SESSION_LIMITS.absoluteSeconds,
    });
    return { org, roles, session };
  });
}
