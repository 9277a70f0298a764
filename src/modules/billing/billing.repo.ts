import { and, desc, eq, inArray, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.ts';
import { afterCursor, type Cursor } from '../../db/pagination.ts';
import {
  invoiceLines,
  invoices,
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

export async function findActiveSubscription(executor: Executor, orgId: string) {
  const [row] = await executor
    .select()
    .from(subscriptions)
    .where(and(eq(subscriptions.orgId, orgId), eq(subscriptions.status, 'active')));
  return row;
}

export async function findSubscription(executor: Executor, id: string) {
  const [row] = await executor.select().from(subscriptions).where(eq(subscriptions.id, id));
  return row;
}

export async function insertSubscription(executor: Executor, values: typeof subscriptions.$inferInsert) {
  const [row] = await executor.insert(subscriptions).values(values).returning();
  return row;
}

export async function markSubscriptionEnded(executor: Executor, id: string, at: Date, reason: string) {
  const [row] = await executor
    .update(subscriptions)
    .set({ status: 'ended', endedAt: at, endReason: reason })
    .where(and(eq(subscriptions.id, id), eq(subscriptions.status, 'active')))
    .returning();
  return row;
}

export async function setSubscriptionPaymentMethod(executor: Executor, id: string, paymentMethodId: string) {
  await executor.update(subscriptions).set({ paymentMethodId }).where(eq(subscriptions.id, id));
}

/** Inserts an invoice with its lines; the number comes from one sequence, so numbers never repeat. */
export async function insertInvoice(
  executor: Executor,
  values: Omit<typeof invoices.$inferInsert, 'number' | 'id' | 'total'> & { id?: string; lines: readonly Line[] },
): Promise<InvoiceRow> {
  const id = values.id ?? newId('inv');
  const total = values.lines.reduce((sum, line) => sum + line.amount, 0n);
  const [row] = await executor
    .insert(invoices)
    .values({
      ...values,
      id,
      total,
      number: sql`'TL-' || lpad(nextval('invoice_numbers')::text, 6, '0')`,
    })
    .returning();
  await executor.insert(invoiceLines).values(
    values.lines.map((line, position) => ({
      invoiceId: id,
      position,
      kind: line.kind,
      description: line.description,
      quantity: line.quantity,
      amount: line.amount,
    })),
  );
  return row;
}

export async function findInvoice(executor: Executor, orgId: string, id: string) {
  const [row] = await executor
    .select()
    .from(invoices)
    .where(and(eq(invoices.orgId, orgId), eq(invoices.id, id)));
  return row;
}

export async function findInvoiceById(executor: Executor, id: string) {
  const [row] = await executor.select().from(invoices).where(eq(invoices.id, id));
  return row;
}

/** Locks an invoice row for the rest of the transaction. */
export async function lockInvoice(executor: Executor, id: string) {
  const [row] = await executor.select().from(invoices).where(eq(invoices.id, id)).for('update');
  return row;
}

export async function updateInvoice(executor: Executor, id: string, values: Partial<typeof invoices.$inferInsert>) {
  const [row] = await executor.update(invoices).set(values).where(eq(invoices.id, id)).returning();
  return row;
}

/** The period's calculated cycle invoice that is still waiting for collection, if any. */
export async function findOpenCycleInvoice(executor: Executor, subscriptionId: string, periodIndex: number) {
  const [row] = await executor
    .select()
    .from(invoices)
    .where(
      and(
        eq(invoices.subscriptionId, subscriptionId),
        eq(invoices.periodIndex, periodIndex),
        eq(invoices.kind, 'cycle'),
        eq(invoices.status, 'open'),
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

export async function linesOf(executor: Executor, invoiceIds: readonly string[]) {
  if (invoiceIds.length === 0) return [];
  return executor
    .select()
    .from(invoiceLines)
    .where(inArray(invoiceLines.invoiceId, [...invoiceIds]))
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

export async function insertPaymentAttempt(
  executor: Executor,
  values: Omit<typeof paymentAttempts.$inferInsert, 'id'>,
) {
  await executor.insert(paymentAttempts).values({ id: newId('pay'), ...values });
}

export async function countPaymentAttempts(executor: Executor, invoiceId: string): Promise<number> {
  const [row] = await executor
    .select({ n: sql<number>`count(*)::int` })
    .from(paymentAttempts)
    .where(eq(paymentAttempts.invoiceId, invoiceId));
  return Number(row.n);
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
