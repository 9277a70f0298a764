import { sql } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { billingOverviewJson } from '../../src/modules/billing/billing-overview.ts';
import { createTierline, type Tierline } from '../../src/tierline.ts';
import { billingHelpers, expectStatus, type Person } from '../helpers/billing.ts';
import { createTestInstance, joinOrg, logInAdmin, signUpOwner, type TestInstance } from '../helpers/instance.ts';

// Callers and billing snapshots are kept in memory until their org changes (src/db/read-cache.ts).
// What a user checks: repeated reads are served without the database, and no change is missed.

let t: TestInstance;
let staff: string;

beforeAll(async () => {
  t = await createTestInstance();
  staff = await logInAdmin(t);
});

afterAll(async () => {
  await t.close();
});

async function personalToken(instance: { call: TestInstance['call'] }, cookie: string) {
  const created = await instance.call('POST', '/v1/me/tokens', { cookie, body: { name: 'reader' } });
  expectStatus(created, 201);
  return created.body.token as string;
}

/** How many reads the cache served and missed while `act` ran. */
async function counted(instance: Tierline, act: () => Promise<void>) {
  const cache = instance.deps.readCache;
  const before = { hits: cache.hits, misses: cache.misses };
  await act();
  return { hits: cache.hits - before.hits, misses: cache.misses - before.misses };
}

async function withToken(person: Person): Promise<Person & { token: string }> {
  return { ...person, token: await personalToken(t, person.cookie) };
}

