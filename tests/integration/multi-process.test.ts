import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { realNow } from '../../src/kernel/clock.ts';
import { verifySignature } from '../../src/modules/webhooks/index.ts';
import { cardBody } from '../helpers/billing.ts';
import {
  baseEnv,
  cleanUpProcesses,
  freshDatabaseUrl,
  type Server,
  startServer,
  waitForUrl,
} from '../helpers/server-process.ts';

// Two API processes and two worker processes on one PostgreSQL server, on the real clock, through a
// billing run and an inactivity sweep that fell due while nothing was running: every effect once.
// The embedded database belongs to one process, so this runs on PostgreSQL only.

const onServer = Boolean(process.env.DATABASE_URL);
const PLUS_ORGS = 24;
const FREE_ORGS = 36;
const DAY = 86_400_000;

afterAll(async () => {
  await cleanUpProcesses();
});

async function call(base: URL, method: string, path: string, options: { body?: unknown; cookie?: string } = {}) {
  const response = await fetch(new URL(path, base), {
    method,
    headers: {
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(options.cookie ? { cookie: options.cookie } : {}),
      origin: base.origin,
    },
    body: options.body !== undefined ? JSON.stringify(options.body) : undefined,
  });
  const text = await response.text();
  const cookie = response.headers.getSetCookie().find((value) => value.startsWith('tierline_session='));
  return {
    status: response.status,
    body: text ? JSON.parse(text) : undefined,
    cookie: cookie?.split(';')[0],
  };
}

async function stopCleanly(server: Server) {
  server.child.kill('SIGTERM');
  return server.exited;
}

