/**
 * The API: `GET /v1/orgs/{org_id}/billing` with `orgs` orgs in the database, called with personal
 * access tokens of many distinct orgs (half of them on Plus). Measures the answer times at a fixed,
 * open-loop rate, then the route's throughput at full speed next to a Fastify hello-world measured
 * with the same load settings in the same run.
 */
import { fork } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { loadConfig } from '../src/config.ts';
import type { Database } from '../src/db/client.ts';
import { addPaymentMethod } from '../src/modules/billing/add-payment-method.ts';
import { upgradeToPlus } from '../src/modules/billing/start-subscription.ts';
import { createPersonalToken } from '../src/modules/identity/create-personal-token.ts';
import { hashPassword, SESSION_LIMITS } from '../src/modules/identity/index.ts';
import { INACTIVITY } from '../src/modules/organizations/index.ts';
import { createTierline } from '../src/tierline.ts';
import { json, progress, runConcurrently, type ServerProcess, startHelloServer, startServer } from './harness.ts';
import type { LoadMessage, LoadPlan, LoadResult } from './load-generator.ts';

export interface ApiSizes {
  /** Orgs in the database, all told. */
  orgs: number;
  /** Orgs the requests go to, each with its own personal access token; half of them on Plus. */
  tokenOrgs: number;
  /** Of the token orgs, how many are signed up through the HTTP API (the others by product use cases). */
  signups: number;
  rate: number;
  seconds: number;
  warmUpSeconds: number;
  /** A second, light fixed rate measured before the main one, and for how long. */
  lightRate?: number;
  lightSeconds?: number;
  throughputSeconds: number;
  connections: number;
  note?: string;
  /** Where the server writes a CPU profile of its run (node --cpu-prof), if anywhere. */
  profileDir?: string;
}

export interface ApiResult {
  api_orgs: number;
  api_token_orgs: number;
  api_plus_token_orgs: number;
  api_signup_orgs: number;
  api_orgs_showing_invoice: number;
  api_rate_per_s: number;
  api_fixed_rate_s: number;
  api_fixed_rate_requests: number;
  api_billing_p50_ms: number;
  api_billing_p99_ms: number;
  api_billing_max_ms: number;
  api_send_lag_p99_ms: number;
  /** The hello-world at the same fixed rate, same generator: the machine's floor for the figures above. */
  api_hello_p50_ms: number;
  api_hello_p99_ms: number;
  api_hello_send_lag_p99_ms: number;
  /** Garbage-collection pauses of the server during the timed fixed-rate phase. */
  api_server_gc_pauses: number;
  api_server_gc_pause_max_ms: number;
  api_server_gc_pause_total_ms: number;
  /** SQL statements the server sent per request during that phase, background refreshes included. */
  api_statements_per_request_at_rate: number;
  /** The share of the machine's CPU time the hypervisor took during the timed phases, in %. */
  api_cpu_steal_pct: number;
  api_hello_cpu_steal_pct: number;
  api_light_rate_per_s?: number;
  api_billing_light_p50_ms?: number;
  api_billing_light_p99_ms?: number;
  api_billing_rps: number;
  api_billing_full_speed_max_ms: number;
  api_hello_rps: number;
  api_billing_vs_hello: number;
  /** CPU time per answer at full speed, in ms: the server, its PostgreSQL backends, the load generator. */
  api_billing_server_cpu_ms: number;
  api_billing_postgres_cpu_ms?: number;
  api_billing_generator_cpu_ms: number;
  api_hello_server_cpu_ms: number;
  api_hello_generator_cpu_ms: number;
  api_throughput_connections: number;
  api_throughput_s: number;
  /** SQL statements the server sends per request, for a free and for a Plus org, with the read cache off. */
  api_statements_per_free_request: number;
  api_statements_per_plus_request: number;
  /** The same, reading each org a second time (the read cache holds its caller and snapshot). */
  api_statements_per_repeated_free_request: number;
  api_statements_per_repeated_plus_request: number;
  /** The share of reads served from the read cache during the fixed-rate phase, and at full speed. */
  api_read_cache_hit_ratio: number;
  api_full_speed_read_cache_hit_ratio: number;
  /** The route at full speed with the read cache off (TIERLINE_READ_CACHE=0). */
  api_billing_uncached_rps: number;
  api_billing_uncached_vs_hello: number;
  api_billing_uncached_server_cpu_ms: number;
  api_billing_uncached_postgres_cpu_ms?: number;
  api_server_peak_rss_mib: number;
  api_hello_server_peak_rss_mib: number;
  api_load_1m: number;
  api_seed_s: number;
  api_note?: string;
}

const DAY_MS = 86_400_000;
/** How long the fixed-rate phase waits for the last answers once every request is sent. */
const DRAIN_S = 300;
/** How long a request may wait for its answer at full speed before it counts as failed. */
const THROUGHPUT_TIMEOUT_S = 60;
const PASSWORD = 'bench-password-1';
const CARD = { number: '4242424242424242', expMonth: 12, expYear: 2030, cvc: '123' };

