import type { Database } from '../../db/client.ts';
import { fail } from '../../kernel/errors.ts';
import { lockOrg, orgDeactivated, recordOrgLogin } from '../organizations/index.ts';
import { endSession, findMembership, insertSession, rolesInOrg } from './identity.repo.ts';
import { SESSION_LIMITS } from './identity.ts';

/** Moves a logged-in user to another of their orgs: a new session there, counted as a login. */
export async function switchOrg(db: Database, now: Date, input: { userId: string; sessionId: string; orgId: string }) {
  return db.transaction(async (tx) => {
    // Strangers get a 404 whatever the org's status; members (whose membership outlives a
    // deactivation) learn that it is deactivated. The row is locked first, as deactivation locks it.
    if (!(await findMembership(tx, input.orgId, input.userId))) throw fail.notFound('organization');
    const org = await lockOrg(tx, input.orgId);
    if (org.status !== 'active') throw orgDeactivated();
    const roles = await rolesInOrg(tx, input.orgId, input.userId);
    if (roles.length === 0) throw fail.notFound('organization');
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
