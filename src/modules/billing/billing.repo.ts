import { and, desc, eq, inArray, type SQL, sql } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import { bulkInsert } from '../../db/bulk.ts';
import type { Executor } from '../../db/client.ts';
import { afterCursor, type Cursor } from '../../db/pagination.ts';
import { preparedFor } from '../../db/prepared.ts';
import {
  invoiceLines,
  invoices,
  orgs,
  paymentAttempts,
  paymentMethods,
  salesInquiries,
  subscriptions,
} from '../../db/schema/index.ts';
import { newId } from '../../kernel/ids.ts';
import type { Line } from './billing.ts';

export type SubscriptionRow = typeof subscriptions.$inferSelect;
export type InvoiceRow = typeof invoices.$inferSelect;
export type LineRow = typeof invoiceLines.$inferSelect;
export type PaymentMethodRow = typeof paymentMethods.$inferSelect;

/** A row of an org-scoped table: its org and its id, the table's primary key. */
export interface RowKey {
  orgId: string;
  id: string;
}

/**
 * `(org_id, id) in (…keys)`, the keys sent as one JSON parameter: each is found through the table's
 * (org_id, id) primary key.
 */
function inKeys(orgColumn: PgColumn, idColumn: PgColumn, keys: readonly RowKey[]): SQL {
  const json = JSON.stringify(keys.map((key) => ({ org_id: key.orgId, id: key.id })));
  return sql`(${orgColumn}, ${idColumn}) in (select k.org_id, k.id from jsonb_to_recordset(${json}::jsonb) as k(org_id text, id text))`;
}

export async function insertPaymentMethod(executor: Executor, values: typeof paymentMethods.$inferInsert) {
  const [row] = await executor.insert(paymentMethods).values(values).returning();
  return row;
}

export async function findPaymentMethod(executor: Executor, orgId: string, id: string) {
  const [row] = await executor
    .select()
    .from(paymentMethods)
    .where(and(eq(paymentMethods.orgId, orgId), eq(paymentMethods.id, id)));
  return row;
}

export async function listPaymentMethods(executor: Executor, orgId: string) {
  return executor
    .select()
    .from(paymentMethods)
    .where(eq(paymentMethods.orgId, orgId))
    .orderBy(desc(paymentMethods.createdAt), desc(paymentMethods.id));
}

/**
 * What the Billing and Usage overview starts from, in one statement: the org, its active
 * subscription, and the payment method to show (the subscription's, else the newest). It reads the
 * org's row itself (an organizations table) because this is the most requested page of all.
 */
export async function findBillingSnapshot(executor: Executor, orgId: string) {
  const statement = preparedFor(executor, 'billing_snapshot', (db) => buildBillingSnapshot(db));
  const [row] = await statement.execute({ orgId });
  return row;
}

function buildBillingSnapshot(executor: Executor) {
  const shown = executor
    .select()
    .from(paymentMethods)
    .where(eq(paymentMethods.orgId, orgs.id))
    .orderBy(
      sql`${paymentMethods.id} = ${subscriptions.paymentMethodId} desc nulls last`,
      desc(paymentMethods.createdAt),
      desc(paymentMethods.id),
    )
    .limit(1)
    .as('shown');
  return executor
    .select({
      org: orgs,
      subscription: subscriptions,
      paymentMethod: {
        id: shown.id,
        orgId: shown.orgId,
        brand: shown.brand,
        last4: shown.last4,
        expMonth: shown.expMonth,
        expYear: shown.expYear,
        billingDetails: shown.billingDetails,
        createdAt: shown.createdAt,
      },
    })
    .from(orgs)
    .leftJoin(subscriptions, and(eq(subscriptions.orgId, orgs.id), eq(subscriptions.status, 'active')))
    .leftJoinLateral(shown, sql`true`)
    .where(eq(orgs.id, sql.placeholder('orgId')))
    .prepare('billing_snapshot');
}

export async function findActiveSubscription(executor: Executor, orgId: string) {
  const [row] = await executor
    .select()
    .from(subscriptions)
    .where(and(eq(subscriptions.orgId, orgId), eq(subscriptions.status, 'active')));
  return row;
}