interface Target {
  orgId: string;
  path: string;
  authorization: string;
  plan: 'free' | 'plus';
}

type Rows<R> = { rows: R[] };

async function rows<R>(db: Database, query: ReturnType<typeof sql>): Promise<R[]> {
  return ((await db.execute(query)) as unknown as Rows<R>).rows;
}

/**
 * Seeds `orgs` free orgs as sign-up and a later login leave them, with set-based SQL: owner (with a
 * real Argon2id password hash), org, control plane, membership and owner role, the sign-up and the
 * login events with their sessions, the audit events of the creation, and the pending inactivity
 * check at the first warning of t* (last login + 30 days). Orgs were created 20 to 365 days ago and
 * logged in within the last 20 days, so nothing is due now. Returns the first `first` orgs.
 */
async function seedFreeOrgs(db: Database, now: Date, orgs: number, passwordHash: string, first: number) {
  const at = now.toISOString();
  const loginDays = INACTIVITY.loginDays;
  const firstWarning = Math.max(...INACTIVITY.warningDays);
  const sessionSeconds = SESSION_LIMITS.absoluteSeconds;
  await db.execute(sql`
    create table bench_api_seed as
    select g, org_id, owner_id, email, created_at, last_login, last_login + ${loginDays} * interval '1 day' as projected
    from (
      select g,
        'org_' || substr(md5('org' || g), 1, 20) as org_id,
        'usr_' || substr(md5('usr' || g), 1, 20) as owner_id,
        'owner' || g || '@api.bench.test' as email,
        ${at}::timestamptz - (20 + g % 345) * interval '1 day' - (g % 1440) * interval '1 minute' as created_at,
        ${at}::timestamptz - (g % 20) * interval '1 day' - (1 + g % 997) * interval '1 minute' as last_login
      from generate_series(1, ${orgs}) g
    ) s`);
  const statements = [
    sql`insert into users (id, email, password_hash, full_name, created_at)
      select owner_id, email, ${passwordHash}, 'Owner ' || g, created_at from bench_api_seed`,
    sql`insert into orgs (id, name, email, owner_user_id, status, plan, created_at, last_login_at, projected_deactivation_at)
      select org_id, 'Org ' || g, email, owner_id, 'active', 'free', created_at, last_login, projected
      from bench_api_seed order by g`,
    sql`insert into control_planes (id, org_id, status, created_at)
      select 'cp_' || substr(md5('cp' || g), 1, 20), org_id, 'active', created_at from bench_api_seed`,
    sql`insert into memberships (org_id, user_id, created_at) select org_id, owner_id, created_at from bench_api_seed`,
    sql`insert into member_roles (org_id, user_id, role) select org_id, owner_id, 'owner' from bench_api_seed`,
    sql`insert into login_events (id, org_id, user_id, method, at)
      select 'lgn_' || substr(md5('signup' || g), 1, 20), org_id, owner_id, 'signup', created_at from bench_api_seed
      union all
      select 'lgn_' || substr(md5('login' || g), 1, 20), org_id, owner_id, 'password', last_login from bench_api_seed`,
    sql`insert into sessions (id, token_hash, user_id, org_id, is_staff, created_at, last_seen_at, expires_at)
      select 'ses_' || substr(md5('ses' || g), 1, 20), md5('session-signup' || g), owner_id, org_id, false,
        created_at, created_at, created_at + ${sessionSeconds} * interval '1 second' from bench_api_seed
      union all
      select 'ses_' || substr(md5('sesl' || g), 1, 20), md5('session-login' || g), owner_id, org_id, false,
        last_login, last_login, last_login + ${sessionSeconds} * interval '1 second' from bench_api_seed`,
    sql`insert into audit_events (id, org_id, actor_type, actor_id, action, target_type, target_id, after, created_at)
      select 'aud_' || substr(md5('uc' || g), 1, 20), org_id, 'user', owner_id, 'user.created', 'user', owner_id,
        jsonb_build_object('email', email), created_at from bench_api_seed
      union all
      select 'aud_' || substr(md5('oc' || g), 1, 20), org_id, 'user', owner_id, 'org.created', 'org', org_id,
        jsonb_build_object('name', 'Org ' || g, 'email', email, 'owner_user_id', owner_id), created_at
      from bench_api_seed`,
    sql`insert into due_items (id, kind, subject_id, due_at, status, attempts, created_at)
      select 'due_' || substr(md5('chk' || g), 1, 20), 'org_inactivity', org_id,
        projected - ${firstWarning} * interval '1 day', 'pending', 0, last_login from bench_api_seed`,
  ];
  const bar = progress(`seed ${orgs} free orgs (set-based SQL)`, statements.length, ' tables');
  for (const statement of statements) {
    await db.execute(statement);
    bar.increment();
  }
  bar.stop();
  const picked = await rows<{ org_id: string; owner_id: string; email: string; created_at: string | Date }>(
    db,
    sql`select org_id, owner_id, email, created_at from bench_api_seed where g <= ${first} order by g`,
  );
  await db.execute(sql`drop table bench_api_seed`);
  return picked.map((row) => ({ ...row, created_at: new Date(row.created_at) }));
}

