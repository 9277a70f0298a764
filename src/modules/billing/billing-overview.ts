import type { Executor } from '../../db/client.ts';
import { fail } from '../../kernel/errors.ts';
import { toJsonAmount } from '../../kernel/money.ts';
import { unbilledRequests } from '../usage/index.ts';
import { findBillingSnapshot, findOpenCycleInvoice, linesOf } from './billing.repo.ts';
import { cycleLines, periodAt, termsFromJson, total } from './billing.ts';
import { planName } from './end-subscription.ts';
import { presentInvoice, presentLine, presentPaymentMethod, presentSubscription } from './present.ts';

/**
 * The Billing and Usage overview: plan, subscription, the next charge (the calculated invoice once
 * C_k has passed, else an estimate from usage so far) and the payment method.
 */
export async function billingOverview(executor: Executor, orgId: string, now: Date) {
  const snapshot = await findBillingSnapshot(executor, orgId);
  if (!snapshot) throw fail.notFound('organization');
  const { org, subscription, paymentMethod: method } = snapshot;
  let upcoming = null;
  if (subscription && now >= subscription.startedAt) {
    const current = periodAt(subscription.startedAt, now);
    const calculated = await findOpenCycleInvoice(executor, subscription.id, current.index);
    if (calculated) {
      const lines = await linesOf(executor, [calculated.id]);
      upcoming = {
        calculation_at: current.calculationAt.toISOString(),
        billing_at: current.end.toISOString(),
        estimate: {
          currency: calculated.currency,
          lines: lines.map(presentLine),
          total: toJsonAmount(calculated.total),
          final: true,
        },
        invoice: presentInvoice(calculated, lines),
      };
    } else {
      const period = current.calculationAt > now ? current : periodAt(subscription.startedAt, current.end);
      // Everything accepted so far that this invoice will bill: events up to its calculation instant,
      // including those at this very instant (the test clock stands still) and ones reported ahead.
      const requests = await unbilledRequests(executor, {
        orgId,
        subscriptionId: subscription.id,
        before: period.calculationAt,
      });
      const lines = cycleLines(planName(subscription.plan), termsFromJson(subscription.terms), requests);
      upcoming = {
        calculation_at: period.calculationAt.toISOString(),
        billing_at: period.end.toISOString(),
        estimate: {
          currency: subscription.currency,
          lines: lines.map(presentLine),
          total: toJsonAmount(total(lines)),
          final: false,
        },
        invoice: null,
      };
    }
  }
  return {
    org_id: org.id,
    plan: org.plan,
    subscription: subscription ? presentSubscription(subscription, now) : null,
    upcoming,
    payment_method: method ? presentPaymentMethod(method) : null,
  };
}