export async function findSubscriptions(executor: Executor, keys: readonly RowKey[]) {
  if (keys.length === 0) return [];
  return executor
    .select()
    .from(subscriptions)
    .where(inKeys(subscriptions.orgId, subscriptions.id, keys));
}

/** Subscriptions by id alone, for due work that names them so (subscriptions_id_idx). */
export async function findSubscriptionsByIds(executor: Executor, ids: readonly string[]) {
  if (ids.length === 0) return [];
  return executor
    .select()
    .from(subscriptions)
    .where(inArray(subscriptions.id, [...ids]));
}

export async function findSubscription(executor: Executor, orgId: string, id: string) {
  const [row] = await executor
    .select()
    .from(subscriptions)
    .where(and(eq(subscriptions.orgId, orgId), eq(subscriptions.id, id)));
  return row;
}

export async function insertSubscription(executor: Executor, values: typeof subscriptions.$inferInsert) {
  const [row] = await executor.insert(subscriptions).values(values).returning();
  return row;
}

export async function markSubscriptionEnded(executor: Executor, key: RowKey, at: Date, reason: string) {
  const [row] = await executor
    .update(subscriptions)
    .set({ status: 'ended', endedAt: at, endReason: reason })
    .where(and(eq(subscriptions.orgId, key.orgId), eq(subscriptions.id, key.id), eq(subscriptions.status, 'active')))
    .returning();
  return row;
}

export async function setSubscriptionPaymentMethod(executor: Executor, key: RowKey, paymentMethodId: string) {
  await executor
    .update(subscriptions)
    .set({ paymentMethodId })
    .where(and(eq(subscriptions.orgId, key.orgId), eq(subscriptions.id, key.id)));
}

export type NewInvoice = Omit<typeof invoices.$inferInsert, 'number' | 'total'> & {
  id: string;
  lines: readonly Line[];
};

/**
 * Inserts invoices with their lines, each kind in one statement; numbers come from one sequence, so
 * they never repeat, in any org (the unique index, which starts with org_id, checks within an org).
 */
export async function insertInvoices(executor: Executor, values: readonly NewInvoice[]): Promise<InvoiceRow[]> {
  if (values.length === 0) return [];
  const numbered = await bulkInsert(
    executor,
    'invoices',
    [
      ['id', 'text'],
      // At least six digits, never cut: lpad would cut 1000000 to 100000, a number already given.
      ['number', null, sql`'TL-' || to_char(nextval('invoice_numbers'), 'FM9999999999999000000')`],
      ['org_id', 'text'],
      ['subscription_id', 'text'],
      ['kind', 'text'],
      ['period_index', 'int'],
      ['status', 'text'],
      ['currency', 'text'],
      ['period_start', 'timestamptz'],
      ['period_end', 'timestamptz'],
      ['calculated_at', 'timestamptz'],
      ['billing_at', 'timestamptz'],
      ['due_at', 'timestamptz'],
      ['total', 'bigint'],
      ['collection', 'text'],
      ['created_at', 'timestamptz'],
    ],
    values.map((invoice) => ({
      id: invoice.id,
      org_id: invoice.orgId,
      subscription_id: invoice.subscriptionId,
      kind: invoice.kind,
      period_index: invoice.periodIndex,
      status: invoice.status,
      currency: invoice.currency,
      period_start: invoice.periodStart,
      period_end: invoice.periodEnd,
      calculated_at: invoice.calculatedAt,
      billing_at: invoice.billingAt,
      due_at: invoice.dueAt,
      total: invoice.lines.reduce((sum, line) => sum + line.amount, 0n),
      collection: invoice.collection,
      created_at: invoice.createdAt,
    })),
    sql`returning id, number`,
  );
  await bulkInsert(
    executor,
    'invoice_lines',
    [
      ['org_id', 'text'],
      ['invoice_id', 'text'],
      ['position', 'int'],
      ['kind', 'text'],
      ['description', 'text'],
      ['quantity', 'bigint'],
      ['amount', 'bigint'],
    ],
    values.flatMap((invoice) =>
      invoice.lines.map((line, position) => ({
        org_id: invoice.orgId,
        invoice_id: invoice.id,
        position,
        kind: line.kind,
        description: line.description,
        quantity: line.quantity,
        amount: line.amount,
      })),
    ),
  );
  const numberOf = new Map(numbered.map((row) => [row.id as string, row.number as string]));
  return values.map(({ lines, ...invoice }) => ({
    ...invoice,
    number: numberOf.get(invoice.id) as string,
    total: lines.reduce((sum, line) => sum + line.amount, 0n),
    paidAt: invoice.paidAt ?? null,
    failedAttempts: invoice.failedAttempts ?? 0,
    voidedAt: invoice.voidedAt ?? null,
  }));
}