/**
 * Everything but the HTTP sign-ups, in this process on the benchmark database, before the server
 * starts (the embedded database has one process): the free orgs, then for the token orgs a personal
 * access token each and, for every second one, a card and a Plus subscription started 1 to 89 days
 * ago through the product's use cases, their daily traffic, and the due work up to now (invoices
 * calculated, charged and the next ones scheduled) run by the product's due-work runner.
 */
async function seedInProcess(env: Record<string, string>, sizes: ApiSizes, now: Date) {
  const tierline = await createTierline(loadConfig({ ...env, TIERLINE_LOG_LEVEL: 'warn' }));
  const { db, payments, catalog } = tierline.deps;
  const targets: Target[] = [];
  try {
    const passwordHash = await hashPassword(PASSWORD);
    const count = sizes.tokenOrgs - sizes.signups;
    const picked = await seedFreeOrgs(db, now, sizes.orgs - sizes.signups, passwordHash, count);
    const bar = progress('tokens, cards and Plus upgrades (product use cases)', count, ' orgs');
    // PGlite is one connection in this process; a server takes a few transactions side by side.
    const concurrency = tierline.database.kind === 'embedded' ? 1 : 4;
    await runConcurrently(count, concurrency, async (index) => {
      const org = picked[index];
      const actor = { type: 'user' as const, id: org.owner_id };
      const created = await createPersonalToken(db, now, {
        orgId: org.org_id,
        userId: org.owner_id,
        name: 'billing dashboard',
      });
      const plus = index % 2 === 0;
      if (plus) {
        const ageDays = Math.floor((now.getTime() - org.created_at.getTime()) / DAY_MS) - 1;
        const days = Math.min(1 + ((index * 37) % 89), ageDays);
        const at = new Date(now.getTime() - days * DAY_MS - (index % 600) * 60_000);
        const { method } = await addPaymentMethod(db, payments, at, {
          orgId: org.org_id,
          actor,
          card: CARD,
          billingDetails: {
            name: `Owner of ${org.org_id}`,
            email: org.email,
            address: { line1: '1 Main Street', city: 'Berlin', postal_code: '10115', country: 'DE' },
          },
        });
        await upgradeToPlus(db, at, { orgId: org.org_id, plan: 'plus', paymentMethodId: method.id, actor, catalog });
      }
      targets[index] = {
        orgId: org.org_id,
        path: `/v1/orgs/${org.org_id}/billing`,
        authorization: `Bearer ${created.token}`,
        plan: plus ? 'plus' : 'free',
      };
      bar.increment();
    });
    bar.stop();
    // Traffic of the Plus orgs as ingestion leaves it: one bucket a day since the subscription started,
    // 20,000 to 100,000 requests each, so a month goes over the included million.
    const at = now.toISOString();
    await db.execute(sql`
      insert into usage_minutes (org_id, minute, service, subscription_id, invoice_id, requests, latest_at)
      select s.org_id, date_trunc('minute', s.started_at + d * interval '1 day' + interval '1 hour'), 'api', s.id, '',
        20000 + abs(hashtext(s.id || d)) % 80000,
        date_trunc('minute', s.started_at + d * interval '1 day' + interval '1 hour') + interval '30 seconds'
      from subscriptions s cross join generate_series(0, 90) d
      where s.status = 'active' and s.started_at + d * interval '1 day' + interval '1 hour' < ${at}::timestamptz`);
    const due = await tierline.deps.runner.countDue(now);
    const work = progress('due work up to now (invoices calculated and charged)', due, ' items');
    const outcome = await tierline.deps.runner.runDue(now, { onProgress: (done) => work.update(done) });
    work.stop();
    if (outcome.failed !== 0) throw new Error(`${outcome.failed} due items failed while seeding`);
    // And the worker's pass tasks (emails, the usage table's monthly partitions for the seeded months,
    // retention), so the server's first pass does not do them during the timed phases.
    for (const task of tierline.deps.passTasks) await task.run(now);
    await db.execute(sql`vacuum analyze`);
    return targets;
  } finally {
    await tierline.close();
  }
}