describe.runIf(onServer)('two API processes and two workers on one PostgreSQL', () => {
  it('catch up a billing run and a sweep with every effect exactly once', async () => {
    const databaseUrl = (await freshDatabaseUrl()) as string;
    const env = { ...baseEnv(), DATABASE_URL: databaseUrl, PORT: '0', TIERLINE_LOG_LEVEL: 'info' };
    // 1. History: forty days ago, on a test clock, orgs signed up, some upgraded to Plus and sent
    // traffic. Nothing ran since, so their first invoices and the free orgs' deactivations are due.
    const start = new Date(realNow().getTime() - 40 * DAY);
    const seeder = startServer({
      ...env,
      TIERLINE_TEST_CLOCK: '1',
      TIERLINE_TEST_CLOCK_START: start.toISOString(),
      TIERLINE_ADMIN_EMAIL: 'ops@multi.test',
      TIERLINE_ADMIN_PASSWORD: 'ops-password-1',
    });
    const seedUrl = await waitForUrl(seeder);
    // An operator's webhook receiver: every event of the billing run and the sweep, signed.
    const received: Array<{ id: string; type: string; org_id: string; verified: boolean }> = [];
    let secret = '';
    const receiver = createServer((request, response) => {
      let body = '';
      request.setEncoding('utf8').on('data', (chunk: string) => {
        body += chunk;
      });
      request.on('end', () => {
        const event = JSON.parse(body);
        const verified = verifySignature(String(request.headers['tierline-signature']), body, secret);
        received.push({ id: event.id, type: event.type, org_id: event.org_id, verified });
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const staff = await call(seedUrl, 'POST', '/v1/auth/login', {
      body: { email: 'ops@multi.test', password: 'ops-password-1' },
    });
    const endpoint = await call(seedUrl, 'POST', '/v1/admin/webhook-endpoints', {
      cookie: staff.cookie,
      body: {
        url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/tierline`,
        events: ['invoice.created', 'invoice.paid', 'org.deactivated'],
      },
    });
    expect(endpoint.status).toBe(201);
    secret = endpoint.body.secret;
    const plus: Array<{ orgId: string; email: string; cookie: string; requests: number }> = [];
    const free: string[] = [];
    for (let index = 0; index < PLUS_ORGS + FREE_ORGS; index++) {
      if (index % 10 === 9) {
        // Spread the orgs over several instants, so the work falls due in several batches.
        const clock = await call(seedUrl, 'GET', '/v1/test-clock');
        const to = new Date(Date.parse(clock.body.now) + 3_600_000).toISOString();
        expect((await call(seedUrl, 'POST', '/v1/test-clock/advance', { body: { to } })).status).toBe(200);
      }
      const signup = await call(seedUrl, 'POST', '/v1/signup', {
        body: {
          email: `owner-${index}@multi.test`,
          password: 'a-long-password-1',
          full_name: `Owner ${index}`,
          org_name: `Org ${index}`,
        },
      });
      expect(signup.status).toBe(201);
      const orgId = signup.body.org.id as string;
      const cookie = signup.cookie as string;
      if (index >= PLUS_ORGS) {
        free.push(orgId);
        continue;
      }
      const card = await call(seedUrl, 'POST', `/v1/orgs/${orgId}/payment-methods`, { cookie, body: cardBody() });
      expect(card.status).toBe(201);
      const upgraded = await call(seedUrl, 'POST', `/v1/orgs/${orgId}/subscription`, {
        cookie,
        body: { plan: 'plus', payment_method_id: card.body.id },
      });
      expect(upgraded.status).toBe(200);
      const runtime = await call(seedUrl, 'POST', `/v1/orgs/${orgId}/runtimes`, { cookie, body: { name: 'edge' } });
      expect(runtime.status).toBe(201);
      const now = (await call(seedUrl, 'GET', '/v1/test-clock')).body.now as string;
      // Half the Plus orgs go over the included million requests: their invoices carry overage.
      const requests = index % 2 === 0 ? 1_500_000 : 1000;
      const report = await fetch(new URL('/v1/runtime/usage', seedUrl), {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${runtime.body.token}` },
        body: JSON.stringify({ report_id: `seed-${index}`, usage: [{ timestamp: now, requests }] }),
      });
      expect(report.status).toBe(200);
      plus.push({ orgId, email: `owner-${index}@multi.test`, cookie: '', requests });
    }
    expect((await stopCleanly(seeder)).code).toBe(0);

    // 2. Now, on the real clock: two API processes and two workers, all started together.
    const liveEnv = { ...env, TIERLINE_WORKER_INTERVAL_MS: '500' };
    const apis = [startServer(liveEnv, ['src/cli.ts', 'serve']), startServer(liveEnv, ['src/cli.ts', 'serve'])];
    const workers = [startServer(liveEnv, ['src/cli.ts', 'worker']), startServer(liveEnv, ['src/cli.ts', 'worker'])];
    const urls = await Promise.all(apis.map((api) => waitForUrl(api)));
    const database = new pg.Client({ connectionString: databaseUrl });
    await database.connect();
    try {
      // While the workers catch up, people log in (their sessions of forty days ago have ended) and
      // use both API processes.
      for (const [index, person] of plus.entries()) {
        const login = await call(urls[index % 2], 'POST', '/v1/auth/login', {
          body: { email: person.email, password: 'a-long-password-1', org_id: person.orgId },
        });
        expect(login.status).toBe(200);
        person.cookie = login.cookie as string;
      }
      const deadline = Date.now() + 120_000;
      let round = 0;
      for (;;) {
        const { rows } = await database.query(
          `select count(*)::int as due from due_items where status = 'pending' and due_at <= now()`,
        );
        if (rows[0].due === 0) break;
        if (Date.now() > deadline) {
          throw new Error(
            `work still due after two minutes\n--- worker 1\n${workers[0].stdout()}\n${workers[0].stderr()}`,
          );
        }
        const person = plus[round % plus.length];
        const answer = await call(urls[round % 2], 'GET', `/v1/orgs/${person.orgId}/billing`, {
          cookie: person.cookie,
        });
        expect(answer.status).toBe(200);
        round++;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }

      // Billing: one first invoice per Plus org, paid once, for its fee and its overage.
      const invoices = await database.query(
        `select org_id, status, total::text as total, (select count(*)::int from payment_attempts a
           where a.invoice_id = i.id and a.status = 'succeeded') as paid_attempts
         from invoices i where kind = 'cycle' order by org_id`,
      );
      expect(invoices.rows.length).toBe(PLUS_ORGS);
      for (const person of plus) {
        const rows = invoices.rows.filter((row) => row.org_id === person.orgId);
        expect(rows).toHaveLength(1);
        expect(rows[0].status).toBe('paid');
        expect(rows[0].paid_attempts).toBe(1);
        // USD 100 fee, plus USD 20 per million over the first million: 500,000 over is USD 10.
        expect(rows[0].total).toBe(person.requests > 1_000_000 ? '11000' : '10000');
      }
      const charges = await database.query(
        `select count(*)::int as charges, count(distinct idempotency_key)::int as keys from test_provider_charges where status = 'succeeded'`,
      );
      expect(charges.rows[0]).toEqual({ charges: PLUS_ORGS, keys: PLUS_ORGS });
      const upcoming = await database.query(
        `select count(*)::int as emails from outbox_emails where kind = 'invoice_upcoming'`,
      );
      expect(upcoming.rows[0].emails).toBe(PLUS_ORGS);

      // The sweep: every free org deactivated once, warned once at each warning, its email locked once.
      const orgs = await database.query(
        `select id, status, deactivation_reason from orgs where id = any($1::text[]) order by id`,
        [free],
      );
      expect(orgs.rows.map((row) => [row.status, row.deactivation_reason])).toEqual(
        free.map(() => ['deactivated', 'inactivity']),
      );
      const once = async (query: string) => {
        const { rows } = await database.query(query, [free]);
        const counts = new Map(rows.map((row) => [row.org_id as string, row.count as number]));
        for (const orgId of free) expect(counts.get(orgId) ?? 0, `${query} for ${orgId}`).toBe(1);
      };
      await once(
        `select org_id, count(*)::int as count from audit_events where action = 'org.deactivated' and org_id = any($1::text[]) group by org_id`,
      );
      for (const kind of ['org_deactivated', 'inactivity_warning_7d', 'inactivity_warning_1d']) {
        await once(
          `select org_id, count(*)::int as count from outbox_emails where kind = '${kind}' and org_id = any($1::text[]) group by org_id`,
        );
      }
      await once(
        `select org_id, count(*)::int as count from email_locks where org_id = any($1::text[]) group by org_id`,
      );
      // The Plus orgs are exempt and stay active.
      const active = await database.query(`select count(*)::int as count from orgs where status = 'active'`);
      expect(active.rows[0].count).toBe(PLUS_ORGS);
      const failed = await database.query(`select count(*)::int as count from due_items where status = 'failed'`);
      expect(failed.rows[0].count).toBe(0);

      // The webhooks: each event delivered once, signed, whichever worker sent it.
      const expected = PLUS_ORGS * 2 + FREE_ORGS;
      const webhookDeadline = Date.now() + 60_000;
      while (received.length < expected && Date.now() < webhookDeadline) {
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(new Set(received.map((event) => event.id)).size).toBe(received.length);
      expect(received.every((event) => event.verified)).toBe(true);
      const types = (type: string) => received.filter((event) => event.type === type).map((event) => event.org_id);
      expect(types('invoice.created').sort()).toEqual(plus.map((person) => person.orgId).sort());
      expect(types('invoice.paid').sort()).toEqual(plus.map((person) => person.orgId).sort());
      expect(types('org.deactivated').sort()).toEqual([...free].sort());

      // Both workers took part, and every process stops cleanly on SIGTERM.
      const itemsBy = workers.map((worker) =>
        [...worker.stdout().matchAll(/"processed":(\d+)/g)].reduce((sum, match) => sum + Number(match[1]), 0),
      );
      console.log(`due items done by each worker: ${itemsBy.join(' and ')}`);
      expect(itemsBy[0] + itemsBy[1]).toBeGreaterThan(0);
    } finally {
      await database.end();
      receiver.close();
    }
    const exits = await Promise.all([...apis, ...workers].map(stopCleanly));
    for (const exit of exits) expect(exit.code).toBe(0);
  });
});