describe('the read cache, in one process', () => {
  it('answers a repeated billing read with a token from memory', async () => {
    const owner = await withToken(await signUpOwner(t));
    const first = await t.call('GET', `/v1/orgs/${owner.orgId}/billing`, { token: owner.token });
    expectStatus(first, 200);
    const again = await counted(t, async () => {
      const second = await t.call('GET', `/v1/orgs/${owner.orgId}/billing`, { token: owner.token });
      expect(second.body).toEqual(first.body);
    });
    // The caller and the billing snapshot, both from memory.
    expect(again).toEqual({ hits: 2, misses: 0 });
  });

  it('refuses a revoked token at once', async () => {
    const owner = await withToken(await signUpOwner(t));
    expectStatus(await t.call('GET', `/v1/orgs/${owner.orgId}/billing`, { token: owner.token }), 200);
    const tokens = await t.call('GET', '/v1/me/tokens', { cookie: owner.cookie });
    const revoked = await t.call('DELETE', `/v1/me/tokens/${tokens.body.data[0].id}`, { cookie: owner.cookie });
    expect(revoked.status).toBeLessThan(300);
    const after = await t.call('GET', `/v1/orgs/${owner.orgId}/billing`, { token: owner.token });
    expect(after.status).toBe(401);
  });

  it('applies a role change and a deactivation at once', async () => {
    const owner = await signUpOwner(t);
    const reader = await joinOrg(t, owner, ['org_admin_read_only'], staff);
    const token = await personalToken(t, reader.cookie);
    expectStatus(await t.call('GET', `/v1/orgs/${owner.orgId}/billing`, { token }), 200);
    const changed = await t.call('PUT', `/v1/orgs/${owner.orgId}/members/${reader.userId}/roles`, {
      cookie: owner.cookie,
      body: { roles: ['member'] },
    });
    expectStatus(changed, 200);
    const asMember = await t.call('GET', `/v1/orgs/${owner.orgId}/audit-events`, { token });
    expect(asMember.status).toBe(403);
    const deactivated = await t.call('POST', `/v1/admin/orgs/${owner.orgId}/deactivate`, {
      cookie: staff,
      body: { reason: 'support_request' },
    });
    expectStatus(deactivated, 200);
    const after = await t.call('GET', `/v1/orgs/${owner.orgId}/billing`, { token });
    expect(after.status).toBe(403);
    expect(after.body.error.code).toBe('org_deactivated');
  });

  it('shows an upgrade, a new payment method and reported usage at once', async () => {
    const billing = billingHelpers(t);
    const owner = await withToken(await signUpOwner(t));
    const read = () => t.call('GET', `/v1/orgs/${owner.orgId}/billing`, { token: owner.token });
    expect((await read()).body).toMatchObject({ plan: 'free', subscription: null, payment_method: null });
    await billing.subscribePlus(owner);
    const plus = (await read()).body;
    expect(plus).toMatchObject({ plan: 'plus', subscription: { status: 'active' } });
    expect(plus.payment_method.last4).toBe('4242');
    const usage = plus.upcoming.estimate.lines.find((line: any) => line.kind === 'usage');
    expect(usage?.quantity ?? 0).toBe(0);
    const runtime = await billing.runtime(owner);
    const now = await billing.now();
    const reported = await t.call('POST', '/v1/runtime/usage', {
      token: runtime.token,
      body: { report_id: 'cache-1', usage: [{ timestamp: now, requests: 1_500_000 }] },
    });
    expectStatus(reported, 200);
    const estimate = (await read()).body.upcoming.estimate;
    expect(estimate.lines.find((line: any) => line.kind === 'usage')).toMatchObject({ quantity: 1_500_000 });
    expect(estimate.total).toBe(10_000 + 1_000);
  });

  it('composes the answer again once the clock passes a calculation instant, with nothing changed', async () => {
    const billing = billingHelpers(t);
    const owner = await signUpOwner(t);
    const { subscription } = await billing.subscribePlus(owner);
    const cache = t.deps.readCache;
    const at = (instant: string) =>
      billingOverviewJson(t.deps.db, owner.orgId, new Date(instant), cache).then((json) => JSON.parse(json.toString()));
    const calculation = subscription.next_calculation_at as string;
    const before = await at(new Date(Date.parse(calculation) - 1).toISOString());
    expect(before.upcoming.calculation_at).toBe(calculation);
    const reads = await counted(t, async () => {
      expect((await at(calculation)).upcoming.calculation_at).not.toBe(calculation);
    });
    expect(reads.misses).toBeGreaterThan(0);
    // And back within the first window, from memory again once composed for it.
    await at(subscription.started_at);
    const again = await counted(t, async () => {
      expect((await at(subscription.started_at)).upcoming.calculation_at).toBe(calculation);
    });
    expect(again).toEqual({ hits: 1, misses: 0 });
  });

  it('sees a change made outside any request, as another process would make it', async () => {
    const owner = await signUpOwner(t);
    const reader = await joinOrg(t, owner, ['org_admin_read_only'], staff);
    const token = await personalToken(t, reader.cookie);
    expectStatus(await t.call('GET', `/v1/orgs/${owner.orgId}/billing`, { token }), 200);
    await t.deps.db.execute(sql`delete from member_roles where org_id = ${owner.orgId} and user_id = ${reader.userId}`);
    await t.deps.readCache.sync();
    const after = await t.call('GET', `/v1/orgs/${owner.orgId}/billing`, { token });
    expect(after.status).toBe(403);
    expect(after.body.error.code).toBe('not_a_member');
  });

  it('is off with TIERLINE_READ_CACHE=0: every read goes to the database', async () => {
    const off = await createTestInstance({ env: { TIERLINE_READ_CACHE: '0' } });
    try {
      const owner = await signUpOwner(off);
      const token = await personalToken(off, owner.cookie);
      const reads = await counted(off, async () => {
        for (let i = 0; i < 3; i++)
          expectStatus(await off.call('GET', `/v1/orgs/${owner.orgId}/billing`, { token }), 200);
      });
      expect(reads.hits).toBe(0);
      expect(reads.misses).toBeGreaterThanOrEqual(6);
    } finally {
      await off.close();
    }
  });
});