/** Sign-ups through the real HTTP API: token, and for every second org a card, Plus and a runtime's report. */
async function signUpThroughApi(server: ServerProcess, sizes: ApiSizes, stamp: number): Promise<Target[]> {
  const base = server.url;
  const targets: Target[] = [];
  const bar = progress('sign-ups through the HTTP API', sizes.signups, ' orgs');
  await runConcurrently(sizes.signups, 4, async (index) => {
    const email = `developer${index}-${stamp}@api.bench.test`;
    const signup = await json(
      base,
      'POST',
      '/v1/signup',
      { email, password: PASSWORD, full_name: `Developer ${index}`, org_name: `Startup ${index}` },
      201,
    );
    const orgId = signup.body.org.id as string;
    const cookie = signup.cookie as string;
    const token = await json(base, 'POST', '/v1/me/tokens', { name: 'billing dashboard' }, 201, { cookie });
    const plus = index % 2 === 0;
    if (plus) {
      const method = await json(
        base,
        'POST',
        `/v1/orgs/${orgId}/payment-methods`,
        {
          card: { number: CARD.number, exp_month: CARD.expMonth, exp_year: CARD.expYear, cvc: CARD.cvc },
          billing_details: {
            name: `Developer ${index}`,
            email,
            address: { line1: '1 Main Street', city: 'Berlin', postal_code: '10115', country: 'DE' },
          },
        },
        201,
        { cookie },
      );
      await json(
        base,
        'POST',
        `/v1/orgs/${orgId}/subscription`,
        { plan: 'plus', payment_method_id: method.body.id },
        200,
        {
          cookie,
        },
      );
    }
    const runtime = await json(base, 'POST', `/v1/orgs/${orgId}/runtimes`, { name: 'edge' }, 201, { cookie });
    const sent = Date.now();
    const usage = Array.from({ length: 100 }, (_, i) => ({
      timestamp: new Date(sent - i * 1000).toISOString(),
      requests: 100 + i,
      service: `svc-${i % 3}`,
    }));
    await json(base, 'POST', '/v1/runtime/usage', { report_id: `signup-${stamp}-${index}`, usage }, 200, {
      authorization: `Bearer ${runtime.body.token}`,
    });
    targets[index] = {
      orgId,
      path: `/v1/orgs/${orgId}/billing`,
      authorization: `Bearer ${token.body.token}`,
      plan: plus ? 'plus' : 'free',
    };
    bar.increment();
  });
  bar.stop();
  return targets;
}

/** Every target once, checked as its owner would read it; returns how many show a calculated invoice. */
async function checkOverviews(base: URL, targets: Target[]): Promise<number> {
  let withInvoice = 0;
  const bar = progress('check every org’s overview', targets.length, ' orgs');
  await runConcurrently(targets.length, 8, async (index) => {
    const target = targets[index];
    const answer = await json(base, 'GET', target.path, undefined, 200, { authorization: target.authorization });
    const overview = answer.body as {
      org_id: string;
      plan: string;
      subscription: unknown;
      upcoming: { estimate: { lines: unknown[] }; invoice: unknown } | null;
      payment_method: unknown;
    };
    const plus = target.plan === 'plus';
    const problems = [
      overview.org_id !== target.orgId && 'another org',
      overview.plan !== target.plan && `plan ${overview.plan}`,
      plus !== Boolean(overview.subscription) && 'subscription',
      plus !== Boolean(overview.payment_method) && 'payment method',
      plus && overview.upcoming?.estimate.lines.length !== 2 && 'upcoming charge',
    ].filter(Boolean);
    if (problems.length) throw new Error(`${target.path}: ${problems.join(', ')} in ${JSON.stringify(overview)}`);
    if (overview.upcoming?.invoice) withInvoice++;
    bar.increment();
  });
  bar.stop();
  return withInvoice;
}

type LoadGenerator = ReturnType<typeof startLoadGenerator>;

/**
 * A load generator process (bench/load-generator.ts) for every fixed-rate phase against one server:
 * `run` sends requests at a fixed rate for `seconds`, and every answer must be 200.
 */
function startLoadGenerator() {
  const child = fork(fileURLToPath(new URL('./load-generator.ts', import.meta.url)), [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let exitCode: number | null | undefined;
  child.once('exit', (code) => {
    exitCode = code;
  });
  return {
    async run(base: URL, targets: Target[], rate: number, seconds: number, label: string): Promise<LoadResult> {
      if (exitCode !== undefined) throw new Error(`${label}: the load generator exited with ${exitCode}`);
      const bar = progress(label, seconds, ' s');
      let onMessage: (message: LoadMessage) => void = () => {};
      let onExit: (code: number | null) => void = () => {};
      const result = await new Promise<LoadResult>((resolve, reject) => {
        onMessage = (message) => {
          if ('elapsedSeconds' in message) bar.update(message.elapsedSeconds);
          else if ('result' in message) resolve(message.result);
          else reject(new Error(`${label}: ${message.error}`));
        };
        onExit = (code) => reject(new Error(`${label}: the load generator exited with ${code}`));
        child.on('message', onMessage);
        child.once('exit', onExit);
        const plan: LoadPlan = {
          base: base.origin,
          targets: targets.map(({ path, authorization }) => ({ path, authorization })),
          rate,
          seconds,
          drainSeconds: DRAIN_S,
        };
        child.send(plan);
      }).finally(() => {
        child.off('message', onMessage);
        child.off('exit', onExit);
      });
      bar.stop();
      if (result.failureCount) {
        throw new Error(
          `${result.failureCount} of ${result.requests} answers were not 200, the first: ${result.failures[0]}`,
        );
      }
      return result;
    },
    stop() {
      if (exitCode === undefined && child.connected) child.disconnect();
    },
  };
}

/** CPU seconds (user and system) a process has used so far, from /proc (Linux, 100 ticks a second). */
function cpuSecondsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0; // the process has gone
  }
}

