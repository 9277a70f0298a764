import { randomBytes } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dueItems } from '../../src/db/schema/index.ts';
import { type App, buildApp } from '../../src/http/app.ts';
import { jobLogger } from '../../src/http/logging.ts';
import { createMetrics } from '../../src/http/metrics.ts';
import { billingHelpers } from '../helpers/billing.ts';
import { createTestInstance, logInAdmin, signUpOwner, type TestInstance } from '../helpers/instance.ts';

// Request ids, logs and the Prometheus metrics an operator scrapes, read as an operator reads them.
// The test clock stands still unless a test advances it.
const NOW = '2027-04-05T10:00:00.000Z';
const GENERATED_ID = /^req_[A-Za-z0-9_-]{22}$/;

let t: TestInstance;
let h: ReturnType<typeof billingHelpers>;

beforeAll(async () => {
  t = await createTestInstance({ start: NOW });
  h = billingHelpers(t);
});
afterAll(async () => {
  await t?.close();
});

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the Prometheus text exposition format: one sample per line, comments skipped. */
function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const label of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[label[1]] = label[2];
    }
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return samples;
}

async function scrape(): Promise<Sample[]> {
  const response = await t.call('GET', '/metrics');
  expect(response.status).toBe(200);
  return parseMetrics(response.body);
}

