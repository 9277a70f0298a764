import { performance } from 'node:perf_hooks';
import { and, count, eq, lte, min, sql } from 'drizzle-orm';
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify';
import { Counter, collectDefaultMetrics, Gauge, Histogram, type Metric, Registry } from 'prom-client';
import type { Database } from '../db/client.ts';
import { auditEvents, dueItems, invoices, orgs } from '../db/schema/index.ts';
import type { Deps } from '../deps.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** This app's metrics: what GET /metrics exposes. */
    metrics: Metrics;
  }
}

/** What a usage report came to: counted, a repeat of a counted one, or refused with a 4xx. */
export type UsageReportOutcome = 'accepted' | 'duplicate' | 'refused';

export interface Metrics {
  readonly registry: Registry;
  /** Records one answered request in the latency histogram, labelled by its route pattern. */
  observeRequest(request: FastifyRequest, reply: FastifyReply): void;
  /** Counts a usage report; records and requests are added only for an accepted one. */
  countUsageReport(outcome: UsageReportOutcome, counted?: { records: number; requests: bigint }): void;
}

// From a cache hit (a millisecond) to the request timeout's order of magnitude.
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const INVOICE_STATUSES = ['open', 'paid', 'past_due', 'uncollectible', 'void'];
const INVOICE_KINDS = ['cycle', 'final'];

// A table the planner estimates at most this size is counted exactly on every scrape (tens of ms
// at worst, measured in docs/operations.md); a larger one is counted in the background.
const EXACT_ROWS = 100_000;
// A count that took less than this is cheap whatever the table's size (an index range): done every scrape.
const CHEAP_MS = 10;
// A background count runs at most once per this many of its own durations: at most 1% of the time.
const BACKGROUND_SHARE = 100;

// Process metrics (memory, CPU, event loop lag, GC) describe the process, not an app: collected once
// per process and shared by every app's registry, since each collection starts monitors that are
// never stopped (tests build many apps in one process).
let processMetrics: Metric[] | undefined;
function sharedProcessMetrics(): Metric[] {
  if (!processMetrics) {
    const register = new Registry();
    collectDefaultMetrics({ register });
    // The array holds the metric objects themselves (typed as their plain shape).
    processMetrics = register.getMetricsAsArray() as unknown as Metric[];
  }
  return processMetrics;
}

/** When a count is done on every scrape: its table is at most `exactRows` or it took at most `cheapMs`. */
export interface CountLimits {
  exactRows: number;
  cheapMs: number;
}

/** The planner's estimate of a table's rows: free (no scan), also before any ANALYZE. */
async function estimatedRows(db: Database, table: string): Promise<number> {
  const result = (await db.execute(sql.raw(`explain (format json) select 1 from ${table}`))) as unknown as {
    rows: Array<Record<string, unknown>>;
  };
  const cell = Object.values(result.rows[0] ?? {})[0];
  const plan = (typeof cell === 'string' ? JSON.parse(cell) : cell) as Array<{ Plan: { 'Plan Rows': number } }>;
  return plan[0]?.Plan['Plan Rows'] ?? 0;
}

/**
 * A count read from the database at scrape time. While its table is small or the count is cheap,
 * every scrape counts again; otherwise a scrape answers the last count at once (nothing before the
 * first is done) and starts a new one in the background when the last is older than
 * BACKGROUND_SHARE times its duration. So a scrape never waits for a count of millions of rows.
 */
class DatabaseCount<T> {
  private last: { value: T; at: number; durationMs: number } | undefined;
  private servedCached = false;
  private running: Promise<T> | undefined;
  private readonly db: Database;
  private readonly table: string;
  private readonly read: () => Promise<T>;
  private readonly log: FastifyBaseLogger;
  private readonly limits: CountLimits;

  constructor(
    db: Database,
    table: string,
    context: { log: FastifyBaseLogger; limits: CountLimits },
    read: () => Promise<T>,
  ) {
    this.db = db;
    this.table = table;
    this.log = context.log;
    this.limits = context.limits;
    this.read = read;
  }

  /** Seconds since the value last answered was counted: 0 when counted for its scrape, none before any. */
  ageSeconds(): number | undefined {
    if (!this.last) return undefined;
    return this.servedCached ? (performance.now() - this.last.at) / 1000 : 0;
  }

  async get(): Promise<T | undefined> {
    const last = this.last;
    const { exactRows, cheapMs } = this.limits;
    if ((last && last.durationMs <= cheapMs) || (await estimatedRows(this.db, this.table)) <= exactRows) {
      const value = await this.refresh();
      this.servedCached = false;
      return value;
    }
    if (!this.running && (!last || performance.now() - last.at >= last.durationMs * BACKGROUND_SHARE)) {
      this.refresh().catch((error) => this.log.warn({ err: error, table: this.table }, 'metrics count failed'));
    }
    this.servedCached = true;
    return last?.value;
  }