/** The PostgreSQL backends serving the benchmark database (the server's pool), to count their CPU. */
async function backendsOf(databaseUrl: string | undefined): Promise<number[]> {
  if (!databaseUrl) return [];
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const result = await client.query(
      'select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()',
    );
    return result.rows.map((row: { pid: number }) => row.pid);
  } finally {
    await client.end();
  }
}

interface Speed {
  rps: number;
  /** The slowest answer at full speed, in ms. */
  maxMs: number;
  /** CPU per answer, in ms: the server process, the PostgreSQL backends, this process (the load). */
  serverCpuMs: number;
  postgresCpuMs: number;
  generatorCpuMs: number;
}

/** Closed loop at full speed (autocannon in this process); answers per second, all of them 2xx. */
async function fullSpeed(
  server: ServerProcess,
  targets: Target[],
  sizes: ApiSizes,
  path: 'billing' | 'hello',
  label: string,
  databaseUrl?: string,
): Promise<Speed> {
  const base = server.url;
  const pid = server.child.pid as number;
  // Backends that the pool opens during the run count whole; those open before, from their count now.
  const backendsBefore = new Map((await backendsOf(databaseUrl)).map((backend) => [backend, cpuSecondsOf(backend)]));
  const cpuBefore = { server: cpuSecondsOf(pid), self: process.cpuUsage() };
  let next = 0;
  const bar = progress(label, sizes.throughputSeconds, ' s');
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: base.origin,
        connections: sizes.connections,
        duration: sizes.throughputSeconds,
        // A slow answer counts as slow (latency.max), not as a failure: only a missing one fails.
        timeout: THROUGHPUT_TIMEOUT_S,
        requests: [
          {
            method: 'GET',
            // The same requests for both servers: another org's path and token each time.
            setupRequest: (request) => {
              const target = targets[next++ % targets.length];
              return {
                ...request,
                path: path === 'billing' ? target.path : '/',
                headers: { ...request.headers, authorization: target.authorization },
              };
            },
          },
        ],
      },
      (error, finished) => (error ? reject(error) : resolve(finished)),
    );
    let elapsed = 0;
    instance.on('tick', () => bar.update(++elapsed));
  });
  bar.stop();
  if (result.non2xx || result.errors || result.timeouts) {
    throw new Error(
      `${label}: ${result.non2xx} answers not 2xx, ${result.errors} errors, ${result.timeouts} timeouts of ${result.requests.total}`,
    );
  }
  const answers = result['2xx'];
  const self = process.cpuUsage(cpuBefore.self);
  const postgresCpu = sum(
    (await backendsOf(databaseUrl)).map((backend) => cpuSecondsOf(backend) - (backendsBefore.get(backend) ?? 0)),
  );
  return {
    rps: answers / result.duration,
    maxMs: result.latency.max,
    serverCpuMs: ((cpuSecondsOf(pid) - cpuBefore.server) * 1000) / answers,
    postgresCpuMs: (postgresCpu * 1000) / answers,
    generatorCpuMs: (self.user + self.system) / 1000 / answers,
  };
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

/** The machine's CPU time so far, all told and stolen by the hypervisor, in ticks (/proc/stat). */
function machineCpuTimes(): { total: number; steal: number } {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1, 9).map(Number);
    return { total: sum(fields), steal: fields[7] ?? 0 };
  } catch {
    return { total: 0, steal: 0 }; // not Linux
  }
}

/** The share of the machine's CPU time the hypervisor took between two readings (0 to 1). */
function stealShare(before: { total: number; steal: number }, after: { total: number; steal: number }): number {
  const total = after.total - before.total;
  return total > 0 ? (after.steal - before.steal) / total : 0;
}

interface ServerCount {
  statements: Map<string, number>;
  gcPausesMs: number[];
  /** The pauses by kind (minor, major, incremental, weakcb), in ms. */
  gcKinds: Record<string, number[]>;
}

/**
 * Starts or stops the server's count of statements by text and of its garbage-collection pauses
 * (bench/query-count.ts, on SIGUSR2) and returns what it wrote: nothing on start, the counts since
 * the start on stop.
 */
