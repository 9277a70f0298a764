/** Usage rules: report validation, minute aggregation, chart series. Pure. */
import {
  addMonths,
  billingDate,
  calculationInstant,
  monthStart,
  parseInstant,
  periodIndexAt,
  startOfMonth,
} from '../../kernel/calendar.ts';

export const MAX_AGE_MS = 35 * 86_400_000;
export const MAX_AHEAD_MS = 5 * 60_000;
export const MINUTE_MS = 60_000;

export interface UsageRecord {
  timestamp: string;
  requests: number;
  service?: string;
}

/** Requests of one org aggregated by minute of event time and service. */
export interface MinuteBucket {
  /** The UTC minute, or a calculation instant inside it from which the rest of the minute counts. */
  minute: Date;
  service: string;
  /** The subscription the requests are billable to, '' when none. */
  subscriptionId: string;
  requests: bigint;
  /** The latest event time among them. */
  latestAt: Date;
}

/** The org's open billing window when the report arrives: requests from its start on are billable. */
export interface OpenWindow {
  subscriptionId: string;
  startedAt: Date;
}

export interface ReportProblem {
  code: 'timestamp_out_of_range' | 'validation_failed';
  field: string;
  message: string;
}

const ZERO = 48;

function digits(text: string, from: number, count: number): number {
  let value = 0;
  for (let i = from; i < from + count; i++) {
    const code = text.charCodeAt(i) - ZERO;
    if (code < 0 || code > 9) return -1;
    value = value * 10 + code;
  }
  return value;
}

/**
 * Parses an RFC 3339 instant to epoch milliseconds. The form runtimes send, `YYYY-MM-DDTHH:MM:SS.sssZ`,
 * takes a fast path that parses each distinct minute once; any other form goes through parseInstant.
 */
function instantMs(text: string, minutes: Map<string, number>): number | undefined {
  if (text.length === 24 && text.charCodeAt(23) === 90 /* Z */ && text.charCodeAt(19) === 46 /* . */) {
    const prefix = text.slice(0, 16);
    let minute = minutes.get(prefix);
    if (minute === undefined) {
      minute = parseInstant(`${prefix}:00Z`)?.getTime() ?? Number.NaN;
      minutes.set(prefix, minute);
    }
    const seconds = text.charCodeAt(16) === 58 /* : */ ? digits(text, 17, 2) : -1;
    const millis = digits(text, 20, 3);
    if (!Number.isNaN(minute) && seconds >= 0 && seconds <= 59 && millis >= 0) return minute + seconds * 1000 + millis;
    return undefined;
  }
  return parseInstant(text)?.getTime();
}

/**
 * The open window's calculation instants C_k = B_k − 72 h (spec 3) in [oldest, newest] that fall inside
 * a minute rather than on its start. Invoice k bills buckets that start before C_k, so billable
 * buckets are split there: requests from C_k on go on the next invoice even within that minute.
 */
function calculationCuts(window: OpenWindow | null, oldest: number, newest: number): number[] {
  if (!window || window.startedAt.getTime() % MINUTE_MS === 0) return []; // every C_k on a whole minute
  const from = Math.max(oldest, window.startedAt.getTime());
  const cuts: number[] = [];
  // C_j < B_(k−1) ≤ from for every j < k, the period index of `from`.
  for (let k = periodIndexAt(window.startedAt, new Date(from)); ; k++) {
    const cut = calculationInstant(billingDate(window.startedAt, k)).getTime();
    if (cut > newest) break;
    if (cut >= from) cuts.push(cut);
  }
  return cuts;
}

/**
 * Checks every record of a report against the window [now − 35 days, now + 5 minutes] and sums it
 * into minute buckets, each record marked billable when its event time is inside the open billing
 * window, billable buckets split at calculation instants. Any bad record refuses the whole report.
 */
