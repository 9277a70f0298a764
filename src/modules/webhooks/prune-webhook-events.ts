import type { Database } from '../../db/client.ts';
import { addDays } from '../../kernel/calendar.ts';
import { deleteEvents, findEventsWithUnsettledDeliveries, lockSettledEventsBefore } from './webhooks.repo.ts';

export interface PruneWebhookEventsOptions {
  /** Events older than this many days, every delivery settled, are deleted. */
  retentionDays: number;
  /** Events per batch (each with its deliveries and their attempts), one transaction each. */
  batchSize?: number;
  /** Batches per call at most: a backlog is worked off over several passes, never in one long one. */
  maxBatches?: number;
}

/**
 * Retention for webhooks (Stripe keeps events 30 days): deletes, as of `now`, the events created
 * more than `retentionDays` days before whose deliveries all succeeded or failed, with those
 * deliveries and their attempts. An event not fanned out yet, or with a delivery pending or being
 * sent, is kept whatever its age. Answers how many events went.
 */
export async function pruneWebhookEvents(
  db: Database,
  now: Date,
  options: PruneWebhookEventsOptions,
): Promise<{ events: number }> {
  const batchSize = options.batchSize ?? 1000;
  const maxBatches = options.maxBatches ?? 5;
  const cutoff = addDays(now, -options.retentionDays);
  let events = 0;
  for (let batch = 0; batch < maxBatches; batch++) {
    const { picked, deleted } = await db.transaction(async (tx) => {
      const candidates = await lockSettledEventsBefore(tx, cutoff, batchSize);
      // Read again under the deliveries' locks: a retry since the pick keeps its event.
      const unsettled = await findEventsWithUnsettledDeliveries(tx, candidates);
      const settled = candidates.filter((id) => !unsettled.has(id));
      return { picked: candidates.length, deleted: await deleteEvents(tx, settled) };
    });
    events += deleted;
    if (picked < batchSize) break;
  }
  return { events };
}
