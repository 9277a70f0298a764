import type { Database, Executor } from '../../db/client.ts';
import { fail } from '../../kernel/errors.ts';
import { type Actor, recordAudits } from '../audit/index.ts';
import { stopBillingIn } from '../billing/index.ts';
import { endOrgsSessions, lockOrgEmails, removeOrgsAccess, revokeOrgsInvitations } from '../identity/index.ts';
import { queueEmails } from '../notifications/index.ts';
import { lockOrg, markOrgsDeactivated, type OrgRecord } from '../organizations/index.ts';
import type { PaymentProvider } from '../payments/index.ts';
import { decommissionControlPlanesIn } from '../runtimes/index.ts';
import { checkReason, deactivationNotice } from './lifecycle.ts';

/**
 * Deactivates active orgs with every effect of spec 8, in the caller's transaction (their rows locked):
 * billing stops, the status changes and sessions end (tokens and logins then answer org_deactivated),
 * pending invitations are revoked, the control plane is decommissioned, roles, team memberships and
 * system-account roles are removed and kept in the audit event, the org's email is locked and told.
 * Set-based: the inactivity sweep passes a thousand orgs at once.
 */
export async function deactivateOrgsIn(
  tx: Executor,
  payments: PaymentProvider,
  orgs: readonly OrgRecord[],
  now: Date,
  input: { reason: string; actor: Actor },
): Promise<OrgRecord[]> {
  if (orgs.length === 0) return [];
  const orgIds = orgs.map((org) => org.id);
  const billing = await stopBillingIn(tx, payments, orgs, now, input);
  const deactivated = await markOrgsDeactivated(tx, orgIds, { now, reason: input.reason });
  await endOrgsSessions(tx, orgIds, now);
  await revokeOrgsInvitations(tx, orgIds);
  await decommissionControlPlanesIn(tx, now, { orgIds, actor: input.actor, reason: input.reason });
  const removed = await removeOrgsAccess(tx, orgIds);
  await lockOrgEmails(
    tx,
    orgs.map((org) => ({ email: org.email, orgId: org.id })),
    input.reason,
    now,
  );
  await recordAudits(
    tx,
    now,
    orgs.map((org) => ({
      orgId: org.id,
      actor: input.actor,
      action: 'org.deactivated',
      targetType: 'org',
      targetId: org.id,
      before: { status: org.status, plan: org.plan, access: removed.get(org.id) },
      after: {
        status: 'deactivated',
        plan: 'free',
        email_locked: org.email,
        final_invoice_id: billing.get(org.id)?.finalInvoice.id ?? null,
      },
      reason: input.reason,
    })),
  );
  await queueEmails(
    tx,
    now,
    orgs.map((org) => deactivationNotice(org, input.reason, now)),
  );
  return deactivated;
}

/** Staff deactivate an org of any plan (spec 8), with a reason; audited with their identity. */
export async function deactivateOrg(
  db: Database,
  payments: PaymentProvider,
  now: Date,
  input: { orgId: string; reason: string; actor: Actor },
): Promise<OrgRecord> {
  const reason = checkReason(input.reason);
  return db.transaction(async (tx) => {
    const org = await lockOrg(tx, input.orgId);
    if (org.status !== 'active') {
      throw fail.conflict('already_deactivated', 'This organization is already deactivated.');
    }
    const [deactivated] = await deactivateOrgsIn(tx, payments, [org], now, { reason, actor: input.actor });
    return deactivated;
  });
}
