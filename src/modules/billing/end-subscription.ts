import type { Database, Executor } from '../../db/client.ts';
import { cancelDue } from '../../jobs/runner.ts';
import { addDays } from '../../kernel/calendar.ts';
import { fail } from '../../kernel/errors.ts';
import { newId } from '../../kernel/ids.ts';
import { type Actor, recordAudit } from '../audit/index.ts';
import { lockActiveOrg, type OrgRecord, setOrgPlan } from '../organizations/index.ts';
import type { PaymentProvider } from '../payments/index.ts';
import type { Catalog } from '../plans/index.ts';
import {
  billUnbilledRequests,
  latestRequestAt,
  releaseBilledRequests,
  setBillingWindow,
  unbilledRequests,
} from '../usage/index.ts';
import {
  findActiveSubscription,
  findCollectedCycleInvoice,
  findOpenCycleInvoice,
  type InvoiceRow,
  insertInvoice,
  linesOf,
  lockInvoice,
  markSubscriptionEnded,
  type SubscriptionRow,
  updateInvoice,
} from './billing.repo.ts';
import { finalLines, type Line, type Period, periodAt, termsFromJson, total } from './billing.ts';
import { collectInvoiceIn } from './collect-invoice.ts';
import { INVOICE_CALCULATION } from './start-subscription.ts';

export function planName(plan: string): string {
  return plan === 'enterprise' ? 'Enterprise' : plan === 'plus' ? 'Plus' : 'Free';
}

/** What ending a subscription at D bills: the final invoice, and the open invoice it replaces. */
export interface FinalInvoicePlan {
  current: Period;
  voids: InvoiceRow | null;
  /** The period's invoice, already collected: its fee is not charged again. */
  collected: InvoiceRow | null;
  requests: bigint;
  lines: Line[];
  total: bigint;
}

/**
 * Works out the final invoice of ending the subscription at `at` (spec 4): the fee prorated over the
 * current period up to `at`, and every unbilled request before `at`, counting again those of a
 * calculated but uncollected invoice of this period, which is voided. Reads only.
 */
export async function planFinalInvoice(
  executor: Executor,
  subscription: SubscriptionRow,
  at: Date,
): Promise<FinalInvoicePlan> {
  const current = periodAt(subscription.startedAt, at);
  const voids = (await findOpenCycleInvoice(executor, subscription.orgId, subscription.id, current.index)) ?? null;
  const collected = voids
    ? null
    : ((await findCollectedCycleInvoice(executor, subscription.orgId, subscription.id, current.index)) ?? null);
  let requests = await unbilledRequests(executor, {
    orgId: subscription.orgId,
    subscriptionId: subscription.id,
    since: subscription.startedAt,
    before: at,
  });
  if (voids) {
    const usage = (await linesOf(executor, voids.orgId, [voids.id])).find((line) => line.kind === 'usage');
    requests += usage?.quantity ?? 0n;
  }
  const lines = finalLines(
    planName(subscription.plan),
    termsFromJson(subscription.terms),
    current,
    at,
    requests,
    collected?.number,
  );
  return { current, voids, collected, requests, lines, total: total(lines) };
}

/**
 * Ends the active subscription at `at` as a downgrade, in the caller's transaction (org row locked):
 * voids an uncollected invoice of the current period, issues the final invoice, stops billable usage,
 * cancels future calculations and sets the plan to free. The final invoice is charged at once; with
 * `finalCollection: 'once'` a failure gives it up at once, else it is retried like any invoice.
 * Enterprise invoices with net terms are left open, due by transfer.
 */
