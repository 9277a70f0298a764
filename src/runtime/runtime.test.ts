import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startRuntime } from './runtime.ts';
import type { UsageReport } from './usage-counter.ts';

// The runtime against a scripted control plane speaking the contract of /v1/runtime/*, and a real
// upstream. The real control plane is exercised by tests/e2e/runtime.test.ts.

type Answer = { status: number; body: unknown };
const decommissioned: Answer = {
  status: 403,
  body: { error: { code: 'control_plane_decommissioned', message: 'The control plane is decommissioned.' } },
};

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function listen(server: http.Server): Promise<URL> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
}

function readBody(request: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

/** An upstream that answers with what it received. */
async function startUpstream() {
  const received: { method: string; url: string; headers: http.IncomingHttpHeaders; bodyLength: number }[] = [];
  const server = http.createServer(async (request, response) => {
    const body = await readBody(request);
    received.push({
      method: request.method ?? '',
      url: request.url ?? '',
      headers: request.headers,
      bodyLength: body.length,
    });
    if (request.url?.startsWith('/echo/teapot')) {
      response.writeHead(418, { 'content-type': 'text/plain', 'x-upstream': 'yes' });
      response.end('short and stout');
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json', 'x-upstream': 'yes' });
    response.end(JSON.stringify({ method: request.method, url: request.url, body_length: body.length }));
  });
  return { url: await listen(server), received };
}

/** A control plane whose answers the test sets, recording every report it receives. */
async function startControlPlane(upstream: URL) {
  const reports: UsageReport[] = [];
  const accepted = new Map<string, UsageReport>();
  const state = {
    config: (): Answer => ({
      status: 200,
      body: {
        control_plane_id: 'cp_1',
        org_id: 'org_1',
        runtime_id: 'rt_1',
        version: 1,
        routes: [
          { path_prefix: '/echo', upstream_url: upstream.href, service: 'echo' },
          { path_prefix: '/echo/v2', upstream_url: upstream.href, service: 'echo-v2' },
          { path_prefix: '/down', upstream_url: 'http://127.0.0.1:9', service: 'down' },
        ],
      },
    }),
    usage: (_report: UsageReport): Answer => ({ status: 200, body: { accepted: true, duplicate: false } }),
    tokens: [] as string[],
  };
  const server = http.createServer(async (request, response) => {
    state.tokens.push(request.headers.authorization ?? '');
    let answer: Answer;
    if (request.method === 'GET' && request.url === '/v1/runtime/config') {
      answer = state.config();
    } else if (request.method === 'POST' && request.url === '/v1/runtime/usage') {
      const report = JSON.parse((await readBody(request)).toString('utf8')) as UsageReport;
      reports.push(report);
      answer = state.usage(report);
      if (answer.status === 200) {
        answer = { status: 200, body: { accepted: true, duplicate: accepted.has(report.report_id) } };
        accepted.set(report.report_id, report);
      }
    } else {
      answer = { status: 404, body: { error: { code: 'not_found', message: 'Not found.' } } };
    }
    response.writeHead(answer.status, { 'content-type': 'application/json' });
    response.end(JSON.stringify(answer.body));
  });
  const url = await listen(server);
  const acceptedRequests = () =>
    [...accepted.values()].flatMap((report) => report.usage).reduce((sum, record) => sum + record.requests, 0);
  return { url, state, reports, accepted, acceptedRequests, server };
}

async function freshDir() {
  const dir = await mkdtemp(join(tmpdir(), 'tierline-runtime-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function start(controlPlane: URL, spoolDir: string, overrides: { reportIntervalMs?: number } = {}) {
  const lines: string[] = [];
  const runtime = await startRuntime({
    controlPlaneUrl: controlPlane,
    token: 'rt_token_1',
    port: 0,
    host: '127.0.0.1',
    spoolDir,
    syncIntervalMs: 50,
    reportIntervalMs: overrides.reportIntervalMs ?? 50,
    retryBaseMs: 50,
    retryCapMs: 200,
    requestTimeoutMs: 2_000,
    log: (line) => lines.push(line),
  });
  let isClosed = false;
  const close = async () => {
    if (isClosed) return;
    isClosed = true;
    await runtime.close();
  };
  cleanups.push(close);
  return { runtime, lines, close, url: new URL(`http://127.0.0.1:${runtime.port}`) };
}

async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 5_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('the condition never held');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const spooled = async (dir: string) => (await readdir(dir)).filter((name) => name.endsWith('.json')).sort();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the runtime', () => {
  it('proxies method, path, query, headers and body, and answers with the upstream status, headers and body', async () => {
    const upstream = await startUpstream();
    const controlPlane = await startControlPlane(upstream.url);
    const { url } = await start(controlPlane.url, await freshDir());

    const response = await fetch(new URL('/echo/things?colour=blue&n=2', url), {
      method: 'POST',
      headers: { 'content-type': 'text/plain', 'x-custom': 'kept' },
      body: 'hello upstream',
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-upstream')).toBe('yes');
    expect(await response.json()).toEqual({ method: 'POST', url: '/echo/things?colour=blue&n=2', body_length: 14 });
    const seen = upstream.received.at(-1)!;
    expect(seen.headers['x-custom']).toBe('kept');
    expect(seen.headers.host).toBe(upstream.url.host);
    expect(seen.headers['x-forwarded-host']).toBe(url.host);
    expect(seen.headers['x-forwarded-for']).toContain('127.0.0.1');

    const teapot = await fetch(new URL('/echo/teapot', url), { method: 'DELETE' });
    expect(teapot.status).toBe(418);
    expect(await teapot.text()).toBe('short and stout');
    expect(upstream.received.at(-1)!.method).toBe('DELETE');
  });

  it('streams large bodies both ways', async () => {
    const upstream = await startUpstream();
    const controlPlane = await startControlPlane(upstream.url);
    const { url } = await start(controlPlane.url, await freshDir());
    const body = randomBytes(5 * 1024 * 1024);
    const response = await fetch(new URL('/echo/upload', url), { method: 'PUT', body });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ body_length: body.length });
  });

  it('answers 404 JSON without a matching route and 502 JSON when the upstream is unreachable', async () => {
    const upstream = await startUpstream();
    const controlPlane = await startControlPlane(upstream.url);
    const { url } = await start(controlPlane.url, await freshDir());

    const missing = await fetch(new URL('/echoes', url));
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toContain('application/json');
    expect((await missing.json()).error.code).toBe('route_not_found');

    const down = await fetch(new URL('/down/x', url), { method: 'POST', body: 'lost' });
    expect(down.status).toBe(502);
    expect((await down.json()).error.code).toBe('upstream_unreachable');
  });

  it('counts every proxied request per minute and service and reports them with the runtime token', async () => {
    const upstream = await startUpstream();
    const controlPlane = await startControlPlane(upstream.url);
    const spoolDir = await freshDir();
    const { url, lines } = await start(controlPlane.url, spoolDir);

    const before = new Date();
    for (let index = 0; index < 20; index += 1) await fetch(new URL(`/echo/${index}`, url)).then((r) => r.text());
    for (let index = 0; index < 5; index += 1) await fetch(new URL('/echo/v2/x', url)).then((r) => r.text());
    await fetch(new URL('/echo/teapot', url)).then((r) => r.text());
    await fetch(new URL('/down', url)).then((r) => r.text());
    await fetch(new URL('/nowhere', url)).then((r) => r.text());
    const after = new Date();

    await eventually(() => controlPlane.acceptedRequests() === 27);
    await sleep(200);
    expect(controlPlane.acceptedRequests()).toBe(27);
    const records = [...controlPlane.accepted.values()].flatMap((report) => report.usage);
    const byService = new Map<string, number>();
    for (const record of records)
      byService.set(record.service!, (byService.get(record.service!) ?? 0) + record.requests);
    expect(Object.fromEntries(byService)).toEqual({ echo: 21, 'echo-v2': 5, down: 1 });
    for (const record of records) {
      expect(record.timestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:00Z$/);
      const minute = Date.parse(record.timestamp);
      expect(minute).toBeGreaterThanOrEqual(before.getTime() - 60_000);
      expect(minute).toBeLessThanOrEqual(after.getTime());
    }
    expect(new Set(controlPlane.state.tokens)).toEqual(new Set(['Bearer rt_token_1']));
    expect(await spooled(spoolDir)).toEqual([]);
    expect(lines.some((line) => line.startsWith('synced config'))).toBe(true);
    expect(lines.some((line) => / sent$/.test(line))).toBe(true);
  });

  it('keeps a report while the control plane fails and sends it again with the same report_id', async () => {
    const upstream = await startUpstream();
    const controlPlane = await startControlPlane(upstream.url);
    let failures = 0;
    controlPlane.state.usage = () => {
      failures += 1;
      return failures <= 3
        ? { status: 503, body: { error: { code: 'unavailable', message: 'Try later.' } } }
        : { status: 200, body: {} };
    };
    const spoolDir = await freshDir();
    const { url } = await start(controlPlane.url, spoolDir);
    for (let index = 0; index < 7; index += 1) await fetch(new URL('/echo/a', url)).then((r) => r.text());

    await eventually(() => controlPlane.reports.length >= 1);
    expect((await spooled(spoolDir)).length).toBeGreaterThanOrEqual(1);
    await eventually(() => controlPlane.acceptedRequests() === 7);
    // The oldest report takes every failure: sent four times, always with the same id.
    const firstId = controlPlane.reports[0].report_id;
    expect(controlPlane.reports.filter((report) => report.report_id === firstId)).toHaveLength(4);
    expect(controlPlane.reports.slice(0, 4).map((report) => report.report_id)).toEqual(Array(4).fill(firstId));
    await eventually(async () => (await spooled(spoolDir)).length === 0);
  });

  it('moves a report answered 400 to rejected/ and does not send it again', async () => {
    const upstream = await startUpstream();
    const controlPlane = await startControlPlane(upstream.url);
    controlPlane.state.usage = () => ({
      status: 400,
      body: { error: { code: 'timestamp_out_of_range', message: 'Too old.' } },
    });
    const spoolDir = await freshDir();
    const { url, lines } = await start(controlPlane.url, spoolDir);
    await fetch(new URL('/echo/a', url)).then((r) => r.text());

    await eventually(async () => (await readdir(join(spoolDir, 'rejected'))).length === 2);
    await sleep(300);
    expect(controlPlane.reports).toHaveLength(1);
    expect(await spooled(spoolDir)).toEqual([]);
    const rejected = (await readdir(join(spoolDir, 'rejected'))).sort();
    expect(rejected).toEqual([
      `${controlPlane.reports[0].report_id}.json`,
      `${controlPlane.reports[0].report_id}.reason.txt`,
    ]);
    expect(lines.some((line) => line.includes('rejected') && line.includes('timestamp_out_of_range'))).toBe(true);
  });

  it('sends the reports a previous run left in the spool as soon as it starts', async () => {
    const upstream = await startUpstream();
    const controlPlane = await startControlPlane(upstream.url);
    const spoolDir = await freshDir();
    const leftover: UsageReport = {
      report_id: '20250301T120000Z-deadbeef-000001',
      usage: [{ timestamp: new Date().toISOString().slice(0, 17).concat('00Z'), requests: 42, service: 'echo' }],
    };
    await writeFile(join(spoolDir, `${leftover.report_id}.json`), JSON.stringify(leftover));
    await start(controlPlane.url, spoolDir, { reportIntervalMs: 60_000 });
    await eventually(() => controlPlane.accepted.has(leftover.report_id));
    expect(controlPlane.accepted.get(leftover.report_id)).toEqual(leftover);
    await eventually(async () => (await spooled(spoolDir)).length === 0);
  });

  it('spools the last counts on close when the control plane is unreachable, for the next run to send', async () => {
    const upstream = await startUpstream();
    const controlPlane = await startControlPlane(upstream.url);
    const spoolDir = await freshDir();
    const first = await start(controlPlane.url, spoolDir, { reportIntervalMs: 60_000 });
    controlPlane.server.closeAllConnections();
    controlPlane.server.close();
    for (let index = 0; index < 9; index += 1) await fetch(new URL('/echo/a', first.url)).then((r) => r.text());
    await first.close();
    // One report, or two when the first reporting round (at start) caught some of the requests.
    const files = await spooled(spoolDir);
    expect(files.length).toBeGreaterThanOrEqual(1);

    const again = await startControlPlane(upstream.url);
    await start(again.url, spoolDir);
    await eventually(() => again.acceptedRequests() === 9);
    expect([...again.accepted.keys()].sort()).toEqual(files.map((file) => file.replace(/\.json$/, '')).sort());
  });

  it('answers 503 once decommissioned, stops counting, stays up, and serves again when re-commissioned', async () => {
    const upstream = await startUpstream();
    const controlPlane = await startControlPlane(upstream.url);
    const spoolDir = await freshDir();
    const { url, lines } = await start(controlPlane.url, spoolDir);
    for (let index = 0; index < 3; index += 1) await fetch(new URL('/echo/a', url)).then((r) => r.text());
    await eventually(() => controlPlane.acceptedRequests() === 3);

    const serving = controlPlane.state.config;
    controlPlane.state.config = () => decommissioned;
    controlPlane.state.usage = () => decommissioned;
    await eventually(async () => (await fetch(new URL('/echo/a', url))).status === 503);
    const refused = await fetch(new URL('/echo/b', url));
    expect(refused.status).toBe(503);
    expect((await refused.json()).error.code).toBe('control_plane_decommissioned');
    expect((await fetch(new URL('/nowhere', url))).status).toBe(503);
    const upstreamCalls = upstream.received.length;
    await sleep(300);
    expect((await fetch(new URL('/echo/c', url))).status).toBe(503);
    expect(upstream.received.length).toBe(upstreamCalls);
    expect(controlPlane.acceptedRequests()).toBe(3);
    expect(lines.filter((line) => line.startsWith('control plane decommissioned'))).toHaveLength(1);

    controlPlane.state.config = serving;
    controlPlane.state.usage = () => ({ status: 200, body: {} });
    await eventually(async () => (await fetch(new URL('/echo/d', url))).status === 200);
    expect(lines.some((line) => line.startsWith('control plane available again'))).toBe(true);
    // Every request that reached the upstream is counted once (those held while decommissioned
    // included), and none of the refused ones.
    await eventually(() => controlPlane.acceptedRequests() === upstream.received.length);
    await sleep(200);
    expect(controlPlane.acceptedRequests()).toBe(upstream.received.length);
  });

  it('answers 503 until it has a configuration, and picks routes up when the control plane answers', async () => {
    const upstream = await startUpstream();
    const controlPlane = await startControlPlane(upstream.url);
    const serving = controlPlane.state.config;
    controlPlane.state.config = () => ({ status: 500, body: {} });
    const { url, lines } = await start(controlPlane.url, await freshDir());
    const early = await fetch(new URL('/echo/a', url));
    expect(early.status).toBe(503);
    expect((await early.json()).error.code).toBe('runtime_not_configured');
    expect(lines.filter((line) => line.startsWith('config sync failed'))).toHaveLength(1);
    controlPlane.state.config = serving;
    await eventually(async () => (await fetch(new URL('/echo/a', url))).status === 200);
  });
});
