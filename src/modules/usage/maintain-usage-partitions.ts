import type { Database } from '../../db/client.ts';
import { createUsagePartition, listUsageMonths, lockUsagePartitions } from './usage.repo.ts';
import { missingUsageMonths, PARTITION_LOCK_TIMEOUT_MS, usageMonthsAt } from './usage.ts';

/**
 * A worker pass task: makes sure `usage_minutes` has a partition for each month usage accepted at
 * `now` may fall in and for the next two months (usageMonthsAt). Usage of a month without its own
 * partition waits in the default partition and moves into the month's partition when it is created.
 * Usually a single catalog read; creating is serialized across processes and done in one transaction,
 * so two workers at once create each month once and a crash leaves nothing half done.
 */
export async function maintainUsagePartitions(
  db: Database,
  now: Date,
): Promise<{ created: string[]; movedRows: number }> {
  const wanted = usageMonthsAt(now);
  if (missingUsageMonths(wanted, await listUsageMonths(db)).length === 0) return { created: [], movedRows: 0 };
  return db.transaction(async (tx) => {
    await lockUsagePartitions(tx, PARTITION_LOCK_TIMEOUT_MS);
    // Read again under the lock: another worker may have created them meanwhile.
    const created: string[] = [];
    let movedRows = 0;
    for (const month of missingUsageMonths(wanted, await listUsageMonths(tx))) {
      movedRows += await createUsagePartition(tx, month);
      created.push(month.name);
    }
    return { created, movedRows };
  });
}
