import type { Transaction } from '../../db/client.ts';
import type { DueItem } from '../../jobs/runner.ts';
import { scheduleDueMany } from '../../jobs/runner.ts';
import { type AuditEntry, recordAudits } from '../audit/index.ts';
import { listAdminEmailsByOrg } from '../identity/index.ts';
import { type Email, findOrgsEmailedAt, queueEmails } from '../notifications/index.ts';
import {
  inactivityStep,
  lockOrgs,
  nextInactivityCheck,
  ORG_INACTIVITY,
  type OrgRecord,
  projectedDeactivation,
  setProjectedDeactivation,
} from '../organizations/index.ts';
import type { PaymentProvider } from '../payments/index.ts';
import { latestRequestsAt } from '../usage/index.ts';
import { deactivateOrgsIn } from './deactivate-orgs.ts';
import { inactivityWarning, warningKind } from './lifecycle.ts';

/**
 * Emails each warning to the org's admins, once: a check that runs again at the same instant (see
 * scheduleInactivityCheck) finds the warning of this t* in the outbox, written at exactly this instant.
 * Each warning is audited (`org.deactivation_warned`), which is also its webhook event.
 */
async function sendWarnings(
  tx: Transaction,
  warnings: ReadonlyArray<{ org: OrgRecord; projected: Date; days: number }>,
  now: Date,
) {
  if (warnings.length === 0) return;
  const admins = await listAdminEmailsByOrg(
    tx,
    warnings.map((warning) => warning.org.id),
  );
  const emails: Email[] = [];
  const audits: AuditEntry[] = [];
  for (const days of new Set(warnings.map((warning) => warning.days))) {
    const ofDays = warnings.filter((warning) => warning.days === days);
    const sent = await findOrgsEmailedAt(
      tx,
      ofDays.map((warning) => warning.org.id),
      warningKind(days),
      now,
    );
    for (const { org, projected } of ofDays) {
      if (sent.has(org.id)) continue;
      for (const to of admins.get(org.id) ?? []) emails.push(inactivityWarning(org, projected, days, to));
      audits.push({
        orgId: org.id,
        actor: { type: 'system', id: null },
        action: 'org.deactivation_warned',
        targetType: 'org',
        targetId: org.id,
        after: { deactivates_at: projected.toISOString(), days_before: days },
      });
    }
  }
  await queueEmails(tx, now, emails);
  await recordAudits(tx, now, audits);
}

/**
 * Due work at a free org's warning instants and at its t* (spec 7), for many orgs due at the same
 * instant: the rule is checked again on the current logins and traffic; an org still inactive at t*
 * is deactivated, one 7 or 1 days before its t* is warned, and each is checked again at its next
 * instant. An org that moved on (a login, traffic, a paid plan, a deactivation) is simply followed.
 */
export function checkInactivity(payments: PaymentProvider) {
  return async (tx: Transaction, items: DueItem[], now: Date) => {
    const locked = await lockOrgs(tx, [...new Set(items.map((item) => item.subjectId))]);
    const candidates = locked.filter(
      (org) => org.status === 'active' && org.plan === 'free' && org.projectedDeactivationAt !== null,
    );
    const latest = await latestRequestsAt(
      tx,
      candidates.map((org) => org.id),
    );
    const inactive: OrgRecord[] = [];
    const warnings: Array<{ org: OrgRecord; projected: Date; days: number }> = [];
    const next: Array<{ kind: string; subjectId: string; dueAt: Date }> = [];
    for (const org of candidates) {
      const stored = org.projectedDeactivationAt as Date;
      const computed = projectedDeactivation({ ...org, latestRequestAt: latest.get(org.id) ?? null });
      // t* only ever moves later while the org is free: the stored one holds floors (a downgrade)
      // the rule alone does not know, and misses nothing the rule knows.
      const projected = computed > stored ? computed : stored;
      if (projected.getTime() !== stored.getTime()) await setProjectedDeactivation(tx, org.id, projected);
      const step = inactivityStep(projected, now);
      if (step.kind === 'deactivate') {
        inactive.push(org);
        continue;
      }
      if (step.kind === 'warn') warnings.push({ org, projected, days: step.days });
      const dueAt = nextInactivityCheck(projected, now, true);
      if (dueAt) next.push({ kind: ORG_INACTIVITY, subjectId: org.id, dueAt });
    }
    await scheduleDueMany(tx, next, now);
    await sendWarnings(tx, warnings, now);
    await deactivateOrgsIn(tx, payments, inactive, now, { reason: 'inactivity', actor: { type: 'system', id: null } });
  };
}
