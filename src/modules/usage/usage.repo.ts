import { and, eq, gte, lt, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.ts';
import { preparedFor } from '../../db/prepared.ts';
import { usageMinutes, usageReports, usageState } from '../../db/schema/index.ts';
import {
  type Granularity,
  type MinuteBucket,
  minuteOf,
  newestContiguousMonths,
  type OpenWindow,
  type UsageBillingClass,
  type UsageMonth,
  usageMonthNamed,
} from './usage.ts';

/** The org's usage state: its open billing window, if any. Created on first use. */
export async function loadOpenWindow(executor: Executor, orgId: string): Promise<OpenWindow | null> {
  await executor.insert(usageState).values({ orgId, subscriptionId: '', windowStartedAt: null }).onConflictDoNothing();
  const [row] = await executor.select().from(usageState).where(eq(usageState.orgId, orgId));
  return row.subscriptionId && row.windowStartedAt
    ? { subscriptionId: row.subscriptionId, startedAt: row.windowStartedAt }
    : null;
}

export type IngestOutcome = 'accepted' | 'duplicate' | 'stale_window' | 'runtime_gone' | 'decommissioned';

/**
 * Writes one report in a single statement, atomic on its own: checks the runtime still exists and its
 * control plane is active, share-locks the org's usage state and checks it is still the window the
 * buckets were classified with ('stale_window' otherwise), claims the report id ('duplicate' when
 * taken), adds the buckets and marks the runtime seen. Anything refused writes nothing.
 */
export async function writeReport(
  executor: Executor,
  values: {
    orgId: string;
    runtimeId: string;
    reportId: string;
    records: number;
    requests: bigint;
    window: OpenWindow | null;
    buckets: readonly MinuteBucket[];
    now: Date;
  },
): Promise<IngestOutcome> {
  const now = values.now.toISOString();
  const seenBefore = new Date(values.now.getTime() - 10_000).toISOString();
  const windowSubscription = values.window?.subscriptionId ?? '';
  const windowStart = values.window?.startedAt.toISOString() ?? null;
  const buckets = JSON.stringify(
    values.buckets.map((bucket) => ({
      minute: bucket.minute.toISOString(),
      service: bucket.service,
      subscription_id: bucket.subscriptionId,
      requests: bucket.requests.toString(),
      latest_at: bucket.latestAt.toISOString(),
    })),
  );
  const result = await executor.execute(sql`
    with runtime as (
      select cp.status from runtimes r join control_planes cp on cp.id = r.control_plane_id
      where r.id = ${values.runtimeId} and r.org_id = ${values.orgId} and r.deleted_at is null
    ), state as (
      select subscription_id, window_started_at from usage_state where org_id = ${values.orgId} for share
    ), current as (
      select 1 from state, runtime
      where runtime.status = 'active'
        and subscription_id = ${windowSubscription}
        and window_started_at is not distinct from ${windowStart}::timestamptz
    ), claim as (
      insert into usage_reports (org_id, runtime_id, report_id, records, requests, received_at)
      select ${values.orgId}, ${values.runtimeId}, ${values.reportId}, ${values.records}, ${values.requests.toString()}::bigint, ${now}::timestamptz
      where exists (select 1 from current)
      on conflict do nothing
      returning 1
    ), added as (
      insert into usage_minutes (org_id, minute, service, subscription_id, invoice_id, requests, latest_at)
      select ${values.orgId}, u.minute, u.service, u.subscription_id, '', u.requests, u.latest_at
      from jsonb_to_recordset(${buckets}::jsonb)
        as u(minute timestamptz, service text, subscription_id text, requests bigint, latest_at timestamptz)
      where exists (select 1 from claim)
      on conflict (org_id, minute, service, subscription_id, invoice_id) do update
        set requests = usage_minutes.requests + excluded.requests,
            latest_at = greatest(usage_minutes.latest_at, excluded.latest_at)
      returning 1
    ), seen as (
      update runtimes set last_seen_at = ${now}::timestamptz
      where id = ${values.runtimeId} and exists (select 1 from current) and (last_seen_at is null or last_seen_at < ${seenBefore}::timestamptz)
      returning 1
    )
    select (select status from runtime) as runtime_status,
           (select count(*) from current)::int as current,
           (select count(*) from claim)::int as claimed,
           (select count(*) from added)::int as added,
           (select count(*) from seen)::int as seen
  `);
  const row = (
    result as unknown as { rows: Array<{ runtime_status: string | null; current: number; claimed: number }> }
  ).rows[0];
  if (!row.runtime_status) return 'runtime_gone';
  if (row.runtime_status !== 'active') return 'decommissioned';
  if (Number(row.current) === 0) return 'stale_window';
  return Number(row.claimed) === 0 ? 'duplicate' : 'accepted';
}

/** Whether this runtime already sent a report with this id. */
export async function isKnownReport(executor: Executor, orgId: string, runtimeId: string, reportId: string) {
  const [row] = await executor
    .select({ reportId: usageReports.reportId })
    .from(usageReports)
    .where(
      and(eq(usageReports.orgId, orgId), eq(usageReports.runtimeId, runtimeId), eq(usageReports.reportId, reportId)),
    );
  return Boolean(row);
}

/** The latest event time of any request the org's runtimes reported. */
export async function latestRequestAt(executor: Executor, orgId: string): Promise<Date | null> {
  return (await latestRequestsAt(executor, [orgId])).get(orgId) ?? null;
}

/**
 * The latest event time of each org's requests (orgs without any are absent). Reads only the newest
 * minute of each org, found through the primary key, however much usage the org has: the months with
 * a partition each, newest first until one has a row of the org (PostgreSQL scans those partitions in
 * order and stops), then the default partition and any older months, whose newest row counts only if
 * it is later.
 */
export async function latestRequestsAt(executor: Executor, orgIds: readonly string[]): Promise<Map<string, Date>> {
  if (orgIds.length === 0) return new Map();
  // Any range is correct (the three lookups cover every minute); the newest run of monthly
  // partitions is the one PostgreSQL can read newest first, as it holds no default rows.
  const recent = newestContiguousMonths(await listUsageMonths(executor)) ?? { start: new Date(0), end: new Date(0) };
  const from = recent.start.toISOString();
  const to = recent.end.toISOString();
  const result = await executor.execute(sql`
    select o.id as org_id, newest.latest_at
    from jsonb_array_elements_text(${JSON.stringify(orgIds)}::jsonb) as o(id)
    cross join lateral (
      select greatest(
        (select m.minute from usage_minutes m
          where m.org_id = o.id and m.minute >= ${from}::timestamptz and m.minute < ${to}::timestamptz
          order by m.minute desc limit 1),
        (select max(m.minute) from usage_minutes m where m.org_id = o.id and m.minute < ${from}::timestamptz),
        (select max(m.minute) from usage_minutes m where m.org_id = o.id and m.minute >= ${to}::timestamptz)
      ) as minute
    ) last
    cross join lateral (
      select max(u.latest_at) as latest_at from usage_minutes u where u.org_id = o.id and u.minute = last.minute
    ) newest
    where newest.latest_at is not null`);
  const rows = (result as unknown as { rows: Array<{ org_id: string; latest_at: string | Date }> }).rows;
  return new Map(rows.map((row) => [row.org_id, new Date(row.latest_at)]));
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

/**
 * Bounds of the usage billable to a subscription: its rows have a minute from the start of the minute
 * it started in (`since` is its start), so the lower bound is exact and lets PostgreSQL skip the
 * months before it.
 */
interface BillableRange {
  orgId: string;
  subscriptionId: string;
  /** The subscription's start. */
  since: Date;
  /** Rows with a minute before this instant. */
  before: Date;
}

/** The sum of unbilled requests of a subscription with event minute in [its start, `before`). */
export async function unbilledRequests(executor: Executor, values: BillableRange): Promise<bigint> {
  // Prepared: the Billing and Usage overview asks this on every view of a Plus org.
  const statement = preparedFor(executor, 'unbilled_requests', (db) =>
    db
      .select({ requests: sql<string>`coalesce(sum(${usageMinutes.requests}), 0)::text` })
      .from(usageMinutes)
      .where(
        and(
          eq(usageMinutes.orgId, sql.placeholder('orgId')),
          eq(usageMinutes.subscriptionId, sql.placeholder('subscriptionId')),
          eq(usageMinutes.invoiceId, ''),
          gte(usageMinutes.minute, sql`${sql.placeholder('since')}::timestamptz`),
          lt(usageMinutes.minute, sql`${sql.placeholder('before')}::timestamptz`),
        ),
      )
      .prepare('unbilled_requests'),
  );
  const [row] = await statement.execute({
    orgId: values.orgId,
    subscriptionId: values.subscriptionId,
    since: minuteOf(values.since).toISOString(),
    before: values.before.toISOString(),
  });
  return BigInt(row.requests);
}

/**
 * Marks a subscription's unbilled requests with a minute in [its start, `before`) as billed by the
 * invoice; returns how many.
 */
export async function billUnbilledRequests(
  executor: Executor,
  values: BillableRange & { invoiceId: string },
): Promise<bigint> {
  const result = await executor.execute(sql`
    with billed as (
      update usage_minutes set invoice_id = ${values.invoiceId}
      where org_id = ${values.orgId} and subscription_id = ${values.subscriptionId} and invoice_id = ''
        and minute >= ${minuteOf(values.since).toISOString()}::timestamptz
        and minute < ${values.before.toISOString()}::timestamptz
      returning requests
    )
    select coalesce(sum(requests), 0)::text as requests from billed
  `);
  return BigInt((result as unknown as { rows: Array<{ requests: string }> }).rows[0].requests);
}

/**
 * Makes the requests a voided invoice billed unbilled again, merging them into unbilled rows. The
 * invoice billed only rows of its subscription (minutes from its start `since`) with a minute before
 * its calculation instant `before`: bounds that are exact and let PostgreSQL skip other months. Not
 * the invoice's period: late requests of earlier periods are billed by the next invoice calculated.
 */
export async function releaseBilledRequests(
  executor: Executor,
  values: { orgId: string; invoiceId: string; since: Date; before: Date },
) {
  await executor.execute(sql`
    with released as (
      delete from usage_minutes
      where org_id = ${values.orgId} and invoice_id = ${values.invoiceId}
        and minute >= ${minuteOf(values.since).toISOString()}::timestamptz
        and minute < ${values.before.toISOString()}::timestamptz
      returning org_id, minute, service, subscription_id, requests, latest_at
    )
    insert into usage_minutes (org_id, minute, service, subscription_id, invoice_id, requests, latest_at)
    select org_id, minute, service, subscription_id, '', requests, latest_at from released
    on conflict (org_id, minute, service, subscription_id, invoice_id) do update
      set requests = usage_minutes.requests + excluded.requests,
          latest_at = greatest(usage_minutes.latest_at, excluded.latest_at)
  `);
}

/**
 * Opens (or, with null, closes) the org's billing window; waits for reports in flight. Opening it at S
 * also makes billable to the new subscription the unbilled requests already accepted with an event
 * minute from S on (reported ahead, up to 5 minutes, before the change): spec 3 bills every request
 * with event time in [S, C_k), whenever it arrived before the subscription ended.
 */
export async function setBillingWindow(executor: Executor, orgId: string, window: OpenWindow | null): Promise<void> {
  await executor
    .insert(usageState)
    .values({ orgId, subscriptionId: window?.subscriptionId ?? '', windowStartedAt: window?.startedAt ?? null })
    .onConflictDoUpdate({
      target: usageState.orgId,
      set: { subscriptionId: window?.subscriptionId ?? '', windowStartedAt: window?.startedAt ?? null },
    });
  if (!window) return;
  // Rows of Free ('') or of an ended subscription merge into the new one's, one row per minute and service.
  await executor.execute(sql`
    with moved as (
      delete from usage_minutes
      where org_id = ${orgId} and invoice_id = '' and subscription_id <> ${window.subscriptionId}
        and minute >= ${window.startedAt.toISOString()}::timestamptz
      returning minute, service, requests, latest_at
    )
    insert into usage_minutes (org_id, minute, service, subscription_id, invoice_id, requests, latest_at)
    select ${orgId}, minute, service, ${window.subscriptionId}, '', sum(requests)::bigint, max(latest_at)
    from moved group by minute, service
    on conflict (org_id, minute, service, subscription_id, invoice_id) do update
      set requests = usage_minutes.requests + excluded.requests,
          latest_at = greatest(usage_minutes.latest_at, excluded.latest_at)
  `);
}

/**
 * For many subscriptions at once: marks each one's unbilled requests with a minute in [its start,
 * its instant) as billed by its invoice, in one statement. The widest of those ranges bounds the
 * whole statement too, as constants, so PostgreSQL plans it for those months only. Returns the
 * requests billed per invoice id (absent when none).
 */
export async function billUnbilledRequestsMany(
  executor: Executor,
  targets: ReadonlyArray<BillableRange & { invoiceId: string }>,
): Promise<Map<string, bigint>> {
  if (targets.length === 0) return new Map();
  const json = JSON.stringify(
    targets.map((target) => ({
      org_id: target.orgId,
      subscription_id: target.subscriptionId,
      since: minuteOf(target.since).toISOString(),
      before: target.before.toISOString(),
      invoice_id: target.invoiceId,
    })),
  );
  const since = new Date(Math.min(...targets.map((target) => minuteOf(target.since).getTime())));
  const before = new Date(Math.max(...targets.map((target) => target.before.getTime())));
  const result = await executor.execute(sql`
    with targets as (
      select * from jsonb_to_recordset(${json}::jsonb)
        as t(org_id text, subscription_id text, since timestamptz, before timestamptz, invoice_id text)
    ), billed as (
      update usage_minutes u set invoice_id = t.invoice_id
      from targets t
      where u.org_id = t.org_id and u.subscription_id = t.subscription_id
        and u.invoice_id = '' and u.minute >= t.since and u.minute < t.before
        and u.minute >= ${since.toISOString()}::timestamptz and u.minute < ${before.toISOString()}::timestamptz
      returning t.invoice_id, u.requests
    )
    select invoice_id, sum(requests)::text as requests from billed group by invoice_id
  `);
  const rows = (result as unknown as { rows: Array<{ invoice_id: string; requests: string }> }).rows;
  return new Map(rows.map((row) => [row.invoice_id, BigInt(row.requests)]));
}

/** The months that have a partition of `usage_minutes` (the default partition aside). */
export async function listUsageMonths(executor: Executor): Promise<UsageMonth[]> {
  const result = await executor.execute(sql`
    select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
    where i.inhparent = 'usage_minutes'::regclass`);
  return (result as unknown as { rows: Array<{ name: string }> }).rows
    .map((row) => usageMonthNamed(row.name))
    .filter((month): month is UsageMonth => month !== undefined);
}

// Any constant: the advisory lock under which partitions of usage_minutes are created and dropped.
const PARTITIONS_LOCK = 7_310_002;

/**
 * Serializes partition maintenance, in the caller's transaction: first between maintainers (an
 * advisory lock, held to commit), then against every reader and writer of usage (an exclusive lock
 * on the table, which creating or detaching a partition takes anyway; taken first, so never upgraded,
 * and given up after `lockTimeoutMs` rather than queueing everyone behind a long transaction).
 */
export async function lockUsagePartitions(tx: Executor, lockTimeoutMs: number) {
  await tx.execute(sql`select pg_advisory_xact_lock(${PARTITIONS_LOCK})`);
  await tx.execute(sql.raw(`set local lock_timeout = ${Math.max(1, Math.floor(lockTimeoutMs))}`));
  await tx.execute(sql`lock table only usage_minutes in access exclusive mode`);
}

/**
 * Creates the month's partition, in the caller's transaction under lockUsagePartitions. PostgreSQL
 * refuses to while the default partition holds rows of that month, so those are moved: the default
 * partition is detached, the month's created, the rows moved into it, and the default attached again.
 * Returns how many rows moved.
 */
export async function createUsagePartition(tx: Executor, month: UsageMonth): Promise<number> {
  // Names and bounds are built from numbers only (usageMonth), so they are safe to inline; DDL takes
  // no parameters.
  const create = sql.raw(
    `create table if not exists "${month.name}" partition of usage_minutes
     for values from ('${month.start.toISOString()}') to ('${month.end.toISOString()}')`,
  );
  const start = month.start.toISOString();
  const end = month.end.toISOString();
  const waiting = await tx.execute(sql`
    select exists (
      select 1 from usage_minutes_default where minute >= ${start}::timestamptz and minute < ${end}::timestamptz
    ) as found`);
  if (!(waiting as unknown as { rows: Array<{ found: boolean }> }).rows[0].found) {
    await tx.execute(create);
    return 0;
  }
  await tx.execute(sql`alter table usage_minutes detach partition usage_minutes_default`);
  await tx.execute(create);
  const moved = await tx.execute(sql`
    with moved as (
      delete from usage_minutes_default where minute >= ${start}::timestamptz and minute < ${end}::timestamptz
      returning org_id, minute, service, subscription_id, invoice_id, requests, latest_at
    ), inserted as (
      insert into ${sql.identifier(month.name)} (org_id, minute, service, subscription_id, invoice_id, requests, latest_at)
      select org_id, minute, service, subscription_id, invoice_id, requests, latest_at from moved
      returning 1
    )
    select count(*)::int as count from inserted`);
  await tx.execute(sql`alter table usage_minutes attach partition usage_minutes_default default`);
  return Number((moved as unknown as { rows: Array<{ count: number }> }).rows[0].count);
}

/**
 * The month's usage rows by billing state (see UsageBillingClass): a handful of classes however many
 * rows, read in one statement through the month's partition. Reads the parent table bounded to the
 * month, so a month another process has just dropped reads as empty rather than failing.
 */
export async function usageBillingClasses(executor: Executor, month: UsageMonth): Promise<UsageBillingClass[]> {
  const result = await executor.execute(sql`
    select u.subscription_id <> '' as billable, s.status as subscription_status,
           u.invoice_id <> '' as billed, i.kind as invoice_kind, i.status as invoice_status,
           max(i.billing_at) as latest_billing_at, count(*)::int as rows,
           sum(u.requests)::text as requests, count(distinct u.subscription_id)::int as subscriptions,
           min(u.subscription_id) as example_subscription_id
    from usage_minutes u
    left join subscriptions s on s.org_id = u.org_id and s.id = u.subscription_id
    left join invoices i on i.org_id = u.org_id and i.id = u.invoice_id
    where u.minute >= ${month.start.toISOString()}::timestamptz and u.minute < ${month.end.toISOString()}::timestamptz
    group by 1, 2, 3, 4, 5`);
  const rows = (
    result as unknown as {
      rows: Array<{
        billable: boolean;
        subscription_status: string | null;
        billed: boolean;
        invoice_kind: string | null;
        invoice_status: string | null;
        latest_billing_at: string | Date | null;
        rows: number;
        requests: string;
        subscriptions: number;
        example_subscription_id: string;
      }>;
    }
  ).rows;
  return rows.map((row) => ({
    billable: row.billable,
    subscriptionStatus: row.subscription_status,
    billed: row.billed,
    invoiceKind: row.invoice_kind,
    invoiceStatus: row.invoice_status,
    latestBillingAt: row.latest_billing_at === null ? null : new Date(row.latest_billing_at),
    rows: Number(row.rows),
    requests: BigInt(row.requests),
    subscriptions: Number(row.subscriptions),
    exampleSubscriptionId: row.example_subscription_id,
  }));
}

/**
 * Detaches the month's partition and drops it, in the caller's transaction under lockUsagePartitions:
 * its rows go at once, with no DELETE (nothing left for vacuum). Not `DETACH … CONCURRENTLY`, which is
 * not allowed beside a default partition and cannot run in a transaction.
 */
export async function dropUsagePartition(tx: Executor, month: UsageMonth): Promise<void> {
  await tx.execute(sql`alter table usage_minutes detach partition ${sql.identifier(month.name)}`);
  await tx.execute(sql`drop table ${sql.identifier(month.name)}`);
}
