import type { Database } from '../../db/client.ts';
import { addDays } from '../../kernel/calendar.ts';
import { deleteSettledEmailsBefore } from './notifications.repo.ts';

export interface PruneOutboxOptions {
  /** Emails sent or refused more than this many days ago are deleted. */
  retentionDays: number;
  /** Emails per statement, one transaction each. */
  batchSize?: number;
  /** Statements per call at most: a backlog is worked off over several passes, never in one long one. */
  maxBatches?: number;
}

/**
 * Retention for the email outbox: deletes, as of `now`, the emails sent or refused for good more
 * than `retentionDays` days before. Queued emails stay whatever their age. Answers how many went.
 */
export async function pruneOutbox(db: Database, now: Date, options: PruneOutboxOptions): Promise<{ emails: number }> {
  const batchSize = options.batchSize ?? 5000;
  const maxBatches = options.maxBatches ?? 4;
  const cutoff = addDays(now, -options.retentionDays);
  let emails = 0;
  for (let batch = 0; batch < maxBatches; batch++) {
    const deleted = await db.transaction((tx) => deleteSettledEmailsBefore(tx, cutoff, batchSize));
    emails += deleted;
    if (deleted < batchSize) break;
  }
  return { emails };
}