/** Inserts one invoice with its lines. */
export async function insertInvoice(executor: Executor, values: NewInvoice): Promise<InvoiceRow> {
  const [row] = await insertInvoices(executor, [values]);
  return row;
}

export async function findInvoice(executor: Executor, orgId: string, id: string) {
  const [row] = await executor
    .select()
    .from(invoices)
    .where(and(eq(invoices.orgId, orgId), eq(invoices.id, id)));
  return row;
}

/** Locks an invoice row for the rest of the transaction. */
export async function lockInvoice(executor: Executor, key: RowKey) {
  const [row] = await executor
    .select()
    .from(invoices)
    .where(and(eq(invoices.orgId, key.orgId), eq(invoices.id, key.id)))
    .for('update');
  return row;
}

export async function updateInvoice(executor: Executor, key: RowKey, values: Partial<typeof invoices.$inferInsert>) {
  const [row] = await executor
    .update(invoices)
    .set(values)
    .where(and(eq(invoices.orgId, key.orgId), eq(invoices.id, key.id)))
    .returning();
  return row;
}

/** The period's calculated cycle invoice that is still waiting for collection, if any. */
export async function findOpenCycleInvoice(
  executor: Executor,
  orgId: string,
  subscriptionId: string,
  periodIndex: number,
) {
  // Prepared: the Billing and Usage overview asks this on every view of a Plus org.
  const statement = preparedFor(executor, 'open_cycle_invoice', (db) =>
    db
      .select()
      .from(invoices)
      .where(
        and(
          eq(invoices.orgId, sql.placeholder('orgId')),
          eq(invoices.subscriptionId, sql.placeholder('subscriptionId')),
          eq(invoices.periodIndex, sql.placeholder('periodIndex')),
          eq(invoices.kind, 'cycle'),
          eq(invoices.status, 'open'),
        ),
      )
      .prepare('open_cycle_invoice'),
  );
  const [row] = await statement.execute({ orgId, subscriptionId, periodIndex });
  return row;
}

/** The period's cycle invoice when it was already collected (paid, past due or given up). */
export async function findCollectedCycleInvoice(
  executor: Executor,
  orgId: string,
  subscriptionId: string,
  periodIndex: number,
) {
  const [row] = await executor
    .select()
    .from(invoices)
    .where(
      and(
        eq(invoices.orgId, orgId),
        eq(invoices.subscriptionId, subscriptionId),
        eq(invoices.periodIndex, periodIndex),
        eq(invoices.kind, 'cycle'),
        inArray(invoices.status, ['paid', 'past_due', 'uncollectible']),
      ),
    );
  return row;
}

export async function listInvoices(executor: Executor, orgId: string, limit: number, cursor?: Cursor) {
  return executor
    .select()
    .from(invoices)
    .where(and(eq(invoices.orgId, orgId), afterCursor(invoices.createdAt, invoices.id, cursor)))
    .orderBy(desc(invoices.createdAt), desc(invoices.id))
    .limit(limit);
}

/** The lines of the org's invoices, in order. */
export async function linesOf(executor: Executor, orgId: string, invoiceIds: readonly string[]) {
  if (invoiceIds.length === 0) return [];
  return executor
    .select()
    .from(invoiceLines)
    .where(and(eq(invoiceLines.orgId, orgId), inArray(invoiceLines.invoiceId, [...invoiceIds])))
    .orderBy(invoiceLines.invoiceId, invoiceLines.position);
}

/** Past-due invoices of the org, oldest first: what a new card collects at once. */
export async function listPastDueInvoices(executor: Executor, orgId: string) {
  return executor
    .select()
    .from(invoices)
    .where(and(eq(invoices.orgId, orgId), eq(invoices.status, 'past_due')))
    .orderBy(invoices.billingAt);
}

