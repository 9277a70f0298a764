/**
 * Usage ingestion: usage records per second accepted through the real HTTP endpoint, with reports
 * of 1,000 records and distinct report ids, each durable before its answer. The baseline, measured
 * in the same run, is JSON.parse alone on the same bodies.
 */
import { json, percentile, request, runConcurrently, type ServerProcess } from './harness.ts';

export interface IngestResult {
  ingest_records_per_s: number;
  ingest_p99_ms: number;
  ingest_p50_ms: number;
  ingest_reports: number;
  ingest_records_per_report: number;
  ingest_concurrency: number;
  ingest_parse_baseline_records_per_s: number;
  ingest_server_peak_rss_mib: number;
  ingest_record_shape: string;
}

const RECORDS_PER_REPORT = 1000;
const SERVICES = 10;

/**
 * A report as a runtime would send it: 1,000 records from the last two minutes across 10 services
 * (so about 30 minute-and-service buckets once aggregated).
 */
function buildReport(reportId: string, now: number): string {
  const usage = new Array(RECORDS_PER_REPORT);
  for (let i = 0; i < RECORDS_PER_REPORT; i++) {
    const at = now - ((i * 7919) % 120_000);
    usage[i] = { timestamp: new Date(at).toISOString(), requests: 1 + (i % 5), service: `svc-${i % SERVICES}` };
  }
  return JSON.stringify({ report_id: reportId, usage });
}

/** JSON.parse alone on the same bodies: the ceiling a Node process could reach. */
function parseBaseline(bodies: string[]): number {
  let sink = 0;
  const rounds = 3;
  const started = performance.now();
  for (let round = 0; round < rounds; round++) {
    for (const body of bodies) sink += (JSON.parse(body) as { usage: unknown[] }).usage.length;
  }
  const seconds = (performance.now() - started) / 1000;
  if (sink !== rounds * bodies.length * RECORDS_PER_REPORT) throw new Error('baseline miscounted');
  return Math.round((rounds * bodies.length * RECORDS_PER_REPORT) / seconds);
}

export async function benchIngest(server: ServerProcess, options: { reports: number; concurrency: number }) {
  const base = server.url;
  const signup = await json(
    base,
    'POST',
    '/v1/signup',
    { email: `ingest-${Date.now()}@bench.test`, password: 'bench-password-1', full_name: 'Bench', org_name: 'Bench' },
    201,
  );
  const orgId = signup.body.org.id as string;
  const cookie = signup.cookie as string;
  const tokens: string[] = [];
  for (let i = 0; i < 3; i++) {
    const runtime = await json(base, 'POST', `/v1/orgs/${orgId}/runtimes`, { name: `bench-${i}` }, 201, { cookie });
    tokens.push(runtime.body.token);
  }

  const now = Date.now();
  const bodies = Array.from({ length: options.reports }, (_, i) => buildReport(`bench-${now}-${i}`, now));
  // Warm-up: a few reports not counted in the figures.
  for (let i = 0; i < 20; i++) {
    const response = await request(base, 'POST', '/v1/runtime/usage', {
      body: buildReport(`warm-${now}-${i}`, now),
      headers: { authorization: `Bearer ${tokens[i % tokens.length]}` },
    });
    if (response.status !== 200) throw new Error(`warm-up report refused: ${response.status} ${response.body}`);
  }

  const started = performance.now();
  const durations = await runConcurrently(bodies.length, options.concurrency, async (index) => {
    const response = await request(base, 'POST', '/v1/runtime/usage', {
      body: bodies[index],
      headers: { authorization: `Bearer ${tokens[index % tokens.length]}` },
    });
    if (response.status !== 200) throw new Error(`report refused: ${response.status} ${response.body}`);
  });
  const seconds = (performance.now() - started) / 1000;

  // Everything acknowledged must be counted: the usage API's total over the window.
  const usage = await json(
    base,
    'GET',
    `/v1/orgs/${orgId}/usage?start=${new Date(now - 3_600_000).toISOString()}&end=${new Date(now + 3_600_000).toISOString()}&granularity=hour`,
    undefined,
    200,
    { cookie },
  );
  const perReport = Array.from({ length: RECORDS_PER_REPORT }, (_, i) => 1 + (i % 5)).reduce((a, b) => a + b, 0);
  const expected = (options.reports + 20) * perReport;
  if (usage.body.total !== expected) throw new Error(`usage total ${usage.body.total}, expected ${expected}`);

  const result: IngestResult = {
    ingest_records_per_s: Math.round((bodies.length * RECORDS_PER_REPORT) / seconds),
    ingest_p99_ms: Number(percentile(durations, 99).toFixed(2)),
    ingest_p50_ms: Number(percentile(durations, 50).toFixed(2)),
    ingest_reports: bodies.length,
    ingest_records_per_report: RECORDS_PER_REPORT,
    ingest_concurrency: options.concurrency,
    ingest_parse_baseline_records_per_s: parseBaseline(bodies),
    ingest_server_peak_rss_mib: server.peakRssMiB(),
    ingest_record_shape: '1,000 records per report from the last 2 minutes across 10 services',
  };
  return result;
}
