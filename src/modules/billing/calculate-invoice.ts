import type { Transaction } from '../../db/client.ts';
import type { DueItem } from '../../jobs/runner.ts';
import { scheduleDue } from '../../jobs/runner.ts';
import { addDays } from '../../kernel/calendar.ts';
import { newId } from '../../kernel/ids.ts';
import { formatMoney } from '../../kernel/money.ts';
import { recordAudit } from '../audit/index.ts';
import { listAdminEmails } from '../identity/index.ts';
import { queueEmail } from '../notifications/index.ts';
import { getOrg } from '../organizations/index.ts';
import { billUnbilledRequests } from '../usage/index.ts';
import { findSubscription, insertInvoice } from './billing.repo.ts';
import { cycleLines, period, termsFromJson } from './billing.ts';
import { INVOICE_COLLECTION } from './collect-invoice.ts';
import { planName } from './end-subscription.ts';
import { INVOICE_CALCULATION } from './start-subscription.ts';

/**
 * Due work at C_k = B_k − 72 h (spec 3): creates invoice k, open and final in amount, billing every
 * unbilled request of the subscription from before C_k; emails the org admins the amount and the
 * charge date; schedules its collection at B_k and the next calculation.
 */
export async function calculateDueInvoice(tx: Transaction, item: DueItem, now: Date) {
  const subscription = await findSubscription(tx, item.subjectId);
  if (!subscription || subscription.status !== 'active') return;
  const org = await getOrg(tx, subscription.orgId);
  if (org.status !== 'active') return;
  const index = (item.payload as { period: number }).period;
  const current = period(subscription.startedAt, index);
  const terms = termsFromJson(subscription.terms);
  const byTransfer = terms.netDays > 0;
  const invoiceId = newId('inv');
  // Billing first and pricing what was billed keeps the count exact against late reports arriving now.
  const requests = await billUnbilledRequests(tx, {
    orgId: org.id,
    subscriptionId: subscription.id,
    before: current.calculationAt,
    invoiceId,
  });
  const invoice = await insertInvoice(tx, {
    id: invoiceId,
    orgId: org.id,
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
    lines: cycleLines(planName(subscription.plan), terms, requests),
  });
  const amount = formatMoney(invoice.total, invoice.currency);
  const when = current.end.toISOString().slice(0, 10);
  const how = byTransfer
    ? `It is payable by bank transfer by ${invoice.dueAt.toISOString().slice(0, 10)}.`
    : `It will be charged to your payment method on ${when}.`;
  for (const to of await listAdminEmails(tx, org.id)) {
    await queueEmail(tx, now, {
      to,
      orgId: org.id,
      kind: 'invoice_upcoming',
      subject: `Your Tierline invoice ${invoice.number}: ${amount}, charged on ${when}`,
      body: `Invoice ${invoice.number} for ${org.name} covers ${current.start.toISOString()} to ${current.end.toISOString()}.\nTotal: ${amount}. ${how}`,
    });
  }
  if (!byTransfer) {
    await scheduleDue(tx, { kind: INVOICE_COLLECTION, subjectId: invoice.id, dueAt: current.end, now });
  }
  await scheduleDue(tx, {
    kind: INVOICE_CALCULATION,
    subjectId: subscription.id,
    dueAt: period(subscription.startedAt, index + 1).calculationAt,
    payload: { period: index + 1 },
    now,
  });
  await recordAudit(tx, now, {
    orgId: org.id,
    actor: { type: 'system', id: null },
    action: 'invoice.calculated',
    targetType: 'invoice',
    targetId: invoice.id,
    after: { number: invoice.number, total: invoice.total.toString(), period: index },
  });
}