  private refresh(): Promise<T> {
    this.running ??= (async () => {
      const started = performance.now();
      try {
        const value = await this.read();
        const at = performance.now();
        this.last = { value, at, durationMs: at - started };
        return value;
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }
}

/** A label value from a free-text deactivation reason: a short slug as it is, anything else `other`. */
export function reasonLabel(reason: string | null): string {
  if (!reason) return 'unknown';
  return /^[a-z][a-z0-9_]{0,49}$/.test(reason) ? reason : 'other';
}

/**
 * Builds an app's metrics on its own registry (never prom-client's global one: several apps may live
 * in one process). Database-backed metrics are read at scrape time, their instant from the app's clock.
 */
export function createMetrics(
  deps: Pick<Deps, 'db' | 'clock' | 'catalog' | 'readCache'>,
  log: FastifyBaseLogger,
  limits: CountLimits = { exactRows: EXACT_ROWS, cheapMs: CHEAP_MS },
): Metrics {
  const { db, clock } = deps;
  const context = { log, limits };
  const registry = new Registry();
  for (const metric of sharedProcessMetrics()) registry.registerMetric(metric);
  const registers = [registry];

  /** Runs a scrape-time read; a failure leaves the metric empty (absent, not stale) and is logged. */
  async function collecting(metric: { reset(): void }, what: string, read: () => Promise<void>) {
    try {
      await read();
    } catch (error) {
      metric.reset();
      log.warn({ err: error, metric: what }, 'metrics collection failed');
    }
  }

  const duration = new Histogram({
    name: 'tierline_http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by method, route pattern and status code.',
    labelNames: ['method', 'route', 'status_code'],
    buckets: LATENCY_BUCKETS,
    registers,
  });

  const usageReports = new Counter({
    name: 'tierline_usage_reports_total',
    help: 'Usage reports received from runtimes, by outcome (accepted, duplicate, refused).',
    labelNames: ['outcome'],
    registers,
  });
  for (const outcome of ['accepted', 'duplicate', 'refused']) usageReports.inc({ outcome }, 0);
  const usageRecords = new Counter({
    name: 'tierline_usage_records_ingested_total',
    help: 'Usage records in accepted reports (a repeated report_id is not counted again).',
    registers,
  });
  const usageRequests = new Counter({
    name: 'tierline_usage_requests_ingested_total',
    help: 'Requests counted by accepted usage reports (a repeated report_id is not counted again).',
    registers,
  });

  const dueCounts = {
    pending: new DatabaseCount(db, 'due_items', context, () =>
      db
        .select({ kind: dueItems.kind, count: count() })
        .from(dueItems)
        .where(eq(dueItems.status, 'pending'))
        .groupBy(dueItems.kind),
    ),
    // Items that used up their attempts: they wait for `tierline catch-up --retry-failed`.
    failed: new DatabaseCount(db, 'due_items', context, () =>
      db
        .select({ kind: dueItems.kind, count: count() })
        .from(dueItems)
        .where(eq(dueItems.status, 'failed'))
        .groupBy(dueItems.kind),
    ),
    overdue: new DatabaseCount(db, 'due_items', context, async () => {
      const now = await clock.now();
      return db
        .select({ kind: dueItems.kind, count: count() })
        .from(dueItems)
        .where(and(eq(dueItems.status, 'pending'), lte(dueItems.dueAt, now)))
        .groupBy(dueItems.kind);
    }),
  };
  const orgCounts = new DatabaseCount(db, 'orgs', context, () =>
    db.select({ status: orgs.status, plan: orgs.plan, count: count() }).from(orgs).groupBy(orgs.status, orgs.plan),
  );
  const invoiceCounts = new DatabaseCount(db, 'invoices', context, () =>
    db
      .select({ status: invoices.status, kind: invoices.kind, count: count() })
      .from(invoices)
      .groupBy(invoices.status, invoices.kind),
  );
  // Audit events, not orgs: an org's reason is cleared when it is reactivated, an event stays.
  const deactivationCounts = new DatabaseCount(db, 'audit_events', context, () =>
    db
      .select({ reason: auditEvents.reason, count: count() })
      .from(auditEvents)
      .where(eq(auditEvents.action, 'org.deactivated'))
      .groupBy(auditEvents.reason),
  );

  new Gauge({
    name: 'tierline_due_work_lag_seconds',
    help: 'How late the oldest pending due item is: now minus its due instant (0 when nothing is overdue).',
    registers,
    async collect() {
      await collecting(this, 'tierline_due_work_lag_seconds', async () => {
        // min() over the pending partial index on due_at: one index probe.
        const [row] = await db
          .select({ oldest: min(dueItems.dueAt) })
          .from(dueItems)
          .where(eq(dueItems.status, 'pending'));
        const now = await clock.now();
        const oldest = row?.oldest ? new Date(row.oldest) : undefined;
        this.set(oldest && oldest <= now ? (now.getTime() - oldest.getTime()) / 1000 : 0);
      });
    },
  });

  new Gauge({
    name: 'tierline_due_items_pending',
    help: 'Pending due items, by kind.',
    labelNames: ['kind'],
    registers,
    async collect() {
      await collecting(this, 'tierline_due_items_pending', async () => {
        const rows = await dueCounts.pending.get();
        this.reset();
        for (const row of rows ?? []) this.set({ kind: row.kind }, row.count);
      });
    },
  });

  new Gauge({
    name: 'tierline_due_items_overdue',
    help: 'Pending due items whose due instant has passed, by kind.',
    labelNames: ['kind'],
    registers,
    async collect() {
      await collecting(this, 'tierline_due_items_overdue', async () => {
        const rows = await dueCounts.overdue.get();
        this.reset();
        for (const row of rows ?? []) this.set({ kind: row.kind }, row.count);
      });
    },
  });

  new Gauge({
    name: 'tierline_due_items_failed',
    help: 'Due items that failed every attempt and wait for an operator (tierline catch-up --retry-failed), by kind.',
    labelNames: ['kind'],
    registers,
    async collect() {
      await collecting(this, 'tierline_due_items_failed', async () => {
        const rows = await dueCounts.failed.get();
        this.reset();
        for (const row of rows ?? []) this.set({ kind: row.kind }, row.count);
      });
    },
  });

  new Gauge({
    name: 'tierline_invoices',
    help: 'Invoices, by status and kind.',
    labelNames: ['status', 'kind'],
    registers,
    async collect() {
      await collecting(this, 'tierline_invoices', async () => {
        const rows = await invoiceCounts.get();
        this.reset();
        if (!rows) return;
        for (const status of INVOICE_STATUSES) for (const kind of INVOICE_KINDS) this.set({ status, kind }, 0);
        for (const row of rows) this.set({ status: row.status, kind: row.kind }, row.count);
      });
    },
  });

  new Gauge({
    name: 'tierline_orgs',
    help: 'Organizations, by status and plan.',
    labelNames: ['status', 'plan'],
    registers,
    async collect() {
      await collecting(this, 'tierline_orgs', async () => {
        const rows = await orgCounts.get();
        this.reset();
        if (!rows) return;
        // A deactivated org is always on Free.
        for (const plan of deps.catalog.plans) this.set({ status: 'active', plan: plan.id }, 0);
        this.set({ status: 'deactivated', plan: 'free' }, 0);
        for (const row of rows) this.set({ status: row.status, plan: row.plan }, row.count);
      });
    },
  });

  new Counter({
    name: 'tierline_org_deactivations_total',
    help: 'Organization deactivations ever made, by reason (inactivity, or the reason staff gave).',
    labelNames: ['reason'],
    registers,
    async collect() {
      await collecting(this, 'tierline_org_deactivations_total', async () => {
        const rows = await deactivationCounts.get();
        this.reset();
        if (!rows) return;
        const byReason = new Map<string, number>([['inactivity', 0]]);
        for (const row of rows) {
          const label = reasonLabel(row.reason);
          byReason.set(label, (byReason.get(label) ?? 0) + row.count);
        }
        for (const [reason, total] of byReason) this.inc({ reason }, total);
      });
    },
  });

  new Counter({
    name: 'tierline_read_cache_reads_total',
    help: "Reads of callers and billing answers through this process's read cache: served from memory (hit), from the database (miss), or read again in the background before their age limit (refresh).",
    labelNames: ['result'],
    registers,
    collect() {
      this.reset();
      this.inc({ result: 'hit' }, deps.readCache.hits);
      this.inc({ result: 'miss' }, deps.readCache.misses);
      this.inc({ result: 'refresh' }, deps.readCache.refreshes);
    },
  });

  new Gauge({
    name: 'tierline_metrics_count_age_seconds',
    help: 'How old the database counts behind the metrics are, by table (0 while counted on every scrape).',
    labelNames: ['table'],
    registers,
    async collect() {
      // Waits for this scrape's counts (a count in progress is shared, not run twice).
      await Promise.allSettled([
        dueCounts.pending.get(),
        dueCounts.overdue.get(),
        orgCounts.get(),
        invoiceCounts.get(),
        deactivationCounts.get(),
      ]);
      this.reset();
      const ages: Array<[string, number | undefined]> = [
        ['due_items', Math.max(dueCounts.pending.ageSeconds() ?? Infinity, dueCounts.overdue.ageSeconds() ?? Infinity)],
        ['orgs', orgCounts.ageSeconds()],
        ['invoices', invoiceCounts.ageSeconds()],
        ['audit_events', deactivationCounts.ageSeconds()],
      ];
      for (const [table, age] of ages) if (age !== undefined && Number.isFinite(age)) this.set({ table }, age);
    },
  });

  return {
    registry,
    observeRequest(request, reply) {
      // The route's pattern (never the raw URL, which would make a series per id); a 404 is `unmatched`.
      const route = request.is404 ? 'unmatched' : (request.routeOptions.url ?? 'unmatched');
      duration.observe(
        { method: request.method, route, status_code: String(reply.statusCode) },
        reply.elapsedTime / 1000,
      );
    },
    countUsageReport(outcome, counted) {
      usageReports.inc({ outcome });
      if (outcome === 'accepted' && counted) {
        usageRecords.inc(counted.records);
        usageRequests.inc(Number(counted.requests));
      }
    },
  };
}
