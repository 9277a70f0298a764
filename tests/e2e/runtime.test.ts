import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { cp, readdir, readFile, rename } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import {
  baseEnv,
  cleanUpProcesses,
  freshDatabaseUrl,
  freshTemporaryDir,
  type Server,
  startServer,
  waitForUrl,
} from '../helpers/server-process.ts';

// The reference runtime as people run it: the real Tierline server and the real runtime, each a
// child process on the real clock, and a real upstream in this process.

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const nodeBinary = join(repoRoot, 'node_modules', '.bin', 'node');
const reportIntervalMs = 200;
const admin = { email: 'admin@tierline.test', password: 'admin-password-1' };

const runtimes = new Set<ChildProcess>();
const upstreams: http.Server[] = [];
afterEach(async () => {
  for (const child of runtimes) child.kill('SIGKILL');
  runtimes.clear();
  for (const server of upstreams.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  await cleanUpProcesses();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function eventually<T>(
  read: () => Promise<T>,
  isDone: (value: T) => boolean,
  timeoutMs: number,
  explain: () => string,
) {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!isDone(value)) {
    if (Date.now() > deadline) throw new Error(`gave up waiting; last value ${JSON.stringify(value)}\n${explain()}`);
    await sleep(100);
    value = await read();
  }
  return value;
}

/** An upstream service that answers every request with what it received, and counts them. */
async function startUpstream() {
  const received: string[] = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push(`${request.method} ${request.url}`);
      response.writeHead(200, { 'content-type': 'application/json', 'x-served-by': 'upstream' });
      response.end(
        JSON.stringify({ method: request.method, url: request.url, body: Buffer.concat(chunks).toString('utf8') }),
      );
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  upstreams.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received };
}

interface Runtime {
  child: ChildProcess;
  url: URL;
  stdout(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `npm run runtime` the way an operator does (the pinned Node on src/runtime/main.ts). */
async function startRuntime(controlPlane: string, token: string, spoolDir: string): Promise<Runtime> {
  const args = ['--control-plane', controlPlane, '--token', token, '--listen', '0', '--spool-dir', spoolDir];
  args.push('--report-interval-ms', String(reportIntervalMs), '--sync-interval-ms', '200');
  const child = spawn(nodeBinary, ['src/runtime/main.ts', ...args], {
    cwd: repoRoot,
    env: baseEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  runtimes.add(child);
  let output = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('close', (code, signal) => {
      runtimes.delete(child);
      resolve({ code, signal });
    });
  });
  let hasExited = false;
  void exited.then(() => {
    hasExited = true;
  });
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline && !hasExited) {
    const match = /^Tierline runtime listening on (http:\/\/localhost:(\d+))$/m.exec(output);
    if (match) return { child, url: new URL(`http://127.0.0.1:${match[2]}`), stdout: () => output, exited };
    await sleep(50);
  }
  throw new Error(`the runtime never said where it listens\n${output}`);
}

/** A Tierline server on a fresh database (or on `database` when restarting one), with a staff admin. */
async function startTierline(database?: { dataDir: string; databaseUrl: string | undefined }) {
  const dataDir = database?.dataDir ?? (await freshTemporaryDir());
  const databaseUrl = database ? database.databaseUrl : await freshDatabaseUrl();
  const server = startServer({
    ...baseEnv(),
    PORT: '0',
    TIERLINE_DATA_DIR: dataDir,
    TIERLINE_ADMIN_EMAIL: admin.email,
    TIERLINE_ADMIN_PASSWORD: admin.password,
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
  });
  const url = await waitForUrl(server);
  return { server, base: `http://127.0.0.1:${url.port}`, database: { dataDir, databaseUrl } };
}

async function stopTierline(server: Server) {
  server.child.kill('SIGTERM');
  expect(await server.exited).toEqual({ code: 0, signal: null });
}

/** JSON in and out, with the session cookie when given (no Origin header: not a browser). */
async function call(base: string, method: string, path: string, options: { body?: unknown; cookie?: string } = {}) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(options.cookie ? { cookie: options.cookie } : {}),
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  const session = response.headers
    .getSetCookie()
    .map((line) => line.split(';')[0])
    .find((pair) => pair.startsWith('tierline_session='));
  return { status: response.status, body: text ? JSON.parse(text) : undefined, cookie: session, text };
}

/** Signs up an owner, routes /echo to the upstream, registers a runtime: what an admin does first. */
async function setUpOrg(base: string, upstreamUrl: string) {
  const email = `owner-${Date.now()}@example.com`;
  const password = 'owner-password-1';
  const signUp = await call(base, 'POST', '/v1/signup', {
    body: { email, password, full_name: 'Olive Owner', org_name: 'Echo Inc' },
  });
  expect(signUp.status, signUp.text).toBe(201);
  expect(signUp.cookie).toBeDefined();
  const orgId: string = signUp.body.org.id;
  const cookie = signUp.cookie!;

  const routes = [{ path_prefix: '/echo', upstream_url: upstreamUrl, service: 'echo' }];
  const config = await call(base, 'PUT', `/v1/orgs/${orgId}/control-plane/config`, { cookie, body: { routes } });
  expect(config.status, config.text).toBe(200);

  const registered = await call(base, 'POST', `/v1/orgs/${orgId}/runtimes`, { cookie, body: { name: 'edge-1' } });
  expect(registered.status, registered.text).toBe(201);
  expect(registered.body.runtime.id).toMatch(/^rt_/);
  expect(typeof registered.body.token).toBe('string');
  return { orgId, cookie, email, password, token: registered.body.token as string };
}

/** The org's usage total over the two hours around now. */
async function usageTotal(base: string, orgId: string, cookie: string): Promise<number> {
  const start = new Date(Date.now() - 3_600_000).toISOString();
  const end = new Date(Date.now() + 3_600_000).toISOString();
  const query = new URLSearchParams({ start, end, granularity: 'hour' });
  const usage = await call(base, 'GET', `/v1/orgs/${orgId}/usage?${query}`, { cookie });
  expect(usage.status, usage.text).toBe(200);
  return Number(usage.body.total);
}

/** Sends `count` requests through the runtime, a few at a time, and checks each got the upstream's answer. */
async function sendThrough(runtime: Runtime, count: number, label: string) {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const index = next++;
      const response = await fetch(new URL(`/echo/${label}/${index}?n=${index}`, runtime.url), {
        method: index % 2 ? 'POST' : 'GET',
        body: index % 2 ? `payload ${index}` : undefined,
      });
      expect(response.status).toBe(200);
      expect(response.headers.get('x-served-by')).toBe('upstream');
      expect(await response.json()).toEqual({
        method: index % 2 ? 'POST' : 'GET',
        url: `/echo/${label}/${index}?n=${index}`,
        body: index % 2 ? `payload ${index}` : '',
      });
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
}

/** The reports in the spool now; one the runtime sends and deletes while this reads is not counted. */
async function spooledReports(spoolDir: string) {
  const names = (await readdir(spoolDir)).filter((name) => name.endsWith('.json'));
  const reports = [];
  for (const name of names) {
    const text = await readFile(join(spoolDir, name), 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
    if (text !== undefined) reports.push(JSON.parse(text));
  }
  return reports as { report_id: string; usage: { requests: number }[] }[];
}

const requestsIn = (reports: { usage: { requests: number }[] }[]) =>
  reports.flatMap((report) => report.usage).reduce((sum, record) => sum + record.requests, 0);

describe('the reference runtime against the real control plane', () => {
  it('proxies, reports exactly the requests it served, and answers 503 once decommissioned', async () => {
    const { base } = await startTierline();
    const upstream = await startUpstream();
    const org = await setUpOrg(base, upstream.url);
    const spoolDir = await freshTemporaryDir();
    const runtime = await startRuntime(base, org.token, spoolDir);
    expect(runtime.stdout()).toContain('synced config');

    const requests = 137;
    await sendThrough(runtime, requests, 'first');
    expect(upstream.received).toHaveLength(requests);

    const read = () => usageTotal(base, org.orgId, org.cookie);
    await eventually(read, (total) => total >= requests, 15_000, runtime.stdout);
    await sleep(reportIntervalMs * 5);
    expect(await read()).toBe(requests);
    expect(await spooledReports(spoolDir)).toEqual([]);
    expect(runtime.stdout()).toMatch(/report \S+ \(\d+ requests\) sent/);

    const staff = await call(base, 'POST', '/v1/auth/login', { body: admin });
    expect(staff.status, staff.text).toBe(200);
    const decommission = await call(base, 'POST', `/v1/admin/orgs/${org.orgId}/control-plane/decommission`, {
      cookie: staff.cookie,
      body: { reason: 'test' },
    });
    expect(decommission.status, decommission.text).toBe(200);

    // Within a sync or two the runtime learns it, and refuses traffic.
    const status = () => fetch(new URL('/echo/after', runtime.url)).then((response) => response.status);
    await eventually(status, (code) => code === 503, 10_000, runtime.stdout);
    const reachedUpstream = upstream.received.length;
    const refused = await fetch(new URL('/echo/after', runtime.url));
    expect(refused.status).toBe(503);
    expect((await refused.json()).error.code).toBe('control_plane_decommissioned');
    expect(runtime.stdout()).toContain('control plane decommissioned');

    // It stays up and keeps refusing, and nothing more is counted.
    await sleep(3_000);
    expect(runtime.child.exitCode).toBeNull();
    const later = await fetch(new URL('/echo/later', runtime.url));
    expect(later.status).toBe(503);
    expect(upstream.received.length).toBe(reachedUpstream);
    expect(await read()).toBe(requests);
  }, 120_000);

  it('spools what it served while the control plane was down and reports it once after a restart', async () => {
    const first = await startTierline();
    const upstream = await startUpstream();
    const org = await setUpOrg(first.base, upstream.url);
    const spoolDir = await freshTemporaryDir();
    const runtime = await startRuntime(first.base, org.token, spoolDir);

    const before = 5;
    await sendThrough(runtime, before, 'before');
    const readFirst = () => usageTotal(first.base, org.orgId, org.cookie);
    await eventually(readFirst, (total) => total >= before, 15_000, runtime.stdout);

    // The control plane goes away; the runtime keeps serving from the routes it has.
    await stopTierline(first.server);
    const during = 23;
    await sendThrough(runtime, during, 'during');
    await sleep(reportIntervalMs * 3);
    runtime.child.kill('SIGTERM');
    expect(await runtime.exited).toEqual({ code: 0, signal: null });
    const spooled = await spooledReports(spoolDir);
    expect(spooled.length).toBeGreaterThan(0);
    expect(requestsIn(spooled)).toBe(during);
    const kept = await freshTemporaryDir();
    await cp(spoolDir, kept, { recursive: true });

    // Both come back; the new runtime sends the spool of the old one.
    const second = await startTierline(first.database);
    const login = await call(second.base, 'POST', '/v1/auth/login', {
      body: { email: org.email, password: org.password, org_id: org.orgId },
    });
    expect(login.status, login.text).toBe(200);
    const read = () => usageTotal(second.base, org.orgId, login.cookie!);
    const restarted = await startRuntime(second.base, org.token, spoolDir);
    await eventually(read, (total) => total >= before + during, 15_000, restarted.stdout);
    await eventually(
      () => spooledReports(spoolDir),
      (left) => left.length === 0,
      5_000,
      restarted.stdout,
    );
    expect(await read()).toBe(before + during);

    // The same reports sent once more (as after a crash between sending and deleting) count nothing.
    for (const report of spooled) {
      // Copied under a name the spool ignores, then renamed, so it is never read half-written.
      const name = `${report.report_id}.json`;
      await cp(join(kept, name), join(spoolDir, `.${name}.tmp`));
      await rename(join(spoolDir, `.${name}.tmp`), join(spoolDir, name));
    }
    // The log line follows the file's removal: wait for the lines, not for the empty folder.
    const resent = async () => (restarted.stdout().match(/already counted before/g) ?? []).length;
    await eventually(resent, (count) => count === spooled.length, 10_000, restarted.stdout);
    expect(await spooledReports(spoolDir)).toEqual([]);
    await sleep(reportIntervalMs * 3);
    expect(await read()).toBe(before + during);
    expect(await readdir(join(spoolDir, 'rejected'))).toEqual([]);
    expect(restarted.child.exitCode).toBeNull();
  }, 180_000);
});
