import { sql } from 'drizzle-orm';
import type { Executor } from './client.ts';

/** The channel on which workers hear that near-term work was written. */
export const WORK_CHANNEL = 'tierline_work';

/**
 * Tells the workers that work is due now or soon. A NOTIFY sent inside a transaction is delivered only
 * when it commits, so a rolled-back change wakes nobody.
 */
export async function notifyWorkers(executor: Executor): Promise<void> {
  await executor.execute(sql`select pg_notify(${WORK_CHANNEL}, '')`);
}
