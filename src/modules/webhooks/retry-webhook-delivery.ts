import type { Database } from '../../db/client.ts';
import { fail } from '../../kernel/errors.ts';
import { type Actor, recordAudit } from '../audit/index.ts';
import { type DeliveryRow, findEndpoint, lockDelivery, updateDelivery } from './webhooks.repo.ts';

/**
 * Staff send a delivery again (Stripe's "Resend"): due now, for the next pass of the dispatcher. Any
 * delivery may be retried but one being sent (409). Past its three days, a failed retry is failed
 * again at once; within them, the retry schedule goes on.
 */
export async function retryWebhookDelivery(
  db: Database,
  now: Date,
  input: { id: string; actor: Actor },
): Promise<DeliveryRow> {
  return db.transaction(async (tx) => {
    const delivery = await lockDelivery(tx, input.id);
    if (!delivery) throw fail.notFound('webhook delivery');
    if (delivery.status === 'sending' && delivery.nextAttemptAt && delivery.nextAttemptAt > now) {
      throw fail.conflict('delivery_in_flight', 'This delivery is being sent now. Look at its attempts in a moment.');
    }
    const endpoint = await findEndpoint(tx, delivery.endpointId);
    if (!endpoint?.enabled) {
      throw fail.conflict('endpoint_disabled', 'The endpoint is disabled. Enable it to send its deliveries.');
    }
    const retried = await updateDelivery(tx, delivery.id, { status: 'pending', nextAttemptAt: now, claimToken: null });
    await recordAudit(tx, now, {
      orgId: null,
      actor: input.actor,
      action: 'webhook_delivery.retried',
      targetType: 'webhook_delivery',
      targetId: delivery.id,
      before: { status: delivery.status },
      after: { status: 'pending', next_attempt_at: now.toISOString() },
    });
    return retried;
  });
}
