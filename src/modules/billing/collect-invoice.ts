import type { Executor, Transaction } from '../../db/client.ts';
import type { DueItem } from '../../jobs/runner.ts';
import { scheduleDue } from '../../jobs/runner.ts';
import { recordAudit } from '../audit/index.ts';
import { getOrg } from '../organizations/index.ts';
import type { PaymentProvider } from '../payments/index.ts';
import {
  countPaymentAttempts,
  findPaymentMethod,
  findSubscription,
  type InvoiceRow,
  insertPaymentAttempt,
  lockInvoice,
  updateInvoice,
} from './billing.repo.ts';
import { nextRetryAt } from './billing.ts';

export const INVOICE_COLLECTION = 'invoice_collection';
export const INVOICE_RETRY = 'invoice_retry';

export type CollectionOutcome = 'paid' | 'past_due' | 'uncollectible';

/**
 * Charges an open or past-due invoice to its subscription's payment method, in the caller's
 * transaction. The charge's idempotency key is the invoice and attempt number, so a re-run after a
 * crash finds the same charge instead of making another. With retries, a failure is retried 1, 3 and
 * 7 days after the billing date and then given up (uncollectible); without, it is given up at once.
 */
export async function collectInvoiceIn(
  tx: Executor,
  payments: PaymentProvider,
  invoice: InvoiceRow,
  now: Date,
  options: { retries: boolean },
): Promise<{ invoice: InvoiceRow; outcome: CollectionOutcome }> {
  const subscription = await findSubscription(tx, invoice.subscriptionId);
  const method = subscription?.paymentMethodId
    ? await findPaymentMethod(tx, invoice.orgId, subscription.paymentMethodId)
    : undefined;
  const attempt = (await countPaymentAttempts(tx, invoice.id)) + 1;
  let succeeded = invoice.total === 0n;
  let failureCode: string | null = null;
  let providerRef: string | null = null;
  if (!succeeded) {
    if (!method) {
      failureCode = 'no_payment_method';
    } else {
      const result = await payments.charge(tx, {
        providerRef: method.providerRef,
        amount: invoice.total,
        currency: invoice.currency,
        idempotencyKey: `${invoice.id}:${attempt}`,
        now,
      });
      succeeded = result.status === 'succeeded';
      if (result.status === 'succeeded') providerRef = result.providerRef;
      else failureCode = result.failureCode;
    }
    await insertPaymentAttempt(tx, {
      orgId: invoice.orgId,
      invoiceId: invoice.id,
      paymentMethodId: method?.id ?? null,
      amount: invoice.total,
      status: succeeded ? 'succeeded' : 'failed',
      failureCode,
      providerRef,
      attemptedAt: now,
    });
  }
  let outcome: CollectionOutcome;
  let updated: InvoiceRow;
  if (succeeded) {
    outcome = 'paid';
    updated = await updateInvoice(tx, invoice.id, { status: 'paid', paidAt: now });
  } else {
    const failedAttempts = invoice.failedAttempts + 1;
    const retryAt = options.retries ? nextRetryAt(invoice.billingAt, failedAttempts) : null;
    outcome = retryAt ? 'past_due' : 'uncollectible';
    updated = await updateInvoice(tx, invoice.id, { status: outcome, failedAttempts });
    if (retryAt) await scheduleDue(tx, { kind: INVOICE_RETRY, subjectId: invoice.id, dueAt: retryAt, now });
  }
  await recordAudit(tx, now, {
    orgId: invoice.orgId,
    actor: { type: 'system', id: null },
    action: `invoice.${outcome}`,
    targetType: 'invoice',
    targetId: invoice.id,
    before: { status: invoice.status },
    after: { status: outcome, attempt, failure_code: failureCode },
  });
  return { invoice: updated, outcome };
}

/**
 * Due work at B_k and at each retry: collects the invoice unless it was paid, voided or given up
 * meanwhile, or the org was deactivated. When the last retry fails, `onGivenUp` ends the subscription.
 */
export function collectDueInvoice(
  payments: PaymentProvider,
  onGivenUp: (tx: Transaction, invoice: InvoiceRow, now: Date) => Promise<void>,
) {
  return async (tx: Transaction, item: DueItem, now: Date) => {
    const invoice = await lockInvoice(tx, item.subjectId);
    if (!invoice || (invoice.status !== 'open' && invoice.status !== 'past_due')) return;
    if (invoice.collection !== 'charge_automatically') return;
    const org = await getOrg(tx, invoice.orgId);
    if (org.status !== 'active') return;
    const result = await collectInvoiceIn(tx, payments, invoice, now, { retries: true });
    if (result.outcome === 'uncollectible') await onGivenUp(tx, result.invoice, now);
  };
}
