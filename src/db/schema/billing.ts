import { sql } from 'drizzle-orm';
import { bigint, index, integer, jsonb, pgSequence, pgTable, primaryKey, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { instant } from './columns.ts';

/** Cards on file: only brand, last four digits and expiry are kept, never the number or CVC. */
export const paymentMethods = pgTable(
  'payment_methods',
  {
    id: text('id').notNull(),
    orgId: text('org_id').notNull(),
    provider: text('provider').notNull(),
    providerRef: text('provider_ref').notNull(),
    brand: text('brand').notNull(),
    last4: text('last4').notNull(),
    expMonth: integer('exp_month').notNull(),
    expYear: integer('exp_year').notNull(),
    billingDetails: jsonb('billing_details').notNull(),
    createdAt: instant('created_at').notNull(),
    detachedAt: instant('detached_at'),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.id] }), index('payment_methods_org_idx').on(t.orgId, t.createdAt)],
);

/** An org's paid plan from started_at to ended_at. At most one active per org. */
export const subscriptions = pgTable(
  'subscriptions',
  {
    id: text('id').notNull(),
    orgId: text('org_id').notNull(),
    plan: text('plan').notNull(),
    status: text('status').notNull(),
    startedAt: instant('started_at').notNull(),
    endedAt: instant('ended_at'),
    endReason: text('end_reason'),
    paymentMethodId: text('payment_method_id'),
    currency: text('currency').notNull(),
    /** monthly_fee, included_requests, overage_per_million (minor units, as strings), net_days. */
    terms: jsonb('terms').notNull(),
    createdAt: instant('created_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.orgId, t.id] }),
    uniqueIndex('subscriptions_one_active_per_org').on(t.orgId).where(sql`status = 'active'`),
    index('subscriptions_org_idx').on(t.orgId, t.startedAt),
    // Invoice calculation is due work that names the subscription by id alone.
    index('subscriptions_id_idx').on(t.id),
  ],
);

export const invoiceNumbers = pgSequence('invoice_numbers', { startWith: 1 });

/** What an org owes for one period of a subscription (cycle) or for its last part (final). */
export const invoices = pgTable(
  'invoices',
  {
    id: text('id').notNull(),
    number: text('number').notNull(),
    orgId: text('org_id').notNull(),
    subscriptionId: text('subscription_id').notNull(),
    kind: text('kind').notNull(),
    periodIndex: integer('period_index').notNull(),
    status: text('status').notNull(),
    currency: text('currency').notNull(),
    periodStart: instant('period_start').notNull(),
    periodEnd: instant('period_end').notNull(),
    calculatedAt: instant('calculated_at').notNull(),
    billingAt: instant('billing_at').notNull(),
    dueAt: instant('due_at').notNull(),
    paidAt: instant('paid_at'),
    total: bigint('total', { mode: 'bigint' }).notNull(),
    collection: text('collection').notNull(),
    failedAttempts: integer('failed_attempts').notNull().default(0),
    voidedAt: instant('voided_at'),
    createdAt: instant('created_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.orgId, t.id] }),
    // Numbers come only from the invoice_numbers sequence, which never repeats a value: that keeps
    // them unique across orgs; the index (org first, for sharding) keeps them unique within an org.
    uniqueIndex('invoices_org_number_key').on(t.orgId, t.number),
    uniqueIndex('invoices_one_cycle_per_period')
      .on(t.orgId, t.subscriptionId, t.periodIndex)
      .where(sql`kind = 'cycle' and status <> 'void'`),
    uniqueIndex('invoices_one_final_per_subscription').on(t.orgId, t.subscriptionId).where(sql`kind = 'final'`),
    index('invoices_org_idx').on(t.orgId, t.createdAt),
    index('invoices_status_idx').on(t.status, t.kind),
    // Collection and retries are due work that names the invoice by id alone, as does staff marking
    // an invoice paid.
    index('invoices_id_idx').on(t.id),
  ],
);

export const invoiceLines = pgTable(
  'invoice_lines',
  {
    /** The invoice's org: lines are keyed and sharded with their invoice. */
    orgId: text('org_id').notNull(),
    invoiceId: text('invoice_id').notNull(),
    position: integer('position').notNull(),
    kind: text('kind').notNull(),
    description: text('description').notNull(),
    quantity: bigint('quantity', { mode: 'bigint' }).notNull(),
    amount: bigint('amount', { mode: 'bigint' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.invoiceId, t.position] })],
);

/** Every attempt to collect an invoice. At most one succeeds per invoice. */
export const paymentAttempts = pgTable(
  'payment_attempts',
  {
    id: text('id').notNull(),
    orgId: text('org_id').notNull(),
    invoiceId: text('invoice_id').notNull(),
    paymentMethodId: text('payment_method_id'),
    amount: bigint('amount', { mode: 'bigint' }).notNull(),
    status: text('status').notNull(),
    failureCode: text('failure_code'),
    providerRef: text('provider_ref'),
    attemptedAt: instant('attempted_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.orgId, t.id] }),
    uniqueIndex('payment_attempts_one_success').on(t.orgId, t.invoiceId).where(sql`status = 'succeeded'`),
    index('payment_attempts_invoice_idx').on(t.orgId, t.invoiceId),
  ],
);

/** The test payment provider's ledger: one row per idempotency key, so a retried charge is one charge. */
export const testProviderCharges = pgTable('test_provider_charges', {
  idempotencyKey: text('idempotency_key').primaryKey(),
  cardRef: text('card_ref').notNull(),
  amount: bigint('amount', { mode: 'bigint' }).notNull(),
  currency: text('currency').notNull(),
  status: text('status').notNull(),
  createdAt: instant('created_at').notNull(),
});

export const salesInquiries = pgTable(
  'sales_inquiries',
  {
    id: text('id').notNull(),
    orgId: text('org_id').notNull(),
    createdBy: text('created_by'),
    name: text('name').notNull(),
    email: text('email').notNull(),
    company: text('company').notNull(),
    message: text('message').notNull(),
    createdAt: instant('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.id] }), index('sales_inquiries_created_idx').on(t.createdAt, t.id)],
);
