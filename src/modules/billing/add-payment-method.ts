import type { Database } from '../../db/client.ts';
import { AppError, fail } from '../../kernel/errors.ts';
import { newId } from '../../kernel/ids.ts';
import { type Actor, recordAudit } from '../audit/index.ts';
import { isValidEmail } from '../identity/index.ts';
import { lockOrg, orgDeactivated } from '../organizations/index.ts';
import type { CardInput, PaymentProvider } from '../payments/index.ts';
import {
  findActiveSubscription,
  insertPaymentMethod,
  listPastDueInvoices,
  setSubscriptionPaymentMethod,
} from './billing.repo.ts';
import { collectInvoiceIn } from './collect-invoice.ts';

export interface BillingDetails {
  name: string;
  email: string;
  address: { line1: string; city: string; postal_code: string; country: string };
}

function checkDetails(details: BillingDetails, card: CardInput, now: Date) {
  const required: Array<[string, string]> = [
    ['billing_details.name', details.name],
    ['billing_details.address.line1', details.address.line1],
    ['billing_details.address.city', details.address.city],
    ['billing_details.address.postal_code', details.address.postal_code],
    ['billing_details.address.country', details.address.country],
  ];
  for (const [field, value] of required) if (!value.trim()) throw fail.validation(field, `${field} is required.`);
  if (!isValidEmail(details.email)) throw fail.validation('billing_details.email', 'The billing email is not valid.');
  const expiresAfter = Date.UTC(card.expYear, card.expMonth, 1);
  if (expiresAfter <= now.getTime()) throw fail.validation('card.exp_year', 'The card has expired.');
  if (!/^\d{3,4}$/.test(card.cvc)) throw fail.validation('card.cvc', 'The CVC has 3 or 4 digits.');
}

/**
 * Adds a card with billing details (spec 4, 5): verified first (a declined card creates nothing); it
 * becomes the payment method of the active subscription, and past-due invoices are collected at once.
 */
export async function addPaymentMethod(
  db: Database,
  payments: PaymentProvider,
  now: Date,
  input: { orgId: string; actor: Actor; card: CardInput; billingDetails: BillingDetails },
) {
  checkDetails(input.billingDetails, input.card, now);
  const verified = await payments.verifyCard(input.card);
  if (!verified.ok) {
    throw verified.code === 'card_declined'
      ? new AppError(402, 'card_declined', 'The card was declined. Try another card.')
      : fail.validation('card.number', verified.message);
  }
  return db.transaction(async (tx) => {
    const org = await lockOrg(tx, input.orgId);
    if (org.status !== 'active') throw orgDeactivated();
    const method = await insertPaymentMethod(tx, {
      id: newId('pm'),
      orgId: org.id,
      provider: payments.name,
      providerRef: verified.card.providerRef,
      brand: verified.card.brand,
      last4: verified.card.last4,
      expMonth: verified.card.expMonth,
      expYear: verified.card.expYear,
      billingDetails: {
        name: input.billingDetails.name.trim(),
        email: input.billingDetails.email.trim(),
        address: input.billingDetails.address,
      },
      createdAt: now,
    });
    await recordAudit(tx, now, {
      orgId: org.id,
      actor: input.actor,
      action: 'payment_method.added',
      targetType: 'payment_method',
      targetId: method.id,
      after: { brand: method.brand, last4: method.last4, exp_month: method.expMonth, exp_year: method.expYear },
    });
    const subscription = await findActiveSubscription(tx, org.id);
    if (subscription) await setSubscriptionPaymentMethod(tx, subscription, method.id);
    const collected = [];
    for (const invoice of await listPastDueInvoices(tx, org.id)) {
      if (invoice.collection !== 'charge_automatically') continue;
      await setSubscriptionPaymentMethod(tx, { orgId: invoice.orgId, id: invoice.subscriptionId }, method.id);
      // An extra attempt: a failing new card leaves the scheduled retries as they were.
      collected.push(
        (await collectInvoiceIn(tx, payments, invoice, now, { retries: true, extraAttempt: true })).invoice,
      );
    }
    return { method, collected };
  });
}
