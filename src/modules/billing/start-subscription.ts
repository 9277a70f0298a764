import type { Database, Executor } from '../../db/client.ts';
import { scheduleDue } from '../../jobs/runner.ts';
import { fail } from '../../kernel/errors.ts';
import { newId } from '../../kernel/ids.ts';
import { type Actor, recordAudit } from '../audit/index.ts';
import { lockOrg, type OrgRecord, orgDeactivated, setOrgPlan } from '../organizations/index.ts';
import { type Catalog, catalogPlan } from '../plans/index.ts';
import { setBillingWindow } from '../usage/index.ts';
import { findActiveSubscription, findPaymentMethod, insertSubscription } from './billing.repo.ts';
import { period, type Terms, termsToJson } from './billing.ts';

export const INVOICE_CALCULATION = 'invoice_calculation';

/** The catalog's Plus terms. */
export function plusTerms(catalog: Catalog): Terms {
  const plus = catalogPlan(catalog, 'plus');
  return {
    monthlyFee: BigInt(plus?.monthly_fee ?? 0),
    includedRequests: BigInt(plus?.included_requests ?? 0),
    overagePerMillion: BigInt(plus?.overage_per_million ?? 0),
    netDays: 0,
  };
}

/**
 * Starts a subscription at `at` in the caller's transaction (the org row already locked): the plan
 * applies at once, usage from `at` on is billable to it, and the first invoice is calculated at C_1.
 * Nothing is charged now: all charges are in arrears.
 */
export async function startSubscriptionIn(
  tx: Executor,
  input: {
    org: OrgRecord;
    plan: 'plus' | 'enterprise';
    terms: Terms;
    currency: string;
    paymentMethodId: string | null;
    at: Date;
    actor: Actor;
  },
) {
  const subscription = await insertSubscription(tx, {
    id: newId('sub'),
    orgId: input.org.id,
    plan: input.plan,
    status: 'active',
    startedAt: input.at,
    paymentMethodId: input.paymentMethodId,
    currency: input.currency,
    terms: termsToJson(input.terms),
    createdAt: input.at,
  });
  await setOrgPlan(tx, input.org.id, input.plan, { now: input.at, latestRequestAt: null });
  await setBillingWindow(tx, input.org.id, { subscriptionId: subscription.id, startedAt: input.at });
  await scheduleDue(tx, {
    kind: INVOICE_CALCULATION,
    subjectId: subscription.id,
    dueAt: period(input.at, 1).calculationAt,
    payload: { period: 1 },
    now: input.at,
  });
  await recordAudit(tx, input.at, {
    orgId: input.org.id,
    actor: input.actor,
    action: 'subscription.started',
    targetType: 'subscription',
    targetId: subscription.id,
    before: { plan: input.org.plan },
    after: { plan: input.plan, terms: termsToJson(input.terms), payment_method_id: input.paymentMethodId },
  });
  return subscription;
}

/** Free → Plus, self-serve (spec 4): needs a payment method of the org; starts now. */
export async function upgradeToPlus(
  db: Database,
  now: Date,
  input: { orgId: string; plan: string; paymentMethodId: string; actor: Actor; catalog: Catalog },
) {
  if (input.plan === 'enterprise') {
    throw fail.forbidden('contact_sales_required', 'Enterprise is sold by our sales team. Use Contact Sales.');
  }
  if (input.plan !== 'plus') {
    throw fail.validation('plan', 'Only plus can be subscribed to here; cancel the plan to go back to free.');
  }
  return db.transaction(async (tx) => {
    const org = await lockOrg(tx, input.orgId);
    if (org.status !== 'active') throw orgDeactivated();
    const method = await findPaymentMethod(tx, org.id, input.paymentMethodId);
    if (!method || method.detachedAt) throw fail.notFound('payment method');
    if (await findActiveSubscription(tx, org.id)) {
      throw fail.conflict('already_subscribed', `This organization is already on the ${org.plan} plan.`);
    }
    return startSubscriptionIn(tx, {
      org,
      plan: 'plus',
      terms: plusTerms(input.catalog),
      currency: input.catalog.currency,
      paymentMethodId: method.id,
      at: now,
      actor: input.actor,
    });
  });
}
