import type { Database } from '../../db/client.ts';
import { dropUsagePartition, listUsageMonths, lockUsagePartitions, usageBillingClasses } from './usage.repo.ts';
import {
  billingHold,
  expiredUsageMonths,
  PARTITION_LOCK_TIMEOUT_MS,
  type UsageBillingHold,
  type UsageMonth,
} from './usage.ts';

/** A month of usage that retention removed: its partition's name and what it held. */
export interface DroppedUsageMonth {
  month: string;
  rows: number;
  requests: bigint;
}

/** A month old enough to drop that billing still needs, and why (one entry per reason). */
export interface KeptUsageMonth {
  month: string;
  holds: Array<{
    reason: UsageBillingHold;
    rows: number;
    requests: bigint;
    subscriptions: number;
    exampleSubscriptionId: string;
  }>;
}

/**
 * A worker pass task: usage retention by month (TIERLINE_USAGE_RETENTION_MONTHS). As of `now`, each
 * monthly partition of `usage_minutes` that ended by the start of the month `retentionMonths` months
 * before now's (expiredUsageMonths) is detached and dropped, unless billing may still need a row of
 * it (billingHold): such a month is kept, and reported, until billing is done with it. Retention 0
 * does nothing. The default partition and recent months are never touched. Usually a single catalog
 * read; dropping is serialized across processes and done in one short transaction, so two workers at
 * once drop each month once and a crash leaves nothing half done.
 */
export async function dropExpiredUsagePartitions(
  db: Database,
  now: Date,
  options: { retentionMonths: number },
): Promise<{ dropped: DroppedUsageMonth[]; kept: KeptUsageMonth[] }> {
  const kept: KeptUsageMonth[] = [];
  const dropped: DroppedUsageMonth[] = [];
  if (options.retentionMonths === 0) return { dropped, kept };
  const expired = expiredUsageMonths(await listUsageMonths(db), now, options.retentionMonths);
  if (expired.length === 0) return { dropped, kept };
  // Each month is read before any lock is taken (a scan of its partition): what billing needs of a
  // month this old only ever shrinks (an unbilled row is billed, an invoice is collected or passes its
  // B_k, a subscription ends; a void gives rows back only to bill them on the final invoice in the same
  // transaction; reports and new subscriptions write recent minutes only), so a month found free stays
  // free while the lock is awaited.
  const free: Array<{ month: UsageMonth; entry: DroppedUsageMonth }> = [];
  for (const month of expired) {
    const classes = await usageBillingClasses(db, month);
    const holds = classes.flatMap((group) => {
      const reason = billingHold(group, now);
      if (!reason) return [];
      const { rows, requests, subscriptions, exampleSubscriptionId } = group;
      return [{ reason, rows, requests, subscriptions, exampleSubscriptionId }];
    });
    if (holds.length > 0) {
      kept.push({ month: month.name, holds });
      continue;
    }
    const rows = classes.reduce((sum, group) => sum + group.rows, 0);
    const requests = classes.reduce((sum, group) => sum + group.requests, 0n);
    free.push({ month, entry: { month: month.name, rows, requests } });
  }
  if (free.length === 0) return { dropped, kept };
  return db.transaction(async (tx) => {
    await lockUsagePartitions(tx, PARTITION_LOCK_TIMEOUT_MS);
    // Read again under the lock: another worker may have dropped them meanwhile.
    const present = new Set((await listUsageMonths(tx)).map((month) => month.name));
    for (const { month, entry } of free) {
      if (!present.has(month.name)) continue;
      await dropUsagePartition(tx, month);
      dropped.push(entry);
    }
    return { dropped, kept };
  });
}