export function aggregateReport(
  records: readonly UsageRecord[],
  now: Date,
  window: OpenWindow | null,
): { buckets: MinuteBucket[]; requests: bigint; latest: Date | null } | ReportProblem {
  const oldest = now.getTime() - MAX_AGE_MS;
  const newest = now.getTime() + MAX_AHEAD_MS;
  const windowStart = window ? window.startedAt.getTime() : Number.POSITIVE_INFINITY;
  const cuts = calculationCuts(window, oldest, newest);
  const minutes = new Map<string, number>();
  // Sums stay plain numbers: at most 10,000 records of at most 10^9 requests is far below 2^53.
  const sums = new Map<
    string,
    { minute: number; service: string; subscriptionId: string; requests: number; latest: number }
  >();
  let total = 0;
  let latest = Number.NEGATIVE_INFINITY;
  for (let index = 0; index < records.length; index++) {
    const record = records[index];
    const at = instantMs(record.timestamp, minutes);
    if (at === undefined) {
      return {
        code: 'validation_failed',
        field: `usage.${index}.timestamp`,
        message: 'The timestamp must be an RFC 3339 instant.',
      };
    }
    if (at < oldest || at > newest) {
      return {
        code: 'timestamp_out_of_range',
        field: `usage.${index}.timestamp`,
        message: 'Usage timestamps must be at most 35 days old and at most 5 minutes ahead. Nothing was counted.',
      };
    }
    let minute = minuteStartMs(at);
    const service = record.service ?? '';
    const subscriptionId = at >= windowStart ? (window as OpenWindow).subscriptionId : '';
    if (subscriptionId) for (const cut of cuts) if (cut > minute && cut <= at) minute = cut;
    const key = `${minute}|${service}|${subscriptionId}`;
    const bucket = sums.get(key);
    if (bucket) {
      bucket.requests += record.requests;
      if (at > bucket.latest) bucket.latest = at;
    } else sums.set(key, { minute, service, subscriptionId, requests: record.requests, latest: at });
    total += record.requests;
    if (at > latest) latest = at;
  }
  // One order for every report, so concurrent upserts of the same minute rows lock them in the same
  // order and PostgreSQL cannot deadlock between them.
  const ordered = [...sums.values()].sort(
    (a, b) =>
      a.minute - b.minute ||
      (a.service < b.service ? -1 : a.service > b.service ? 1 : 0) ||
      (a.subscriptionId < b.subscriptionId ? -1 : a.subscriptionId > b.subscriptionId ? 1 : 0),
  );
  const buckets = ordered.map((bucket) => ({
    minute: new Date(bucket.minute),
    service: bucket.service,
    subscriptionId: bucket.subscriptionId,
    requests: BigInt(bucket.requests),
    latestAt: new Date(bucket.latest),
  }));
  return { buckets, requests: BigInt(total), latest: latest === Number.NEGATIVE_INFINITY ? null : new Date(latest) };
}

export type Granularity = 'hour' | 'day';
const STEP_MS: Record<Granularity, number> = { hour: 3_600_000, day: 86_400_000 };
export const MAX_SERIES_POINTS = 2000;

/** The start of the hour or UTC day containing the instant. */
export function truncate(instant: Date, granularity: Granularity): Date {
  const step = STEP_MS[granularity];
  return new Date(Math.floor(instant.getTime() / step) * step);
}

/** Every step from start (truncated) to end, with the requests of each, zero where there were none. */
export function buildSeries(
  totals: ReadonlyArray<{ start: Date; requests: bigint }>,
  start: Date,
  end: Date,
  granularity: Granularity,
): Array<{ start: string; requests: number }> {
  const byStart = new Map(totals.map((row) => [row.start.getTime(), row.requests]));
  const step = STEP_MS[granularity];
  const series: Array<{ start: string; requests: number }> = [];
  for (let at = truncate(start, granularity).getTime(); at < end.getTime(); at += step) {
    series.push({ start: new Date(at).toISOString(), requests: Number(byStart.get(at) ?? 0n) });
  }
  return series;
}

/** How many points a series would have: refused above MAX_SERIES_POINTS. */
export function seriesLength(start: Date, end: Date, granularity: Granularity): number {
  return Math.ceil((end.getTime() - truncate(start, granularity).getTime()) / STEP_MS[granularity]);
}

/** A calendar month (UTC) of `usage_minutes`: the range [start, end) of `minute` one partition holds. */
export interface UsageMonth {
  start: Date;
  end: Date;
  /** The partition's table name, `usage_minutes_YYYY_MM`. */
  name: string;
}

const PARTITION_NAME = /^usage_minutes_(\d{4})_(\d{2})$/;

function usageMonthFrom(start: Date): UsageMonth {
  const name = `usage_minutes_${String(start.getUTCFullYear()).padStart(4, '0')}_${String(start.getUTCMonth() + 1).padStart(2, '0')}`;
  return { start, end: addMonths(start, 1), name };
}

/** The UTC calendar month containing the instant, `months` later (or earlier, when negative). */
export function usageMonth(instant: Date, months = 0): UsageMonth {
  return usageMonthFrom(addMonths(startOfMonth(instant), months));
}

/** The month a partition of that name holds; undefined for other names (the default partition). */
export function usageMonthNamed(name: string): UsageMonth | undefined {
  const match = PARTITION_NAME.exec(name);
  if (!match) return undefined;
  const monthIndex = Number(match[2]) - 1;
  return monthIndex >= 0 && monthIndex < 12 ? usageMonthFrom(monthStart(Number(match[1]), monthIndex)) : undefined;
}

/**
 * The months that need their own partition at `now`, oldest first: every month a report accepted now
 * may write to (event times back to 35 days ago) and the next two, created ahead of time.
 */
export function usageMonthsAt(now: Date): UsageMonth[] {
  const months: UsageMonth[] = [];
  for (let month = usageMonth(new Date(now.getTime() - MAX_AGE_MS)); month.start <= usageMonth(now, 2).start; ) {
    months.push(month);
    month = usageMonth(month.start, 1);
  }
  return months;
}

