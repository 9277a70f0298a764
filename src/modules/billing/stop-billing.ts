import { and, eq, inArray } from 'drizzle-orm';
import type { Executor } from '../../db/client.ts';
import { invoices, subscriptions } from '../../db/schema/index.ts';
import { cancelDueMany } from '../../jobs/runner.ts';
import { type Actor, recordAudits } from '../audit/index.ts';
import type { OrgRecord } from '../organizations/index.ts';
import type { PaymentProvider } from '../payments/index.ts';
import type { InvoiceRow, SubscriptionRow } from './billing.repo.ts';
import { INVOICE_RETRY } from './collect-invoice.ts';
import { endSubscriptionIn } from './end-subscription.ts';

/**
 * Billing stops for the orgs (deactivation, spec 8.2), in the caller's transaction with their rows
 * locked: an active subscription ends at `now` as a downgrade does, its final invoice charged once;
 * past-due invoices are given up (uncollectible) and their retries cancelled. Invoices payable by
 * transfer stay open for staff to settle.
 */
export async function stopBillingIn(
  tx: Executor,
  payments: PaymentProvider,
  orgs: readonly OrgRecord[],
  now: Date,
  input: { actor: Actor; reason: string },
): Promise<Map<string, { subscription: SubscriptionRow; finalInvoice: InvoiceRow }>> {
  const ended = new Map<string, { subscription: SubscriptionRow; finalInvoice: InvoiceRow }>();
  if (orgs.length === 0) return ended;
  const orgIds = orgs.map((org) => org.id);
  const active = await tx
    .select()
    .from(subscriptions)
    .where(and(inArray(subscriptions.orgId, orgIds), eq(subscriptions.status, 'active')));
  const byId = new Map(orgs.map((org) => [org.id, org]));
  for (const subscription of active) {
    const org = byId.get(subscription.orgId) as OrgRecord;
    const result = await endSubscriptionIn(tx, payments, {
      org,
      subscription,
      at: now,
      reason: 'deactivation',
      actor: input.actor,
      finalCollection: 'once',
    });
    ended.set(org.id, result);
  }
  const givenUp = await tx
    .update(invoices)
    .set({ status: 'uncollectible' })
    .where(
      and(
        inArray(invoices.orgId, orgIds),
        eq(invoices.status, 'past_due'),
        eq(invoices.collection, 'charge_automatically'),
      ),
    )
    .returning({ id: invoices.id, orgId: invoices.orgId });
  await cancelDueMany(
    tx,
    INVOICE_RETRY,
    givenUp.map((invoice) => invoice.id),
    now,
  );
  await recordAudits(
    tx,
    now,
    givenUp.map((invoice) => ({
      orgId: invoice.orgId,
      actor: input.actor,
      action: 'invoice.uncollectible',
      targetType: 'invoice',
      targetId: invoice.id,
      before: { status: 'past_due' },
      after: { status: 'uncollectible' },
      reason: input.reason,
    })),
  );
  return ended;
}