export async function insertPaymentAttempts(
  executor: Executor,
  values: ReadonlyArray<Omit<typeof paymentAttempts.$inferInsert, 'id'>>,
) {
  if (values.length === 0) return;
  await bulkInsert(
    executor,
    'payment_attempts',
    [
      ['id', 'text'],
      ['org_id', 'text'],
      ['invoice_id', 'text'],
      ['payment_method_id', 'text'],
      ['amount', 'bigint'],
      ['status', 'text'],
      ['failure_code', 'text'],
      ['provider_ref', 'text'],
      ['attempted_at', 'timestamptz'],
    ],
    values.map((value) => ({
      id: newId('pay'),
      org_id: value.orgId,
      invoice_id: value.invoiceId,
      payment_method_id: value.paymentMethodId ?? null,
      amount: value.amount,
      status: value.status,
      failure_code: value.failureCode ?? null,
      provider_ref: value.providerRef ?? null,
      attempted_at: value.attemptedAt,
    })),
  );
}

/** How many collection attempts each invoice has had, by invoice id. */
export async function countPaymentAttempts(
  executor: Executor,
  invoices: readonly RowKey[],
): Promise<Map<string, number>> {
  if (invoices.length === 0) return new Map();
  const rows = await executor
    .select({ invoiceId: paymentAttempts.invoiceId, n: sql<number>`count(*)::int` })
    .from(paymentAttempts)
    .where(inKeys(paymentAttempts.orgId, paymentAttempts.invoiceId, invoices))
    .groupBy(paymentAttempts.invoiceId);
  return new Map(rows.map((row) => [row.invoiceId, Number(row.n)]));
}

export async function findPaymentMethods(executor: Executor, keys: readonly RowKey[]) {
  if (keys.length === 0) return [];
  return executor
    .select()
    .from(paymentMethods)
    .where(inKeys(paymentMethods.orgId, paymentMethods.id, keys));
}

/** Invoices by id alone, for due work and staff, who name them so (invoices_id_idx). */
export async function findInvoicesByIds(executor: Executor, ids: readonly string[]) {
  if (ids.length === 0) return [];
  return executor
    .select()
    .from(invoices)
    .where(inArray(invoices.id, [...ids]));
}

/** Locks many invoices, by id alone, for the rest of the transaction. */
export async function lockInvoicesByIds(executor: Executor, ids: readonly string[]) {
  if (ids.length === 0) return [];
  return executor
    .select()
    .from(invoices)
    .where(inArray(invoices.id, [...ids]))
    .for('update');
}

/** Applies each invoice's new collection state in one statement. */
export async function updateCollectionStates(
  executor: Executor,
  states: ReadonlyArray<{ orgId: string; id: string; status: string; failedAttempts: number; paidAt: Date | null }>,
) {
  if (states.length === 0) return;
  const json = JSON.stringify(
    states.map((state) => ({
      org_id: state.orgId,
      id: state.id,
      status: state.status,
      failed_attempts: state.failedAttempts,
      paid_at: state.paidAt?.toISOString() ?? null,
    })),
  );
  await executor.execute(sql`
    update invoices i set status = t.status, failed_attempts = t.failed_attempts, paid_at = t.paid_at
    from jsonb_to_recordset(${json}::jsonb) as t(org_id text, id text, status text, failed_attempts int, paid_at timestamptz)
    where i.org_id = t.org_id and i.id = t.id
  `);
}

export async function insertSalesInquiry(executor: Executor, values: Omit<typeof salesInquiries.$inferInsert, 'id'>) {
  const [row] = await executor
    .insert(salesInquiries)
    .values({ id: newId('inq'), ...values })
    .returning();
  return row;
}

export async function listSalesInquiries(executor: Executor, limit: number, cursor?: Cursor) {
  return executor
    .select()
    .from(salesInquiries)
    .where(afterCursor(salesInquiries.createdAt, salesInquiries.id, cursor))
    .orderBy(desc(salesInquiries.createdAt), desc(salesInquiries.id))
    .limit(limit);
}