/** The sum of the samples of a metric whose labels include the given ones; undefined when none. */
function sampleValue(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const matching = samples.filter(
    (sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
  );
  return matching.length ? matching.reduce((sum, sample) => sum + sample.value, 0) : undefined;
}

async function clockNow(): Promise<Date> {
  return new Date((await t.call('GET', '/v1/test-clock')).body.now);
}

describe('request ids', () => {
  it('makes an id for every request and answers it in x-request-id, on successes, errors and 404s', async () => {
    const answers = [
      await t.call('GET', '/healthz'),
      await t.call('GET', '/healthz'),
      await t.call('GET', '/v1/no-such-route'),
      await t.call('GET', '/v1/orgs/org_nobody/billing'),
      await t.call('POST', '/v1/auth/login', { body: { email: 'nobody@example.com' } }),
      await t.call('GET', '/v1/orgs/%E0%A4%A/billing'),
    ];
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 404, 401, 400, 400]);
    const ids = answers.map((answer) => String(answer.headers['x-request-id']));
    for (const id of ids) expect(id).toMatch(GENERATED_ID);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('keeps a sane incoming x-request-id and replaces anything else', async () => {
    const longest = 'a'.repeat(128);
    for (const sane of ['edge-7f3a:42.b_c', longest, 'X']) {
      const answer = await t.call('GET', '/v1/orgs/org_nobody/billing', { headers: { 'x-request-id': sane } });
      expect(answer.status).toBe(401);
      expect(answer.headers['x-request-id']).toBe(sane);
    }
    for (const insane of ['has space', 'a'.repeat(129), 'quote"d', 'semi;colon', 'new%0Aline', '']) {
      const answer = await t.call('GET', '/healthz', { headers: { 'x-request-id': insane } });
      expect(answer.headers['x-request-id'], insane).toMatch(GENERATED_ID);
    }
  });

  it('writes the id as reqId on the request’s log lines, and no secret of the request', async () => {
    const lines: string[] = [];
    const logged: App = await buildApp(t.deps, {
      logLevel: 'info',
      logStream: { write: (line: string) => void lines.push(line) },
    });
    try {
      const owner = await signUpOwner(t);
      const token = `tl_${randomBytes(12).toString('hex')}`;
      const kept = await logged.inject({
        method: 'GET',
        url: `/v1/orgs/${owner.orgId}/billing`,
        headers: { 'x-request-id': 'trace-4711', cookie: owner.cookie },
      });
      expect(kept.statusCode).toBe(200);
      const made = await logged.inject({
        method: 'GET',
        url: '/v1/orgs/org_nobody/billing',
        headers: { authorization: `Bearer ${token}` },
      });
      expect(made.statusCode).toBe(401);
      const generated = String(made.headers['x-request-id']);
      expect(generated).toMatch(GENERATED_ID);

      // An invitation link carries its token in the query string: the logs keep the URL, not the token.
      const invitationToken = randomBytes(16).toString('hex');
      await logged.inject({
        method: 'GET',
        url: `/accept-invitation?token=${invitationToken}&from=email`,
        headers: { 'x-request-id': 'trace-link', accept: 'text/html' },
      });

      const entries = lines.map((line) => JSON.parse(line));
      const link = entries.find((entry) => entry.reqId === 'trace-link' && entry.msg === 'request completed');
      expect(link.req).toEqual({
        method: 'GET',
        url: '/accept-invitation?token=[redacted]&from=email',
        host: 'localhost:80',
        remoteAddress: '127.0.0.1',
      });
      for (const id of ['trace-4711', generated]) {
        const ofRequest = entries.filter((entry) => entry.reqId === id);
        // One line per request, written when it is answered.
        expect(ofRequest.map((entry) => entry.msg)).toEqual(['request completed']);
        expect(ofRequest[0].req.method).toBeDefined();
        expect(ofRequest[0].res.statusCode).toBe(id === generated ? 401 : 200);
        expect(typeof ofRequest[0].responseTime).toBe('number');
      }
      // Background work logs through a child logger: its lines carry the job and a structured error.
      jobLogger(logged.log, 'due_work').error({ err: new Error('handler broke') }, 'due work pass failed');
      const failure = JSON.parse(lines[lines.length - 1]);
      expect(failure).toMatchObject({ level: 50, job: 'due_work', msg: 'due work pass failed' });
      expect(failure.err).toMatchObject({ type: 'Error', message: 'handler broke' });
      expect(failure.err.stack).toContain('observability.test.ts');

      const text = lines.join('');
      expect(text).not.toContain(token);
      expect(text).not.toContain(invitationToken);
      expect(text).not.toContain(owner.cookie.split('=')[1]);
    } finally {
      await logged.close();
    }
  });
});

describe('GET /metrics', () => {
  it('answers the Prometheus text format with process metrics and every Tierline metric', async () => {
    const response = await t.call('GET', '/metrics');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(response.headers['x-request-id']).toMatch(GENERATED_ID);
    const text = String(response.body);
    for (const [name, type] of [
      ['tierline_http_request_duration_seconds', 'histogram'],
      ['tierline_due_work_lag_seconds', 'gauge'],
      ['tierline_due_items_pending', 'gauge'],
      ['tierline_due_items_overdue', 'gauge'],
      ['tierline_due_items_failed', 'gauge'],
      ['tierline_usage_records_ingested_total', 'counter'],
      ['tierline_usage_requests_ingested_total', 'counter'],
      ['tierline_usage_reports_total', 'counter'],
      ['tierline_invoices', 'gauge'],
      ['tierline_orgs', 'gauge'],
      ['tierline_org_deactivations_total', 'counter'],
      ['process_resident_memory_bytes', 'gauge'],
      ['nodejs_eventloop_lag_seconds', 'gauge'],
    ]) {
      expect(text).toContain(`# TYPE ${name} ${type}\n`);
    }
    const samples = parseMetrics(text);
    // Operations, not the JSON API: absent from its OpenAPI document.
    const document = await t.call('GET', '/openapi.json');
    expect(Object.keys(document.body.paths)).toContain('/healthz');
    expect(Object.keys(document.body.paths)).not.toContain('/metrics');
    expect(sampleValue(samples, 'process_resident_memory_bytes')).toBeGreaterThan(0);
  });

  it('counts requests by route pattern and status, never by raw URL', async () => {
    const route = '/v1/orgs/:org_id/billing';
    const before = await scrape();
    const count = (samples: Sample[], labels: Record<string, string>) =>
      sampleValue(samples, 'tierline_http_request_duration_seconds_count', labels) ?? 0;
    const owner = await signUpOwner(t);
    expect((await t.call('GET', `/v1/orgs/${owner.orgId}/billing`, { cookie: owner.cookie })).status).toBe(200);
    expect((await t.call('GET', '/v1/orgs/org_first/billing')).status).toBe(401);
    expect((await t.call('GET', '/v1/orgs/org_second/billing')).status).toBe(401);
    expect((await t.call('GET', '/v1/not-a-route/at-all')).status).toBe(404);
    const after = await scrape();

    const ok = { method: 'GET', route, status_code: '200' };
    const refused = { method: 'GET', route, status_code: '401' };
    const unmatched = { method: 'GET', route: 'unmatched', status_code: '404' };
    expect(count(after, ok) - count(before, ok)).toBe(1);
    expect(count(after, refused) - count(before, refused)).toBe(2);
    expect(count(after, unmatched) - count(before, unmatched)).toBe(1);
    // Every observation is in the +Inf bucket, and took some time.
    expect(sampleValue(after, 'tierline_http_request_duration_seconds_bucket', { ...refused, le: '+Inf' })).toBe(
      count(after, refused),
    );
    expect(sampleValue(after, 'tierline_http_request_duration_seconds_sum', refused)).toBeGreaterThan(0);
    const routes = new Set(after.map((sample) => sample.labels.route).filter(Boolean));
    expect([...routes].filter((name) => /org_first|org_second|not-a-route|org_[a-z0-9]{10}/.test(name))).toEqual([]);
  });
});

describe('usage ingestion', () => {
  it('adds exactly the records and requests of an accepted report, and nothing for a repeat or a refusal', async () => {
    const owner = await signUpOwner(t);
    const registered = await t.call('POST', `/v1/orgs/${owner.orgId}/runtimes`, {
      cookie: owner.cookie,
      body: { name: 'edge-metrics' },
    });
    expect(registered.status).toBe(201);
    const token = registered.body.token as string;
    const now = (await clockNow()).getTime();
    const minutesAgo = (minutes: number) => new Date(now - minutes * 60_000).toISOString();
    const usage = [
      { timestamp: minutesAgo(30), requests: 120, service: 'api' },
      { timestamp: minutesAgo(20), requests: 3 },
      { timestamp: minutesAgo(10), requests: 1000, service: 'search' },
    ];
    const send = (reportId: string, records: unknown[]) =>
      t.call('POST', '/v1/runtime/usage', { token, body: { report_id: reportId, usage: records } });
    const counters = (samples: Sample[]) => ({
      records: sampleValue(samples, 'tierline_usage_records_ingested_total'),
      requests: sampleValue(samples, 'tierline_usage_requests_ingested_total'),
      accepted: sampleValue(samples, 'tierline_usage_reports_total', { outcome: 'accepted' }),
      duplicate: sampleValue(samples, 'tierline_usage_reports_total', { outcome: 'duplicate' }),
      refused: sampleValue(samples, 'tierline_usage_reports_total', { outcome: 'refused' }),
    });

    const before = counters(await scrape());
    const accepted = await send('metrics-1', usage);
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(200);
    expect(accepted.body).toMatchObject({ duplicate: false, records: 3, requests: 1123 });
    const afterAccepted = counters(await scrape());
    expect(afterAccepted).toEqual({
      records: (before.records ?? 0) + 3,
      requests: (before.requests ?? 0) + 1123,
      accepted: (before.accepted ?? 0) + 1,
      duplicate: before.duplicate,
      refused: before.refused,
    });

    const repeated = await send('metrics-1', usage);
    expect(repeated.status).toBe(200);
    expect(repeated.body.duplicate).toBe(true);
    const refused = await send('metrics-2', [{ timestamp: 'yesterday', requests: 5 }]);
    expect(refused.status).toBe(400);
    const unknownToken = await t.call('POST', '/v1/runtime/usage', {
      token: 'rt_not-a-token',
      body: { report_id: 'metrics-3', usage },
    });
    expect(unknownToken.status).toBe(401);
    expect(counters(await scrape())).toEqual({
      ...afterAccepted,
      duplicate: (afterAccepted.duplicate ?? 0) + 1,
      refused: (afterAccepted.refused ?? 0) + 2,
    });
  });
});

describe('due work', () => {
  it('shows no lag while nothing is overdue, then now minus the oldest overdue due instant', async () => {
    const initially = await scrape();
    expect(sampleValue(initially, 'tierline_due_work_lag_seconds')).toBe(0);
    expect(sampleValue(initially, 'tierline_due_items_overdue') ?? 0).toBe(0);
    const pendingBefore = sampleValue(initially, 'tierline_due_items_pending', { kind: 'invitation_expiry' }) ?? 0;

    // Work left behind, as after a stopped worker: items whose due instant has passed, still pending.
    const now = await clockNow();
    const subject = `obs_${randomBytes(4).toString('hex')}`;
    const overdue = [
      { kind: 'invitation_expiry', dueAt: new Date(now.getTime() - 90_000) },
      { kind: 'invitation_expiry', dueAt: new Date(now.getTime() - 30_000) },
      { kind: 'org_inactivity', dueAt: new Date(now.getTime() - 45_500) },
    ];
    await t.deps.db.insert(dueItems).values(
      overdue.map((item, index) => ({
        id: `due_${subject}_${index}`,
        kind: item.kind,
        subjectId: subject,
        dueAt: item.dueAt,
        status: 'pending',
        createdAt: now,
      })),
    );
    try {
      const late = await scrape();
      expect(sampleValue(late, 'tierline_due_work_lag_seconds')).toBe(90);
      expect(sampleValue(late, 'tierline_due_items_overdue', { kind: 'invitation_expiry' })).toBe(2);
      expect(sampleValue(late, 'tierline_due_items_overdue', { kind: 'org_inactivity' })).toBe(1);
      expect(sampleValue(late, 'tierline_due_items_pending', { kind: 'invitation_expiry' })).toBe(pendingBefore + 2);
    } finally {
      await t.deps.db
        .update(dueItems)
        .set({ status: 'cancelled', processedAt: now })
        .where(and(eq(dueItems.subjectId, subject), eq(dueItems.status, 'pending')));
    }
    const caughtUp = await scrape();
    expect(sampleValue(caughtUp, 'tierline_due_work_lag_seconds')).toBe(0);
    expect(sampleValue(caughtUp, 'tierline_due_items_overdue') ?? 0).toBe(0);
  });
});

describe('due work that failed every attempt', () => {
  it('shows by kind until an operator puts it back', async () => {
    const now = await clockNow();
    const subject = `obs_failed_${randomBytes(4).toString('hex')}`;
    await t.deps.db.insert(dueItems).values({
      id: `due_${subject}`,
      kind: 'invoice_collection',
      subjectId: subject,
      dueAt: new Date(now.getTime() + 86_400_000),
      status: 'failed',
      attempts: 8,
      lastError: 'payment provider unavailable',
      createdAt: now,
    });
    expect(sampleValue(await scrape(), 'tierline_due_items_failed', { kind: 'invoice_collection' })).toBe(1);
    expect(await t.deps.runner.retryFailed()).toBe(1);
    const [row] = await t.deps.db.select().from(dueItems).where(eq(dueItems.subjectId, subject));
    expect(row).toMatchObject({ status: 'pending', attempts: 0, notBefore: null });
    expect(sampleValue(await scrape(), 'tierline_due_items_failed', { kind: 'invoice_collection' }) ?? 0).toBe(0);
    await t.deps.db
      .update(dueItems)
      .set({ status: 'cancelled', processedAt: now })
      .where(eq(dueItems.subjectId, subject));
  });
});

describe('org lifecycle', () => {
  it('counts deactivations by reason, and keeps counting them after a reactivation', async () => {
    const staff = await logInAdmin(t);
    const first = await signUpOwner(t);
    const second = await signUpOwner(t);
    const before = await scrape();
    const deactivations = (samples: Sample[], reason: string) =>
      sampleValue(samples, 'tierline_org_deactivations_total', { reason }) ?? 0;
    const orgs = (samples: Sample[], status: string) =>
      sampleValue(samples, 'tierline_orgs', { status, plan: 'free' }) ?? 0;

    const deactivate = (orgId: string, reason: string) =>
      t.call('POST', `/v1/admin/orgs/${orgId}/deactivate`, { cookie: staff, body: { reason } });
    expect((await deactivate(first.orgId, 'support_request')).status).toBe(200);
    expect((await deactivate(second.orgId, 'Asked on the phone to close the account')).status).toBe(200);
    const after = await scrape();
    expect(deactivations(after, 'support_request') - deactivations(before, 'support_request')).toBe(1);
    // Free text is not a label value (every distinct text would be a series of its own).
    expect(deactivations(after, 'other') - deactivations(before, 'other')).toBe(1);
    expect(deactivations(after, 'inactivity')).toBe(deactivations(before, 'inactivity'));
    expect(orgs(after, 'deactivated') - orgs(before, 'deactivated')).toBe(2);
    expect(orgs(after, 'active') - orgs(before, 'active')).toBe(-2);

    const reactivated = await t.call('POST', `/v1/admin/orgs/${first.orgId}/reactivate`, { cookie: staff, body: {} });
    expect(reactivated.status, JSON.stringify(reactivated.body)).toBe(200);
    const later = await scrape();
    expect(deactivations(later, 'support_request')).toBe(deactivations(after, 'support_request'));
    expect(orgs(later, 'deactivated') - orgs(after, 'deactivated')).toBe(-1);
  });
});

describe('invoices', () => {
  it('shows a calculated invoice as open, by kind', async () => {
    const owner = await signUpOwner(t);
    const { subscription } = await h.subscribePlus(owner);
    const open = (samples: Sample[]) => sampleValue(samples, 'tierline_invoices', { status: 'open', kind: 'cycle' });
    const before = await scrape();
    expect(open(before)).toBe(0);
    await h.advance(subscription.next_calculation_at, owner);
    const invoices = await t.call('GET', `/v1/orgs/${owner.orgId}/invoices`, { cookie: owner.cookie });
    expect(invoices.body.data.map((invoice: { status: string }) => invoice.status)).toEqual(['open']);
    const after = await scrape();
    expect(open(after)).toBe(1);
    expect(sampleValue(after, 'tierline_invoices', { status: 'paid' })).toBe(0);
  });
});

describe('counts on a large database', () => {
  it('never makes a scrape wait for a count: the last one is answered with its age, a new one follows', async () => {
    // Limits that class every table as large, as a million orgs would.
    const metrics = createMetrics(t.deps, t.app.log, { exactRows: -1, cheapMs: -1 });
    const read = async () => parseMetrics(await metrics.registry.metrics());
    const eventually = async (check: (samples: Sample[]) => boolean) => {
      for (let tries = 0; tries < 200; tries++) {
        const samples = await read();
        if (check(samples)) return samples;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw new Error('the background count never showed');
    };

    const first = await read();
    // Nothing was counted yet: the first scrape starts the count and does not wait for it.
    expect(sampleValue(first, 'tierline_orgs')).toBeUndefined();
    // The lag is one index probe: always read at the scrape.
    expect(sampleValue(first, 'tierline_due_work_lag_seconds')).toBe(0);

    const counted = await eventually((samples) => sampleValue(samples, 'tierline_orgs') !== undefined);
    const total = sampleValue(counted, 'tierline_orgs') as number;
    expect(total).toBe(sampleValue(await scrape(), 'tierline_orgs'));
    expect(sampleValue(counted, 'tierline_metrics_count_age_seconds', { table: 'orgs' })).toBeGreaterThanOrEqual(0);

    await signUpOwner(t);
    await eventually((samples) => sampleValue(samples, 'tierline_orgs') === total + 1);
  });
});