/** The wanted months that have no partition among those present. */
export function missingUsageMonths(wanted: readonly UsageMonth[], present: readonly UsageMonth[]): UsageMonth[] {
  const names = new Set(present.map((month) => month.name));
  return wanted.filter((month) => !names.has(month.name));
}

/**
 * The newest run of consecutive months among those given: the range it covers has a partition for
 * every minute in it, so a query bounded to it skips the default partition. Null when there are none.
 */
export function newestContiguousMonths(months: readonly UsageMonth[]): { start: Date; end: Date } | null {
  const sorted = [...months].sort((a, b) => b.start.getTime() - a.start.getTime());
  if (sorted.length === 0) return null;
  let start = sorted[0].start;
  for (const month of sorted.slice(1)) {
    if (month.end.getTime() !== start.getTime()) break;
    start = month.start;
  }
  return { start, end: sorted[0].end };
}

/** The start of the minute containing the instant: a lower bound on the `minute` of its usage rows. */
export function minuteOf(instant: Date): Date {
  return new Date(minuteStartMs(instant.getTime()));
}

/** The start, in ms, of the minute containing the instant given in ms (before 1970 too). */
function minuteStartMs(at: number): number {
  return at - (((at % MINUTE_MS) + MINUTE_MS) % MINUTE_MS);
}

/** How long partition maintenance waits for the usage table's lock before leaving it to the next pass. */
export const PARTITION_LOCK_TIMEOUT_MS = 5_000;

/**
 * The fewest whole months before the current one that usage retention keeps. Every row that billing
 * or the inactivity rule reads in normal operation is younger than that: see docs/decisions.md.
 */
export const MIN_USAGE_RETENTION_MONTHS = 3;

/**
 * The start of the UTC calendar month `retentionMonths` months before the month of `now`: a month
 * whose end is at or before it is old enough to drop. So the current month and the `retentionMonths`
 * whole months before it are always kept. Null when retention is off (0).
 */
export function usageRetentionCutoff(now: Date, retentionMonths: number): Date | null {
  if (retentionMonths === 0) return null;
  if (!Number.isInteger(retentionMonths) || retentionMonths < MIN_USAGE_RETENTION_MONTHS) {
    throw new RangeError(`usage retention must be 0 or at least ${MIN_USAGE_RETENTION_MONTHS} months`);
  }
  return addMonths(startOfMonth(now), -retentionMonths);
}

/** The months among those with a partition that retention at `now` may drop, oldest first. */
export function expiredUsageMonths(present: readonly UsageMonth[], now: Date, retentionMonths: number): UsageMonth[] {
  const cutoff = usageRetentionCutoff(now, retentionMonths);
  if (!cutoff) return [];
  return present
    .filter((month) => month.end.getTime() <= cutoff.getTime())
    .sort((a, b) => a.start.getTime() - b.start.getTime());
}

/**
 * The usage rows of one month that share a billing state, as the retention check reads them: whether
 * they are billable (to a subscription) at all, that subscription's status, and the invoice that billed
 * them (none while unbilled) with its kind, status and, among the class's invoices, the latest B_k.
 */
export interface UsageBillingClass {
  billable: boolean;
  /** 'active', 'ended', or null when not billable or the subscription is unknown. */
  subscriptionStatus: string | null;
  billed: boolean;
  /** 'cycle' or 'final'; null when unbilled or the invoice is unknown. */
  invoiceKind: string | null;
  invoiceStatus: string | null;
  latestBillingAt: Date | null;
  rows: number;
  requests: bigint;
  /** How many subscriptions the rows are billable to ('' counts as one), and the first of them. */
  subscriptions: number;
  exampleSubscriptionId: string;
}

/** Why billing still needs rows: they wait for an invoice, or their invoice may still be voided. */
export type UsageBillingHold = 'unbilled' | 'invoice_may_be_voided';

/**
 * Whether billing may still need rows of this class at `now`, and why. Only rows of a subscription
 * that has not ended can be billed or given back: unbilled ones go on its next invoice (or its final
 * one), and those on an open cycle invoice before its B_k are given back if a downgrade voids that
 * invoice (spec 4). An invoice paid, past due, given up, final, or open after its B_k (payable by
 * transfer) keeps its amounts whatever happens to the rows; rows of Free or of an ended subscription
 * are never billed. Null: billing is done with them.
 */
export function billingHold(rows: UsageBillingClass, now: Date): UsageBillingHold | null {
  if (!rows.billable || rows.subscriptionStatus !== 'active') return null;
  if (!rows.billed) return 'unbilled';
  const voidable =
    rows.invoiceKind === 'cycle' &&
    rows.invoiceStatus === 'open' &&
    rows.latestBillingAt !== null &&
    rows.latestBillingAt.getTime() > now.getTime();
  return voidable ? 'invoice_may_be_voided' : null;
}
