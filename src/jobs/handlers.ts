import type { Deps } from '../deps.ts';
import {
  calculateDueInvoices,
  collectDueInvoices,
  endSubscriptionIn,
  findActiveSubscription,
  INVOICE_CALCULATION,
  INVOICE_COLLECTION,
  INVOICE_RETRY,
} from '../modules/billing/index.ts';
import { expireInvitationHandler, INVITATION_EXPIRY } from '../modules/identity/invitations.ts';
import { checkInactivity } from '../modules/lifecycle/index.ts';
import { lockOrg, ORG_INACTIVITY } from '../modules/organizations/index.ts';
import type { DueWorkRunner } from './runner.ts';

/** Every kind of due work Tierline knows, registered on the runner. */
export function registerDueWork(runner: DueWorkRunner, deps: Pick<Deps, 'payments'>): void {
  runner.register(INVITATION_EXPIRY, expireInvitationHandler);
  runner.registerBatch(INVOICE_CALCULATION, calculateDueInvoices, 1000);
  // After the last retry fails, the subscription ends as a downgrade; its final invoice is tried once.
  const collect = collectDueInvoices(deps.payments, async (tx, invoice, now) => {
    if (invoice.kind !== 'cycle') return;
    const org = await lockOrg(tx, invoice.orgId);
    const subscription = await findActiveSubscription(tx, org.id);
    if (subscription?.id !== invoice.subscriptionId) return;
    await endSubscriptionIn(tx, deps.payments, {
      org,
      subscription,
      at: now,
      reason: 'payment_failed',
      actor: { type: 'system', id: null },
      finalCollection: 'once',
    });
  });
  runner.registerBatch(INVOICE_COLLECTION, collect, 1000);
  runner.registerBatch(INVOICE_RETRY, collect, 1000);
  runner.registerBatch(ORG_INACTIVITY, checkInactivity(deps.payments), 1000);
}
