import { toJsonAmount } from '../../kernel/money.ts';
import type { InvoiceRow, LineRow, PaymentMethodRow, SubscriptionRow } from './billing.repo.ts';
import { periodAt, presentTerms, termsFromJson } from './billing.ts';

const iso = (value: Date | null | undefined) => (value ? value.toISOString() : null);

/** The subscription as the API shows it (spec 12), with its current period and next dates. */
export function presentSubscription(subscription: SubscriptionRow, now: Date) {
  const active = subscription.status === 'active';
  const at = active ? now : (subscription.endedAt ?? now);
  const current = at >= subscription.startedAt ? periodAt(subscription.startedAt, at) : null;
  return {
    id: subscription.id,
    org_id: subscription.orgId,
    plan: subscription.plan,
    status: subscription.status,
    started_at: subscription.startedAt.toISOString(),
    ended_at: iso(subscription.endedAt),
    end_reason: subscription.endReason,
    payment_method_id: subscription.paymentMethodId,
    currency: subscription.currency,
    terms: presentTerms(termsFromJson(subscription.terms)),
    current_period: current ? { start: current.start.toISOString(), end: current.end.toISOString() } : null,
    next_calculation_at: active && current ? nextCalculation(subscription, now).toISOString() : null,
    next_billing_at: active && current ? nextCalculationPeriodEnd(subscription, now).toISOString() : null,
  };
}

/** The next calculation instant still ahead: C_k of this period, or C_(k+1) once C_k has passed. */
function nextCalculation(subscription: SubscriptionRow, now: Date): Date {
  const current = periodAt(subscription.startedAt, now);
  if (current.calculationAt > now) return current.calculationAt;
  return periodAt(subscription.startedAt, current.end).calculationAt;
}

function nextCalculationPeriodEnd(subscription: SubscriptionRow, now: Date): Date {
  const current = periodAt(subscription.startedAt, now);
  return current.calculationAt > now ? current.end : periodAt(subscription.startedAt, current.end).end;
}

export function presentLine(line: Pick<LineRow, 'kind' | 'description' | 'quantity' | 'amount'>) {
  return {
    kind: line.kind,
    description: line.description,
    quantity: toJsonAmount(line.quantity),
    amount: toJsonAmount(line.amount),
  };
}

/** The invoice as the API shows it (spec 12). */
export function presentInvoice(invoice: InvoiceRow, lines: readonly LineRow[]) {
  return {
    id: invoice.id,
    number: invoice.number,
    org_id: invoice.orgId,
    subscription_id: invoice.subscriptionId,
    kind: invoice.kind,
    status: invoice.status,
    currency: invoice.currency,
    collection: invoice.collection,
    period: { start: invoice.periodStart.toISOString(), end: invoice.periodEnd.toISOString() },
    calculated_at: invoice.calculatedAt.toISOString(),
    billing_at: invoice.billingAt.toISOString(),
    due_at: invoice.dueAt.toISOString(),
    paid_at: iso(invoice.paidAt),
    voided_at: iso(invoice.voidedAt),
    lines: lines.filter((line) => line.invoiceId === invoice.id).map(presentLine),
    total: toJsonAmount(invoice.total),
    created_at: invoice.createdAt.toISOString(),
  };
}

export function presentPaymentMethod(
  method: Pick<
    PaymentMethodRow,
    'id' | 'orgId' | 'brand' | 'last4' | 'expMonth' | 'expYear' | 'billingDetails' | 'createdAt'
  >,
) {
  return {
    id: method.id,
    org_id: method.orgId,
    brand: method.brand,
    last4: method.last4,
    exp_month: method.expMonth,
    exp_year: method.expYear,
    billing_details: method.billingDetails,
    created_at: method.createdAt.toISOString(),
  };
}