export async function endSubscriptionIn(
  tx: Executor,
  payments: PaymentProvider,
  input: {
    org: OrgRecord;
    subscription: SubscriptionRow;
    at: Date;
    reason: string;
    actor: Actor;
    finalCollection: 'retry' | 'once';
  },
) {
  const { subscription, at } = input;
  // First wait for due work of this subscription that is in flight, holding no lock it needs: a
  // calculation holds its due item, so cancelling it waits for (or stops) it and the invoice it
  // writes is then seen; a collection holds the open invoice, so locking it waits for the charge,
  // and a paid invoice is then not voided. Only then is the final invoice planned.
  await cancelDue(tx, INVOICE_CALCULATION, subscription.id, at);
  const open = await findOpenCycleInvoice(
    tx,
    subscription.orgId,
    subscription.id,
    periodAt(subscription.startedAt, at).index,
  );
  if (open) await lockInvoice(tx, open);
  // Close the usage window before billing: taking its row waits for the reports in flight, whose
  // requests are then billed below, and reports after it are not billable to this subscription.
  await setBillingWindow(tx, subscription.orgId, null);
  const plan = await planFinalInvoice(tx, subscription, at);
  if (plan.voids) {
    await releaseBilledRequests(tx, {
      orgId: subscription.orgId,
      invoiceId: plan.voids.id,
      since: subscription.startedAt,
      before: plan.voids.calculatedAt,
    });
    // Voiding keeps the row (and its number) for the record.
    await updateInvoice(tx, plan.voids, { status: 'void', voidedAt: at });
    await recordAudit(tx, at, {
      orgId: subscription.orgId,
      actor: input.actor,
      action: 'invoice.voided',
      targetType: 'invoice',
      targetId: plan.voids.id,
      before: { status: 'open' },
      after: { status: 'void', replaced_by: 'final invoice' },
    });
  }
  const terms = termsFromJson(subscription.terms);
  const byTransfer = terms.netDays > 0;
  const invoiceId = newId('inv');
  // Bill first and price what was billed: exact even against late reports arriving meanwhile.
  const billed = await billUnbilledRequests(tx, {
    orgId: subscription.orgId,
    subscriptionId: subscription.id,
    since: subscription.startedAt,
    before: at,
    invoiceId,
  });
  const finalInvoice = await insertInvoice(tx, {
    id: invoiceId,
    orgId: subscription.orgId,
    subscriptionId: subscription.id,
    kind: 'final',
    periodIndex: plan.current.index,
    status: 'open',
    currency: subscription.currency,
    periodStart: plan.current.start,
    periodEnd: at,
    calculatedAt: at,
    billingAt: at,
    dueAt: byTransfer ? addDays(at, terms.netDays) : at,
    collection: byTransfer ? 'send_invoice' : 'charge_automatically',
    createdAt: at,
    lines: finalLines(planName(subscription.plan), terms, plan.current, at, billed, plan.collected?.number),
  });
  await recordAudit(tx, at, {
    orgId: subscription.orgId,
    actor: input.actor,
    action: 'invoice.final_issued',
    targetType: 'invoice',
    targetId: finalInvoice.id,
    after: {
      number: finalInvoice.number,
      kind: 'final',
      total: finalInvoice.total.toString(),
      period: plan.current.index,
    },
  });
  // Again: a calculation that was in flight scheduled the next one.
  await cancelDue(tx, INVOICE_CALCULATION, subscription.id, at);
  const ended = await markSubscriptionEnded(tx, subscription, at, input.reason);
  // Back on Free, the org's inactivity clock starts again (spec 7).
  await setOrgPlan(tx, subscription.orgId, 'free', {
    now: at,
    latestRequestAt: await latestRequestAt(tx, subscription.orgId),
  });
  await recordAudit(tx, at, {
    orgId: subscription.orgId,
    actor: input.actor,
    action: 'subscription.ended',
    targetType: 'subscription',
    targetId: subscription.id,
    before: { plan: subscription.plan, status: 'active' },
    after: { plan: 'free', status: 'ended', final_invoice_id: finalInvoice.id, total: finalInvoice.total.toString() },
    reason: input.reason,
  });
  const collected = byTransfer
    ? { invoice: finalInvoice }
    : await collectInvoiceIn(tx, payments, finalInvoice, at, { retries: input.finalCollection === 'retry' });
  return { subscription: ended, finalInvoice: collected.invoice };
}

/** Plus → Free (Cancel Plan, Confirm Downgrade): immediate, with a prorated final invoice. */
export async function downgradeToFree(
  db: Database,
  payments: PaymentProvider,
  now: Date,
  input: { orgId: string; actor: Actor; catalog: Catalog },
) {
  return db.transaction(async (tx) => {
    const org = await lockActiveOrg(tx, input.orgId);
    const subscription = await findActiveSubscription(tx, org.id);
    if (!subscription) throw fail.conflict('no_subscription', 'This organization is already on the free plan.');
    if (subscription.plan === 'enterprise') {
      throw fail.forbidden('contact_sales_required', 'Enterprise contracts are changed by our sales team.');
    }
    return endSubscriptionIn(tx, payments, {
      org,
      subscription,
      at: now,
      reason: 'downgrade',
      actor: input.actor,
      finalCollection: 'retry',
    });
  });
}
