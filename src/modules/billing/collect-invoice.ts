import { inArray } from 'drizzle-orm';
import type { Executor, Transaction } from '../../db/client.ts';
import { orgs } from '../../db/schema/index.ts';
import type { DueItem } from '../../jobs/runner.ts';
import { scheduleDueMany } from '../../jobs/runner.ts';
import { type AuditEntry, recordAudits } from '../audit/index.ts';
import { lockOrgs } from '../organizations/index.ts';
import type { ChargeRequest, PaymentProvider } from '../payments/index.ts';
import {
  countPaymentAttempts,
  findInvoicesByIds,
  findPaymentMethods,
  findSubscriptions,
  type InvoiceRow,
  insertPaymentAttempts,
  lockInvoicesByIds,
  updateCollectionStates,
} from './billing.repo.ts';
import { nextRetryAt } from './billing.ts';

export const INVOICE_COLLECTION = 'invoice_collection';
export const INVOICE_RETRY = 'invoice_retry';

export type CollectionOutcome = 'paid' | 'past_due' | 'uncollectible';

/** retries: a failure is retried on schedule (else given up); extraAttempt: an attempt off the schedule. */
export interface CollectionOptions {
  retries: boolean;
  extraAttempt?: boolean;
}

/**
 * Charges open or past-due invoices to their subscriptions' payment methods, in the caller's
 * transaction (invoice rows locked). Each charge's idempotency key is the invoice and attempt number,
 * so a re-run after a crash finds the same charge instead of making another. With retries, a failure
 * is retried 1, 3 and 7 days after the billing date and then given up (uncollectible); without, it is
 * given up at once. An extra attempt (a new card, spec 5) is outside that schedule: its failure leaves
 * the invoice past due with its retries still due, so it neither uses up a retry nor gives up.
 */
export async function collectInvoicesIn(
  tx: Executor,
  payments: PaymentProvider,
  invoices: readonly InvoiceRow[],
  now: Date,
  options: CollectionOptions,
): Promise<Array<{ invoice: InvoiceRow; outcome: CollectionOutcome }>> {
  if (invoices.length === 0) return [];
  const subscriptions = await findSubscriptions(
    tx,
    invoices.map((invoice) => ({ orgId: invoice.orgId, id: invoice.subscriptionId })),
  );
  const methodIdOf = new Map(subscriptions.map((row) => [row.id, row.paymentMethodId]));
  const methods = await findPaymentMethods(
    tx,
    subscriptions.flatMap((row) => (row.paymentMethodId ? [{ orgId: row.orgId, id: row.paymentMethodId }] : [])),
  );
  const methodById = new Map(methods.map((method) => [method.id, method]));
  const attempts = await countPaymentAttempts(tx, invoices);

  const plans = invoices.map((invoice) => {
    const methodId = methodIdOf.get(invoice.subscriptionId);
    const method = methodId ? methodById.get(methodId) : undefined;
    const attempt = (attempts.get(invoice.id) ?? 0) + 1;
    return { invoice, method, attempt };
  });
  const toCharge = plans.filter((plan) => plan.invoice.total > 0n && plan.method);
  const requests: ChargeRequest[] = toCharge.map((plan) => ({
    providerRef: plan.method?.providerRef as string,
    amount: plan.invoice.total,
    currency: plan.invoice.currency,
    idempotencyKey: `${plan.invoice.id}:${plan.attempt}`,
    now,
  }));
  const results = await payments.chargeMany(tx, requests);
  const resultOf = new Map(toCharge.map((plan, index) => [plan.invoice.id, results[index]]));

  const outcomes: Array<{ invoice: InvoiceRow; outcome: CollectionOutcome }> = [];
  const attemptRows = [];
  const retries = [];
  const audits: AuditEntry[] = [];
  for (const { invoice, method, attempt } of plans) {
    const result = resultOf.get(invoice.id);
    const free = invoice.total === 0n;
    const succeeded = free || result?.status === 'succeeded';
    const failureCode = succeeded ? null : result?.status === 'failed' ? result.failureCode : 'no_payment_method';
    if (!free) {
      attemptRows.push({
        orgId: invoice.orgId,
        invoiceId: invoice.id,
        paymentMethodId: method?.id ?? null,
        amount: invoice.total,
        status: succeeded ? 'succeeded' : 'failed',
        failureCode,
        providerRef: result?.status === 'succeeded' ? result.providerRef : null,
        attemptedAt: now,
      });
    }
    let updated: InvoiceRow;
    let outcome: CollectionOutcome;
    if (succeeded) {
      outcome = 'paid';
      updated = { ...invoice, status: 'paid', paidAt: now };
    } else if (options.extraAttempt) {
      outcome = 'past_due';
      updated = { ...invoice, status: 'past_due' };
    } else {
      const failedAttempts = invoice.failedAttempts + 1;
      const retryAt = options.retries ? nextRetryAt(invoice.billingAt, failedAttempts) : null;
      outcome = retryAt ? 'past_due' : 'uncollectible';
      updated = { ...invoice, status: outcome, failedAttempts };
      if (retryAt) retries.push({ kind: INVOICE_RETRY, subjectId: invoice.id, dueAt: retryAt });
    }
    outcomes.push({ invoice: updated, outcome });
    audits.push({
      orgId: invoice.orgId,
      actor: { type: 'system', id: null },
      action: `invoice.${outcome}`,
      targetType: 'invoice',
      targetId: invoice.id,
      before: { status: invoice.status },
      after: { status: outcome, attempt, failure_code: failureCode },
    });
  }
  await insertPaymentAttempts(tx, attemptRows);
  await updateCollectionStates(
    tx,
    outcomes.map(({ invoice }) => ({
      orgId: invoice.orgId,
      id: invoice.id,
      status: invoice.status,
      failedAttempts: invoice.failedAttempts,
      paidAt: invoice.paidAt,
    })),
  );
  await scheduleDueMany(tx, retries, now);
  await recordAudits(tx, now, audits);
  return outcomes;
}

