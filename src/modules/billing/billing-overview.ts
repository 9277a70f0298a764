import type { Executor } from '../../db/client.ts';
import type { OrgReadCache } from '../../db/read-cache.ts';
import { fail } from '../../kernel/errors.ts';
import { toJsonAmount } from '../../kernel/money.ts';
import { unbilledRequests } from '../usage/index.ts';
import { findBillingSnapshot, findOpenCycleInvoice, linesOf } from './billing.repo.ts';
import { cycleLines, periodAt, termsFromJson, total } from './billing.ts';
import { planName } from './end-subscription.ts';
import { presentInvoice, presentLine, presentPaymentMethod, presentSubscription } from './present.ts';

/**
 * How old the usage in a kept estimate may be. Usage this process accepts shows at once, and usage
 * another process accepts as soon as its usage notice arrives (within about half a second,
 * USAGE_NOTICE_INTERVAL_MS); this limit only matters when such a notice was lost with its process.
 * Everything else in the overview is as of the last committed change.
 */
export const USAGE_ESTIMATE_MAX_AGE_MS = 60_000;

/**
 * The Billing and Usage overview as the JSON the API answers. The answer is kept in the read cache
 * until the org changes, its usage estimate is older than USAGE_ESTIMATE_MAX_AGE_MS, or the clock
 * passes an instant that changes it (a calculation instant, a period's end).
 */
export async function billingOverviewJson(executor: Executor, orgId: string, now: Date, cache: OrgReadCache) {
  const read: OrgReadCache['read'] = (...args) => cache.read(...args);
  for (;;) {
    const answer = await read(`overview:${orgId}`, orgId, () => composeOverview(executor, orgId, now, read), {
      usage: true,
      maxAgeMs: USAGE_ESTIMATE_MAX_AGE_MS,
    });
    if (now >= answer.validFrom && now < answer.validUntil) return answer.json;
    // Composed for another instant (the clock moved past a boundary): compose it for this one.
    cache.forget(`overview:${orgId}`);
  }
}

const ALWAYS = { from: new Date(-8.64e15), until: new Date(8.64e15) };

/**
 * The Billing and Usage overview: plan, subscription, the next charge (the calculated invoice once
 * C_k has passed, else an estimate from usage so far) and the payment method; with the instants
 * between which the same answer holds.
 */
async function composeOverview(executor: Executor, orgId: string, now: Date, read: OrgReadCache['read']) {
  const snapshot = await read(
    `billing:${orgId}`,
    (row) => (row ? orgId : undefined),
    () => findBillingSnapshot(executor, orgId),
  );
  if (!snapshot) throw fail.notFound('organization');
  const { org, subscription, paymentMethod: method } = snapshot;
  let upcoming = null;
  let valid = subscription ? { from: ALWAYS.from, until: subscription.startedAt } : ALWAYS;
  if (subscription && now >= subscription.startedAt) {
    const current = periodAt(subscription.startedAt, now);
    // Before C_k the answer estimates this period; from C_k on, it shows the next period's charge.
    valid =
      now < current.calculationAt
        ? { from: current.start, until: current.calculationAt }
        : { from: current.calculationAt, until: current.end };
    const open = await read(`open-invoice:${subscription.id}:${current.index}`, orgId, async () => {
      const invoice = await findOpenCycleInvoice(executor, orgId, subscription.id, current.index);
      return invoice ? { invoice, lines: await linesOf(executor, orgId, [invoice.id]) } : null;
    });
    if (open) {
      const { invoice: calculated, lines } = open;
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
      // Not kept on its own: the answer that shows it is kept for at most USAGE_ESTIMATE_MAX_AGE_MS.
      const requests = await unbilledRequests(executor, {
        orgId,
        subscriptionId: subscription.id,
        since: subscription.startedAt,
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
  const overview = {
    org_id: org.id,
    plan: org.plan,
    subscription: subscription ? presentSubscription(subscription, now) : null,
    upcoming,
    payment_method: method ? presentPaymentMethod(method) : null,
  };
  // Kept encoded: the bytes are written to each answer as they are.
  return { json: Buffer.from(JSON.stringify(overview)), validFrom: valid.from, validUntil: valid.until };
}
