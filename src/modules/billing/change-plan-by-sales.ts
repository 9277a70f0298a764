import type { Database } from '../../db/client.ts';
import { fail } from '../../kernel/errors.ts';
import type { Actor } from '../audit/index.ts';
import { lockOrg, orgDeactivated } from '../organizations/index.ts';
import type { PaymentProvider } from '../payments/index.ts';
import type { Catalog } from '../plans/index.ts';
import { findActiveSubscription, findPaymentMethod } from './billing.repo.ts';
import type { Terms } from './billing.ts';
import { endSubscriptionIn } from './end-subscription.ts';
import { plusTerms, startSubscriptionIn } from './start-subscription.ts';

/**
 * Staff with `sales` set an org's plan (spec 4): Enterprise with contract terms, or Plus, or Free. The
 * current subscription, if any, ends now as a downgrade does (final invoice), and the new one starts now.
 */
export async function changePlanBySales(
  db: Database,
  payments: PaymentProvider,
  now: Date,
  input: {
    orgId: string;
    actor: Actor;
    plan: 'free' | 'plus' | 'enterprise';
    terms?: Terms;
    paymentMethodId?: string;
    catalog: Catalog;
  },
) {
  if (input.plan === 'enterprise' && !input.terms) {
    throw fail.validation(
      'terms',
      'Enterprise needs terms: monthly_fee, included_requests, overage_per_million, net_days.',
    );
  }
  return db.transaction(async (tx) => {
    const org = await lockOrg(tx, input.orgId);
    if (org.status !== 'active') throw orgDeactivated();
    const terms = input.plan === 'plus' ? plusTerms(input.catalog) : input.terms;
    const chargesCard = input.plan === 'plus' || (terms !== undefined && terms.netDays === 0);
    let paymentMethodId: string | null = null;
    if (input.paymentMethodId) {
      const method = await findPaymentMethod(tx, org.id, input.paymentMethodId);
      if (!method) throw fail.notFound('payment method');
      paymentMethodId = method.id;
    }
    const current = await findActiveSubscription(tx, org.id);
    if (input.plan !== 'free' && chargesCard && !paymentMethodId) {
      paymentMethodId = current?.paymentMethodId ?? null;
      if (!paymentMethodId) {
        throw fail.validation('payment_method_id', 'This plan charges a card: give the org’s payment method.');
      }
    }
    if (!current && input.plan === 'free') {
      throw fail.conflict('no_subscription', 'This organization is already on the free plan.');
    }
    const ended = current
      ? await endSubscriptionIn(tx, payments, {
          org,
          subscription: current,
          at: now,
          reason: 'plan_changed_by_sales',
          actor: input.actor,
          finalCollection: 'retry',
        })
      : null;
    const started =
      input.plan === 'free'
        ? null
        : await startSubscriptionIn(tx, {
            org: { ...org, plan: 'free' },
            plan: input.plan,
            terms: terms as Terms,
            currency: input.catalog.currency,
            paymentMethodId,
            at: now,
            actor: input.actor,
          });
    return { subscription: started, ended: ended?.subscription ?? null, finalInvoice: ended?.finalInvoice ?? null };
  });
}
