import { eq, sql } from 'drizzle-orm';
import type { Database } from '../../db/client.ts';
import { testClock } from '../../db/schema/index.ts';
import type { Clock } from '../../kernel/clock.ts';
import { fail } from '../../kernel/errors.ts';

const ROW_ID = 1;

/**
 * The persisted test clock (spec 10): one row shared by every process on the database. It stands
 * still between advances. Created at `start` unless a clock already exists.
 */
export async function openTestClock(db: Database, start: Date): Promise<Clock> {
  await db.insert(testClock).values({ id: ROW_ID, now: start }).onConflictDoNothing();
  return {
    isTestClock: true,
    now: async () => {
      const [row] = await db.select().from(testClock).where(eq(testClock.id, ROW_ID));
      return row.now;
    },
  };
}

/** Moves the test clock forward to `to`, after due work up to it has been processed. */
export async function setTestClock(db: Database, to: Date): Promise<void> {
  await db
    .update(testClock)
    .set({ now: sql`greatest(${testClock.now}, ${to.toISOString()}::timestamptz)` })
    .where(eq(testClock.id, ROW_ID));
}

/** Refuses moving the clock backwards. */
export function checkAdvance(current: Date, to: Date): void {
  if (to < current) {
    throw fail.validation('to', `The test clock only moves forward; it is at ${current.toISOString()}.`);
  }
}