// Two processes on one PostgreSQL server: what one changes, the other stops serving from memory.
describe.skipIf(!process.env.DATABASE_URL)('the read cache across processes', () => {
  let other: Tierline;
  let callOther: TestInstance['call'];

  beforeAll(async () => {
    other = await createTierline(
      loadConfig({
        DATABASE_URL: t.deps.config.databaseUrl as string,
        TIERLINE_TEST_CLOCK: '1',
        TIERLINE_DATA_DIR: 'memory://',
      }),
    );
    callOther = async (method, url, options = {}) => {
      const response = await other.app.inject({
        method: method as 'GET',
        url,
        headers: options.token ? { authorization: `Bearer ${options.token}` } : {},
      });
      return { status: response.statusCode, body: response.json(), headers: response.headers };
    };
  });

  afterAll(async () => {
    await other.close();
  });

  /** Polls the other process until the answer passes, for up to `ms`. */
  async function eventually(check: () => Promise<boolean>, ms = 1_000) {
    const until = Date.now() + ms;
    while (!(await check())) {
      if (Date.now() > until) return false;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return true;
  }

  it('stops serving a revoked token, a downgrade and a deactivation made by the other process', async () => {
    const billing = billingHelpers(t);
    const owner = await withToken(await signUpOwner(t));
    await billing.subscribePlus(owner);
    const path = `/v1/orgs/${owner.orgId}/billing`;
    expect((await callOther('GET', path, { token: owner.token })).body.plan).toBe('plus');
    const cached = await counted(other, async () => {
      expect((await callOther('GET', path, { token: owner.token })).body.plan).toBe('plus');
    });
    expect(cached.misses).toBe(0);

    expectStatus(await t.call('DELETE', `/v1/orgs/${owner.orgId}/subscription`, { cookie: owner.cookie }), 200);
    expect(
      await eventually(async () => (await callOther('GET', path, { token: owner.token })).body.plan === 'free'),
    ).toBe(true);

    const created = await t.call('POST', '/v1/me/tokens', { cookie: owner.cookie, body: { name: 'second' } });
    expectStatus(created, 201);
    const second = created.body.token as string;
    expectStatus(await callOther('GET', path, { token: second }), 200);
    const revoked = await t.call('DELETE', `/v1/me/tokens/${created.body.id}`, { cookie: owner.cookie });
    expect(revoked.status).toBeLessThan(300);
    expect(
      await eventually(async () => {
        const [kept, gone] = await Promise.all([
          callOther('GET', path, { token: owner.token }),
          callOther('GET', path, { token: second }),
        ]);
        return kept.status === 200 && gone.status === 401;
      }),
    ).toBe(true);

    const deactivated = await t.call('POST', `/v1/admin/orgs/${owner.orgId}/deactivate`, {
      cookie: staff,
      body: { reason: 'support_request' },
    });
    expectStatus(deactivated, 200);
    expect(await eventually(async () => (await callOther('GET', path, { token: owner.token })).status === 403)).toBe(
      true,
    );
  });

  it('shows usage reported through the other process in the estimate within its notice interval, not the age limit', async () => {
    const billing = billingHelpers(t);
    const owner = await withToken(await signUpOwner(t));
    await billing.subscribePlus(owner);
    const path = `/v1/orgs/${owner.orgId}/billing`;
    const usageLine = async () => {
      const answer = await callOther('GET', path, { token: owner.token });
      return answer.body.upcoming.estimate.lines.find((line: any) => line.kind === 'usage')?.quantity ?? 0;
    };
    expect(await usageLine()).toBe(0);
    expect(await usageLine()).toBe(0); // kept: the age limit is a minute away
    const runtime = await billing.runtime(owner);
    const reported = await t.call('POST', '/v1/runtime/usage', {
      token: runtime.token,
      body: { report_id: 'other-process-1', usage: [{ timestamp: await billing.now(), requests: 1_500_000 }] },
    });
    expectStatus(reported, 200);
    // The notice goes out within half a second (USAGE_NOTICE_INTERVAL_MS); the age limit is a minute.
    expect(await eventually(async () => (await usageLine()) === 1_500_000, 2_000)).toBe(true);
  });

  it('keeps nothing while its listening connection is down, and caches again once it is back', async () => {
    const owner = await withToken(await signUpOwner(t));
    const path = `/v1/orgs/${owner.orgId}/billing`;
    expectStatus(await callOther('GET', path, { token: owner.token }), 200);
    const admin = new pg.Client({ connectionString: t.deps.config.databaseUrl });
    await admin.connect();
    try {
      // Ends every connection listening for change notices on this database (both processes').
      await admin.query(
        `select pg_terminate_backend(pid) from pg_stat_activity
         where datname = current_database() and query ilike 'listen tierline_org_changed%'`,
      );
      expect(
        await eventually(
          async () =>
            (
              await counted(other, async () => {
                await callOther('GET', path, { token: owner.token });
              })
            ).misses > 0,
        ),
      ).toBe(true);
      // Meanwhile a change is made: nothing stale may be served.
      await admin.query(`update orgs set name = 'Renamed', plan = 'plus' where id = $1`, [owner.orgId]);
      expect((await callOther('GET', path, { token: owner.token })).body.plan).toBe('plus');
      // The listener comes back within seconds; then repeated reads are served from memory again.
      const back = Date.now() + 5_000;
      let reads = { hits: 0, misses: 1 };
      while (Date.now() < back && reads.hits === 0) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        await callOther('GET', path, { token: owner.token });
        reads = await counted(other, async () => {
          await callOther('GET', path, { token: owner.token });
        });
      }
      expect(reads).toEqual({ hits: 2, misses: 0 });
    } finally {
      await admin.end();
    }
  });
});
