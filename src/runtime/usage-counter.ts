/** One line of a usage report: the requests of one service in one minute. */
export interface UsageRecord {
  timestamp: string;
  requests: number;
  service?: string;
}

/** The body of POST /v1/runtime/usage, and the content of one spool file. */
export interface UsageReport {
  report_id: string;
  usage: UsageRecord[];
}

/** How many records one report carries at most; more are split over several reports. */
export const maxRecordsPerReport = 500;

const minuteMs = 60_000;

/** The start of the minute `instant` falls in, as RFC 3339 in UTC ("2025-03-01T12:34:00Z"). */
export function minuteStart(instant: Date): string {
  const start = new Date(Math.floor(instant.getTime() / minuteMs) * minuteMs);
  return start.toISOString().replace('.000Z', 'Z');
}

/** Requests counted per minute of arrival and per service, until drained into a report. */
export class UsageCounter {
  // Keyed by minute and service; "\n" cannot occur in either.
  #counts = new Map<string, UsageRecord>();

  /** Counts one request of `service` that arrived at `arrivedAt`. */
  count(service: string | undefined, arrivedAt: Date): void {
    const timestamp = minuteStart(arrivedAt);
    const key = `${timestamp}\n${service ?? ''}`;
    const record = this.#counts.get(key);
    if (record) record.requests += 1;
    else
      this.#counts.set(key, service === undefined ? { timestamp, requests: 1 } : { timestamp, requests: 1, service });
  }

  /** Adds a record's requests back (a report that could not be spooled). */
  add(record: UsageRecord): void {
    const key = `${record.timestamp}\n${record.service ?? ''}`;
    const existing = this.#counts.get(key);
    if (existing) existing.requests += record.requests;
    else this.#counts.set(key, { ...record });
  }

  /** Whether nothing has been counted since the last drain. */
  isEmpty(): boolean {
    return this.#counts.size === 0;
  }

  /** Returns everything counted so far, oldest minute first, and starts again from zero. */
  drain(): UsageRecord[] {
    const records = [...this.#counts.values()];
    this.#counts.clear();
    return records.sort(
      (a, b) => a.timestamp.localeCompare(b.timestamp) || (a.service ?? '').localeCompare(b.service ?? ''),
    );
  }
}

/**
 * Makes report ids: unique across runs (a start id of the start time and random bits) and
 * sorting in the order they were made, so the spool is sent oldest first.
 */
export function reportIdSequence(startedAt: Date, random: string): () => string {
  const stamp = startedAt
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  let sequence = 0;
  return () => {
    sequence += 1;
    return `${stamp}-${random}-${String(sequence).padStart(6, '0')}`;
  };
}

/** Closes drained records into reports of at most `maxRecordsPerReport` records, each with a new id. */
export function buildReports(records: readonly UsageRecord[], nextReportId: () => string): UsageReport[] {
  const reports: UsageReport[] = [];
  for (let start = 0; start < records.length; start += maxRecordsPerReport) {
    reports.push({ report_id: nextReportId(), usage: records.slice(start, start + maxRecordsPerReport) });
  }
  return reports;
}

/** The total number of requests a report carries. */
export function reportRequests(report: UsageReport): number {
  return report.usage.reduce((sum, record) => sum + record.requests, 0);
}

/**
 * How long to wait before the next attempt after `failures` failed ones in a row: doubling from
 * `baseMs`, never more than `capMs`, scaled by a jitter factor in [0.5, 1] so that many runtimes
 * coming back after one outage do not all call at once.
 */
export function backoffDelay(failures: number, baseMs: number, capMs: number, random: number): number {
  const exponent = Math.min(Math.max(failures - 1, 0), 30);
  const delay = Math.min(capMs, baseMs * 2 ** exponent);
  return Math.round(delay * (0.5 + random / 2));
}