/** Collects one invoice (see collectInvoicesIn). */
export async function collectInvoiceIn(
  tx: Executor,
  payments: PaymentProvider,
  invoice: InvoiceRow,
  now: Date,
  options: CollectionOptions,
) {
  const [result] = await collectInvoicesIn(tx, payments, [invoice], now, options);
  return result;
}

/**
 * Due work at B_k and at each retry, for many invoices at once: collects each unless it was paid,
 * voided or given up meanwhile, or the org was deactivated. When the last retry of an invoice fails,
 * `onGivenUp` ends its subscription.
 */
export function collectDueInvoices(
  payments: PaymentProvider,
  onGivenUp: (tx: Transaction, invoice: InvoiceRow, now: Date) => Promise<void>,
) {
  return async (tx: Transaction, items: DueItem[], now: Date) => {
    // Items name invoices by id alone (invoices_id_idx).
    const ids = items.map((item) => item.subjectId);
    // A retry can race a new card, which collects past-due invoices under the org's lock: take the
    // orgs of past-due invoices first, in one order, as adding a card does, then the invoices.
    // (First collections at B_k are of open invoices: only retries need it.)
    const retried =
      items[0]?.kind === INVOICE_RETRY
        ? (await findInvoicesByIds(tx, ids)).filter((invoice) => invoice.status === 'past_due')
        : [];
    if (retried.length > 0) await lockOrgs(tx, [...new Set(retried.map((invoice) => invoice.orgId))]);
    const locked = await lockInvoicesByIds(tx, ids);
    const candidates = locked.filter(
      (invoice) =>
        (invoice.status === 'open' || invoice.status === 'past_due') && invoice.collection === 'charge_automatically',
    );
    if (candidates.length === 0) return;
    const statuses = await tx
      .select({ id: orgs.id, status: orgs.status })
      .from(orgs)
      .where(inArray(orgs.id, [...new Set(candidates.map((invoice) => invoice.orgId))]));
    const isActive = new Set(statuses.filter((row) => row.status === 'active').map((row) => row.id));
    const collectable = candidates.filter((invoice) => isActive.has(invoice.orgId));
    const results = await collectInvoicesIn(tx, payments, collectable, now, { retries: true });
    for (const result of results) {
      if (result.outcome === 'uncollectible') await onGivenUp(tx, result.invoice, now);
    }
  };
}
