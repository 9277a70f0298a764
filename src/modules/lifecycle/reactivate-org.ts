import type { Database } from '../../db/client.ts';
import { fail } from '../../kernel/errors.ts';
import { type Actor, findLatestAuditEvent, recordAudit } from '../audit/index.ts';
import { addMember, type OrgAccessSnapshot, restoreOrgAccess, unlockOrgEmail } from '../identity/index.ts';
import { queueEmail } from '../notifications/index.ts';
import {
  insertControlPlane,
  lockOrg,
  markOrgReactivated,
  type OrgRecord,
  recordOrgLogin,
  startInactivityClock,
} from '../organizations/index.ts';
import { latestRequestAt } from '../usage/index.ts';
import { reactivationNotice } from './lifecycle.ts';

/**
 * Staff reactivate a deactivated org (spec 8): active on Free with a new control plane, its owner
 * `owner` again, its email lock lifted, counted as a login; with `restoreMemberships` the roles, team
 * memberships and system-account roles its deactivation removed come back.
 */
export async function reactivateOrg(
  db: Database,
  now: Date,
  input: { orgId: string; restoreMemberships: boolean; actor: Actor },
): Promise<OrgRecord> {
  return db.transaction(async (tx) => {
    const before = await lockOrg(tx, input.orgId);
    if (before.status === 'active') throw fail.conflict('org_active', 'This organization is active.');
    await markOrgReactivated(tx, before.id);
    const controlPlane = await insertControlPlane(tx, before.id, now);
    await addMember(tx, { orgId: before.id, userId: before.ownerUserId, roles: ['owner'], now });
    let restored: OrgAccessSnapshot | null = null;
    if (input.restoreMemberships) {
      const deactivation = await findLatestAuditEvent(tx, before.id, 'org.deactivated');
      const snapshot = (deactivation?.before as { access?: OrgAccessSnapshot } | null)?.access;
      if (snapshot) restored = await restoreOrgAccess(tx, before.id, snapshot);
    }
    const unlocked = await unlockOrgEmail(tx, before.id);
    await recordOrgLogin(tx, { orgId: before.id, userId: before.ownerUserId, method: 'reactivation', now });
    const org = await startInactivityClock(
      tx,
      { id: before.id, createdAt: before.createdAt, lastLoginAt: now },
      { now, latestRequestAt: await latestRequestAt(tx, before.id) },
    );
    await recordAudit(tx, now, {
      orgId: org.id,
      actor: input.actor,
      action: 'org.reactivated',
      targetType: 'org',
      targetId: org.id,
      before: { status: before.status, deactivation_reason: before.deactivationReason },
      after: {
        status: 'active',
        plan: 'free',
        control_plane_id: controlPlane.id,
        restored_access: restored,
        email_unlocked: unlocked.length > 0 ? before.email : null,
      },
      reason: input.restoreMemberships ? 'restore_memberships' : null,
    });
    await queueEmail(tx, now, reactivationNotice(org, now));
    return org;
  });
}
