/** Usage rules: report validation, minute aggregation, chart series. Pure. */
import { parseInstant } from '../../kernel/calendar.ts';

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
  minute: Date;
  service: string;
  /** The subscription the requests are billable to, '' when none. */
  subscriptionId: string;
  requests: bigint;
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

/**
 * Checks every record of a report against the window [now − 35 days, now + 5 minutes] and sums it
 * into minute buckets, each record marked billable when its event time is inside the open billing
 * window. Any bad record refuses the whole report.
 */
export function aggregateReport(
  records: readonly UsageRecord[],
  now: Date,
  window: OpenWindow | null,
): { buckets: MinuteBucket[]; requests: bigint; latest: Date | null } | ReportProblem {
  const oldest = now.getTime() - MAX_AGE_MS;
  const newest = now.getTime() + MAX_AHEAD_MS;
  const parsed = new Map<string, number>();
  const sums = new Map<string, MinuteBucket>();
  let total = 0n;
  let latest = -Infinity;
  for (let index = 0; index < records.length; index++) {
    const record = records[index];
    let at = parsed.get(record.timestamp);
    if (at === undefined) {
      const instant = parseInstant(record.timestamp);
      if (!instant) {
        return {
          code: 'validation_failed',
          field: `usage.${index}.timestamp`,
          message: 'The timestamp must be an RFC 3339 instant.',
        };
      }
      at = instant.getTime();
      parsed.set(record.timestamp, at);
    }
    if (at < oldest || at > newest) {
      return {
        code: 'timestamp_out_of_range',
        field: `usage.${index}.timestamp`,
        message: 'Usage timestamps must be at most 35 days old and at most 5 minutes ahead. Nothing was counted.',
      };
    }
    const minute = at - (((at % MINUTE_MS) + MINUTE_MS) % MINUTE_MS);
    const service = record.service ?? '';
    const subscriptionId = window && at >= window.startedAt.getTime() ? window.subscriptionId : '';
    const key = `${minute}|${service}|${subscriptionId}`;
    const bucket = sums.get(key);
    const requests = BigInt(record.requests);
    if (bucket) bucket.requests += requests;
    else sums.set(key, { minute: new Date(minute), service, subscriptionId, requests });
    total += requests;
    if (at > latest) latest = at;
  }
  return { buckets: [...sums.values()], requests: total, latest: latest === -Infinity ? null : new Date(latest) };
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
