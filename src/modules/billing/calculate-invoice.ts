import { inArray } from 'drizzle-orm';
import type { Transaction } from '../../db/client.ts';
import { orgs } from '../../db/schema/index.ts';
import type { DueItem } from '../../jobs/runner.ts';
import { scheduleDueMany } from '../../jobs/runner.ts';
import { addDays } from '../../kernel/calendar.ts';
import { newId } from '../../kernel/ids.ts';
import { formatMoney } from '../../kernel/money.ts';
import { type AuditEntry, recordAudits } from '../audit/index.ts';
import { listAdminEmailsByOrg } from '../identity/index.ts';
import { type Email, queueEmails } from '../notifications/index.ts';
import { billUnbilledRequestsMany } from '../usage/index.ts';
import { findSubscriptionsByIds, insertInvoices, type NewInvoice } from './billing.repo.ts';
import { cycleLines, period, termsFromJson } from './billing.ts';
import { INVOICE_COLLECTION } from './collect-invoice.ts';
import { planName } from './end-subscription.ts';
import { INVOICE_CALCULATION } from './start-subscription.ts';

/**
 * Due work at C_k = B_k − 72 h (spec 3), for many subscriptions due at the same instant: creates each
 * invoice k, open and final in amount, billing every unbilled request of the subscription from before
 * C_k; emails the org admins the amount and the charge date; schedules collection at B_k and the next
 * calculation. Ended subscriptions and deactivated orgs are skipped.
 */
export async function calculateDueInvoices(tx: Transaction, items: DueItem[], now: Date) {
  // Items name subscriptions by id alone (subscriptions_id_idx).
  const subscriptions = await findSubscriptionsByIds(
    tx,
    items.map((item) => item.subjectId),
  );
  const orgRows = subscriptions.length
    ? await tx
        .select({ id: orgs.id, name: orgs.name, status: orgs.status })
        .from(orgs)
        .where(inArray(orgs.id, [...new Set(subscriptions.map((row) => row.orgId))]))
    : [];
  const orgById = new Map(orgRows.map((org) => [org.id, org]));
  const periodOf = new Map(items.map((item) => [item.subjectId, (item.payload as { period: number }).period]));
  const work = subscriptions
    .filter((subscription) => subscription.status === 'active' && orgById.get(subscription.orgId)?.status === 'active')
    .map((subscription) => {
      const index = periodOf.get(subscription.id) as number;
      return { subscription, index, current: period(subscription.startedAt, index), invoiceId: newId('inv') };
    });
  if (work.length === 0) return;

  // Billing first and pricing what was billed keeps counts exact against late reports arriving now.
  const billed = await billUnbilledRequestsMany(
    tx,
    work.map((entry) => ({
      orgId: entry.subscription.orgId,
      subscriptionId: entry.subscription.id,
      since: entry.subscription.startedAt,
      before: entry.current.calculationAt,
      invoiceId: entry.invoiceId,
    })),
  );
  const invoices = await insertInvoices(
    tx,
    work.map(({ subscription, index, current, invoiceId }): NewInvoice => {
      const terms = termsFromJson(subscription.terms);
      const byTransfer = terms.netDays > 0;
      return {
        id: invoiceId,
        orgId: subscription.orgId,
        subscriptionId: subscription.id,
        kind: 'cycle',
        periodIndex: index,
        status: 'open',
        currency: subscription.currency,
        periodStart: current.start,
        periodEnd: current.end,
        calculatedAt: current.calculationAt,
        billingAt: current.end,
        dueAt: byTransfer ? addDays(current.end, terms.netDays) : current.end,
        collection: byTransfer ? 'send_invoice' : 'charge_automatically',
        createdAt: now,
        lines: cycleLines(planName(subscription.plan), terms, billed.get(invoiceId) ?? 0n),
      };
    }),
  );

  const admins = await listAdminEmailsByOrg(
    tx,
    invoices.map((invoice) => invoice.orgId),
  );
  const emails: Email[] = [];
  const audits: AuditEntry[] = [];
  const due: Array<{ kind: string; subjectId: string; dueAt: Date; payload?: unknown }> = [];
  const workByInvoice = new Map(work.map((entry) => [entry.invoiceId, entry]));
  for (const invoice of invoices) {
    const entry = workByInvoice.get(invoice.id) as (typeof work)[number];
    const org = orgById.get(invoice.orgId) as { name: string };
    const amount = formatMoney(invoice.total, invoice.currency);
    const when = invoice.billingAt.toISOString().slice(0, 10);
    const byTransfer = invoice.collection === 'send_invoice';
    const dueOn = invoice.dueAt.toISOString().slice(0, 10);
    const how = byTransfer
      ? `It is payable by bank transfer by ${dueOn}.`
      : `It will be charged to your payment method on ${when}.`;
    for (const to of admins.get(invoice.orgId) ?? []) {
      emails.push({
        to,
        orgId: invoice.orgId,
        kind: 'invoice_upcoming',
        // Net terms are paid by transfer: no card is charged, the date that matters is the due date.
        subject: `Your Tierline invoice ${invoice.number}: ${amount}, ${byTransfer ? `due on ${dueOn}` : `charged on ${when}`}`,
        body: `Invoice ${invoice.number} for ${org.name} covers ${invoice.periodStart.toISOString()} to ${invoice.periodEnd.toISOString()}.\nTotal: ${amount}. ${how}`,
      });
    }
    if (invoice.collection === 'charge_automatically') {
      due.push({ kind: INVOICE_COLLECTION, subjectId: invoice.id, dueAt: invoice.billingAt });
    }
    due.push({
      kind: INVOICE_CALCULATION,
      subjectId: entry.subscription.id,
      dueAt: period(entry.subscription.startedAt, entry.index + 1).calculationAt,
      payload: { period: entry.index + 1 },
    });
    audits.push({
      orgId: invoice.orgId,
      actor: { type: 'system', id: null },
      action: 'invoice.calculated',
      targetType: 'invoice',
      targetId: invoice.id,
      after: { number: invoice.number, total: invoice.total.toString(), period: entry.index },
    });
  }
  await queueEmails(tx, now, emails);
  await scheduleDueMany(tx, due, now);
  await recordAudits(tx, now, audits);
}