async function toggleServerCount(server: ServerProcess, file: string): Promise<ServerCount> {
  rmSync(file, { force: true });
  server.child.kill('SIGUSR2');
  for (let waited = 0; !existsSync(file); waited += 10) {
    if (waited > 5000) throw new Error('the server did not write its statement counts');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const written = JSON.parse(readFileSync(file, 'utf8')) as {
    statements: Record<string, number>;
    gcPausesMs: number[];
    gcKinds: Record<string, number[]>;
  };
  return {
    statements: new Map(Object.entries(written.statements)),
    gcPausesMs: written.gcPausesMs,
    gcKinds: written.gcKinds,
  };
}

/**
 * Statements per request and which ones, over `n` requests one after the other to orgs of a plan:
 * the server's own count of what it sent (the job queue's polling adds a few).
 */
async function statementsPerRequest(server: ServerProcess, file: string, targets: Target[], plan: Target['plan']) {
  const n = 200;
  const chosen = targets.filter((target) => target.plan === plan);
  await toggleServerCount(server, file);
  for (let i = 0; i < n; i++) {
    const target = chosen[i % chosen.length];
    await json(server.url, 'GET', target.path, undefined, 200, { authorization: target.authorization });
  }
  const counted = await toggleServerCount(server, file);
  const perRequest: Array<[string, number]> = [...counted.statements].map(([text, count]) => [
    text.replace(/\s+/g, ' '),
    count / n,
  ]);
  perRequest.sort((a, b) => b[1] - a[1]);
  return { total: sum(perRequest.map(([, count]) => count)), statements: perRequest };
}

/** Statements per request for a free and a Plus org, logged with their texts. */
async function statementsOf(server: ServerProcess, file: string, targets: Target[], label: string) {
  const free = await statementsPerRequest(server, file, targets, 'free');
  const plus = await statementsPerRequest(server, file, targets, 'plus');
  for (const [plan, counted] of [
    ['free', free],
    ['Plus', plus],
  ] as const) {
    console.log(`   statements per request, ${plan} org, ${label}: ${counted.total.toFixed(2)}`);
    for (const [text, count] of counted.statements) console.log(`     ${count.toFixed(2)} × ${text.slice(0, 150)}`);
  }
  return { free: free.total, plus: plus.total };
}

/** The server's read-cache counters (tierline_read_cache_reads_total), from its /metrics. */
async function cacheReads(server: ServerProcess): Promise<{ hits: number; misses: number }> {
  const response = await fetch(new URL('/metrics', server.url));
  const text = await response.text();
  const count = (result: string) =>
    Number(new RegExp(`^tierline_read_cache_reads_total\\{result="${result}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
  return { hits: count('hit'), misses: count('miss') };
}

/** The share of reads the cache served while `phase` ran. */
async function hitRatioOf<T>(server: ServerProcess, phase: () => Promise<T>): Promise<[T, number]> {
  const before = await cacheReads(server);
  const result = await phase();
  const after = await cacheReads(server);
  const hits = after.hits - before.hits;
  const reads = hits + after.misses - before.misses;
  return [result, reads > 0 ? hits / reads : 0];
}

function shuffled<T>(items: T[]): T[] {
  const out = [...items];
  let seed = 42;
  for (let i = out.length - 1; i > 0; i--) {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    const j = seed % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

const round = (value: number, digits: number) => Number(value.toFixed(digits));
const percent = (ratio: number) => `${(ratio * 100).toFixed(1)} % of reads`;
const percentOf = (ratio: number) => `${(ratio * 100).toFixed(1)} %`;

export async function benchApi(env: Record<string, string>, sizes: ApiSizes): Promise<ApiResult> {
  const log = (text: string) => console.log(`   ${text}`);
  const now = new Date();
  const started = performance.now();
  const seeded = await seedInProcess(env, sizes, now);
  const countsFile = join(mkdtempSync(join(os.tmpdir(), 'tierline-bench-queries-')), 'counts.json');
  const server = await startServer({ ...env, TIERLINE_BENCH_QUERY_COUNTS: countsFile }, [
    '--import',
    fileURLToPath(new URL('./query-count.ts', import.meta.url)),
    ...(sizes.profileDir ? ['--cpu-prof', '--cpu-prof-dir', sizes.profileDir] : []),
  ]);
  let hello: ServerProcess | undefined;
  const serverLoad = startLoadGenerator();
  let helloLoad: LoadGenerator | undefined;
  let uncachedServer: ServerProcess | undefined;
  try {
    const signedUp = await signUpThroughApi(server, sizes, now.getTime());
    const seedSeconds = (performance.now() - started) / 1000;
    const targets = shuffled([...seeded, ...signedUp]);
    const withInvoice = await checkOverviews(server.url, targets);
    log(
      `${sizes.orgs} orgs ready in ${seedSeconds.toFixed(1)} s; ${withInvoice} of the Plus orgs show a calculated invoice`,
    );

    // Every org was read once above: these are repeated reads (callers and snapshots in the read cache).
    const repeated = await statementsOf(server, countsFile, targets, 'read again');

    server.resetPeakRss();
    const times = (phase: LoadResult) =>
      `${phase.requests} requests: p50 ${phase.p50.toFixed(2)} ms, p99 ${phase.p99.toFixed(2)} ms, max ${phase.max.toFixed(1)} ms`;
    // At a light rate too: what one request costs when the server is not behind.
    const light = sizes.lightRate
      ? await serverLoad.run(
          server.url,
          targets,
          sizes.lightRate,
          sizes.lightSeconds ?? sizes.seconds,
          `light rate ${sizes.lightRate}/s`,
        )
      : undefined;
    if (light) log(`at ${sizes.lightRate}/s, ${times(light)}`);
    // Right before the timed phase: at the light rate most usage estimates grew older than their
    // limit, and the first second at full rate would otherwise read them all again at once.
    await serverLoad.run(server.url, targets, sizes.rate, sizes.warmUpSeconds, `warm-up at ${sizes.rate}/s`);
    const load = os.loadavg()[0];
    await toggleServerCount(server, countsFile);
    const cpuBeforeTimed = machineCpuTimes();
    const [timed, fixedHitRatio] = await hitRatioOf(server, () =>
      serverLoad.run(server.url, targets, sizes.rate, sizes.seconds, `fixed rate ${sizes.rate}/s`),
    );
    const timedSteal = stealShare(cpuBeforeTimed, machineCpuTimes());
    const underLoad = await toggleServerCount(server, countsFile);
    const gcPauses = underLoad.gcPausesMs;
    const statementsAtRate = sum([...underLoad.statements.values()]) / timed.requests;
    log(`at ${sizes.rate}/s, ${times(timed)} (load ${load.toFixed(2)}; read cache served ${percent(fixedHitRatio)})`);
    log(
      `  server: ${gcPauses.length} garbage-collection pauses, longest ${Math.max(0, ...gcPauses).toFixed(1)} ms, ${sum(gcPauses).toFixed(0)} ms in all; ${statementsAtRate.toFixed(3)} statements per request; CPU stolen by the hypervisor ${percentOf(timedSteal)}`,
    );
    for (const [kind, pauses] of Object.entries(underLoad.gcKinds)) {
      log(
        `    ${kind} collections: ${pauses.length}, longest ${Math.max(...pauses)} ms, ${sum(pauses).toFixed(0)} ms in all`,
      );
    }

    serverLoad.stop();
    hello = await startHelloServer();
    helloLoad = startLoadGenerator();
    // The same fixed rate against the hello-world: the floor this machine and load generator give.
    const helloTargets = targets.map((target) => ({ ...target, path: '/' }));
    await helloLoad.run(
      hello.url,
      helloTargets,
      sizes.rate,
      sizes.warmUpSeconds,
      `hello-world warm-up at ${sizes.rate}/s`,
    );
    const cpuBeforeHello = machineCpuTimes();
    const helloTimed = await helloLoad.run(
      hello.url,
      helloTargets,
      sizes.rate,
      sizes.seconds,
      `hello-world at ${sizes.rate}/s`,
    );
    const helloSteal = stealShare(cpuBeforeHello, machineCpuTimes());
    log(
      `hello-world at ${sizes.rate}/s, ${times(helloTimed)} (send lag p99 ${helloTimed.lagP99.toFixed(2)} ms; CPU stolen ${percentOf(helloSteal)})`,
    );
    const helloBefore = await fullSpeed(hello, targets, sizes, 'hello', 'hello-world at full speed');
    const [billing, fullSpeedHitRatio] = await hitRatioOf(server, () =>
      fullSpeed(server, targets, sizes, 'billing', 'billing route at full speed', env.DATABASE_URL),
    );
    const helloAfter = await fullSpeed(hello, targets, sizes, 'hello', 'hello-world at full speed, again');
    const serverRss = server.peakRssMiB();
    await server.stop();
    // The same route with the read cache off: every request reads the database (the first-read cost).
    uncachedServer = await startServer({ ...env, TIERLINE_READ_CACHE: '0', TIERLINE_BENCH_QUERY_COUNTS: countsFile }, [
      '--import',
      fileURLToPath(new URL('./query-count.ts', import.meta.url)),
    ]);
    // What a read costs when nothing is in memory (an org's first read, or after a change to it).
    const uncachedStatements = await statementsOf(uncachedServer, countsFile, targets, 'read cache off');
    const uncached = await fullSpeed(
      uncachedServer,
      targets,
      sizes,
      'billing',
      'billing route at full speed, read cache off',
      env.DATABASE_URL,
    );
    const billingRps = billing.rps;
    const helloRps = (helloBefore.rps + helloAfter.rps) / 2;
    log(
      `full speed: billing ${Math.round(billingRps)}/s (slowest ${Math.round(billing.maxMs)} ms; read cache served ${percent(fullSpeedHitRatio)}), hello-world ${Math.round(helloBefore.rps)}/s and ${Math.round(helloAfter.rps)}/s; read cache off ${Math.round(uncached.rps)}/s`,
    );
    const cpu = (speed: Speed) =>
      `server ${speed.serverCpuMs.toFixed(3)}, PostgreSQL ${speed.postgresCpuMs.toFixed(3)}, load generator ${speed.generatorCpuMs.toFixed(3)}`;
    log(`CPU ms per answer: billing ${cpu(billing)}; hello-world ${cpu(helloBefore)}; read cache off ${cpu(uncached)}`);
    const helloRss = hello.peakRssMiB();
    return {
      api_orgs: sizes.orgs,
      api_token_orgs: targets.length,
      api_plus_token_orgs: targets.filter((target) => target.plan === 'plus').length,
      api_signup_orgs: signedUp.length,
      api_orgs_showing_invoice: withInvoice,
      api_rate_per_s: sizes.rate,
      api_fixed_rate_s: sizes.seconds,
      api_fixed_rate_requests: timed.requests,
      api_billing_p50_ms: round(timed.p50, 2),
      api_billing_p99_ms: round(timed.p99, 2),
      api_billing_max_ms: round(timed.max, 1),
      api_send_lag_p99_ms: round(timed.lagP99, 2),
      api_hello_p50_ms: round(helloTimed.p50, 2),
      api_hello_p99_ms: round(helloTimed.p99, 2),
      api_hello_send_lag_p99_ms: round(helloTimed.lagP99, 2),
      api_server_gc_pauses: gcPauses.length,
      api_server_gc_pause_max_ms: round(Math.max(0, ...gcPauses), 1),
      api_server_gc_pause_total_ms: Math.round(sum(gcPauses)),
      api_statements_per_request_at_rate: round(statementsAtRate, 3),
      api_cpu_steal_pct: round(timedSteal * 100, 1),
      api_hello_cpu_steal_pct: round(helloSteal * 100, 1),
      ...(light
        ? {
            api_light_rate_per_s: sizes.lightRate,
            api_billing_light_p50_ms: round(light.p50, 2),
            api_billing_light_p99_ms: round(light.p99, 2),
          }
        : {}),
      api_read_cache_hit_ratio: round(fixedHitRatio, 3),
      api_billing_rps: Math.round(billingRps),
      api_full_speed_read_cache_hit_ratio: round(fullSpeedHitRatio, 3),
      api_billing_uncached_rps: Math.round(uncached.rps),
      api_billing_uncached_vs_hello: round(uncached.rps / helloRps, 3),
      api_billing_uncached_server_cpu_ms: round(uncached.serverCpuMs, 3),
      ...(env.DATABASE_URL ? { api_billing_uncached_postgres_cpu_ms: round(uncached.postgresCpuMs, 3) } : {}),
      api_billing_full_speed_max_ms: Math.round(billing.maxMs),
      api_hello_rps: Math.round(helloRps),
      api_billing_vs_hello: round(billingRps / helloRps, 3),
      api_billing_server_cpu_ms: round(billing.serverCpuMs, 3),
      ...(env.DATABASE_URL ? { api_billing_postgres_cpu_ms: round(billing.postgresCpuMs, 3) } : {}),
      api_billing_generator_cpu_ms: round(billing.generatorCpuMs, 3),
      api_hello_server_cpu_ms: round((helloBefore.serverCpuMs + helloAfter.serverCpuMs) / 2, 3),
      api_hello_generator_cpu_ms: round((helloBefore.generatorCpuMs + helloAfter.generatorCpuMs) / 2, 3),
      api_throughput_connections: sizes.connections,
      api_throughput_s: sizes.throughputSeconds,
      api_statements_per_free_request: round(uncachedStatements.free, 2),
      api_statements_per_plus_request: round(uncachedStatements.plus, 2),
      api_statements_per_repeated_free_request: round(repeated.free, 2),
      api_statements_per_repeated_plus_request: round(repeated.plus, 2),
      api_server_peak_rss_mib: serverRss,
      api_hello_server_peak_rss_mib: helloRss,
      api_load_1m: round(load, 2),
      api_seed_s: round(seedSeconds, 1),
      ...(sizes.note ? { api_note: sizes.note } : {}),
    };
  } finally {
    serverLoad.stop();
    helloLoad?.stop();
    await hello?.stop();
    await server.stop();
    await uncachedServer?.stop();
    rmSync(dirname(countsFile), { recursive: true, force: true });
  }
}
