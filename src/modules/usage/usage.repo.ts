import { and, eq, gte, isNull, lt, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.ts';
import { billingWindows, orgs, usageMinutes, usageReports } from '../../db/schema/index.ts';
import type { Granularity, MinuteBucket, OpenWindow } from './usage.ts';

/** The org's open billing window, share-locked so a subscription change waits for this report. */
export async function findOpenWindow(executor: Executor, orgId: string): Promise<OpenWindow | null> {
  const [row] = await executor
    .select({ subscriptionId: billingWindows.subscriptionId, startedAt: billingWindows.startedAt })
    .from(billingWindows)
    .where(and(eq(billingWindows.orgId, orgId), isNull(billingWindows.endedAt)))
    .for('share');
  return row ?? null;
}

/** Claims a report id for a runtime; false when the report was already accepted. */
export async function claimReport(
  executor: Executor,
  values: { orgId: string; runtimeId: string; reportId: string; records: number; requests: bigint; now: Date },
): Promise<boolean> {
  const inserted = await executor
    .insert(usageReports)
    .values({
      orgId: values.orgId,
      runtimeId: values.runtimeId,
      reportId: values.reportId,
      records: values.records,
      requests: values.requests,
      receivedAt: values.now,
    })
    .onConflictDoNothing()
    .returning({ reportId: usageReports.reportId });
  return inserted.length > 0;
}

export async function isKnownReport(executor: Executor, orgId: string, runtimeId: string, reportId: string) {
  const [row] = await executor
    .select({ reportId: usageReports.reportId })
    .from(usageReports)
    .where(
      and(eq(usageReports.orgId, orgId), eq(usageReports.runtimeId, runtimeId), eq(usageReports.reportId, reportId)),
    );
  return Boolean(row);
}

/** Adds minute buckets to the org's unbilled usage, in one statement. */
export async function addUnbilledUsage(executor: Executor, orgId: string, buckets: readonly MinuteBucket[]) {
  if (buckets.length === 0) return;
  await executor
    .insert(usageMinutes)
    .values(
      buckets.map((bucket) => ({
        orgId,
        minute: bucket.minute,
        service: bucket.service,
        subscriptionId: bucket.subscriptionId,
        invoiceId: '',
        requests: bucket.requests,
      })),
    )
    .onConflictDoUpdate({
      target: [
        usageMinutes.orgId,
        usageMinutes.minute,
        usageMinutes.service,
        usageMinutes.subscriptionId,
        usageMinutes.invoiceId,
      ],
      set: { requests: sql`${usageMinutes.requests} + excluded.requests` },
    });
}

/** Moves the org's latest request time forward (inactivity rules read it). */
export async function noteLatestRequest(executor: Executor, orgId: string, latest: Date) {
  await executor
    .update(orgs)
    .set({ lastRequestAt: latest })
    .where(
      and(
        eq(orgs.id, orgId),
        sql`(${orgs.lastRequestAt} is null or ${orgs.lastRequestAt} < ${latest.toISOString()}::timestamptz)`,
      ),
    );
}

/** Requests per hour or day of event time in [start, end), billed or not. */
export async function usageTotals(
  executor: Executor,
  orgId: string,
  start: Date,
  end: Date,
  granularity: Granularity,
): Promise<Array<{ start: Date; requests: bigint }>> {
  const bucket = sql<Date>`date_trunc(${sql.raw(`'${granularity}'`)}, ${usageMinutes.minute} at time zone 'UTC') at time zone 'UTC'`;
  const rows = await executor
    .select({ start: bucket, requests: sql<string>`sum(${usageMinutes.requests})::text` })
    .from(usageMinutes)
    .where(and(eq(usageMinutes.orgId, orgId), gte(usageMinutes.minute, start), lt(usageMinutes.minute, end)))
    .groupBy(bucket);
  return rows.map((row) => ({ start: new Date(row.start), requests: BigInt(row.requests) }));
}
