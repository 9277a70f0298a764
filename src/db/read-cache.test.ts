import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DatabaseHandle, openDatabase } from './client.ts';
import { ORG_CHANGES_CHANNEL, OrgReadCache, USAGE_NOTICE_INTERVAL_MS } from './read-cache.ts';

// A real database (embedded, or the server DATABASE_URL names): the notices travel through
// PostgreSQL's NOTIFY as they do in production.
let database: DatabaseHandle;

beforeAll(async () => {
  database = await openDatabase({ url: process.env.DATABASE_URL, dataDir: 'memory://' });
});

afterAll(async () => {
  await database.close();
});

/** Sends a change notice as the triggers do, and waits until the cache has received it. */
async function notice(cache: OrgReadCache, payload: string) {
  await database.db.execute(sql`select pg_notify(${ORG_CHANGES_CHANNEL}, ${payload})`);
  await cache.sync();
}

function counting<T>(value: T) {
  let loads = 0;
  return {
    load: async () => {
      loads++;
      return value;
    },
    get loads() {
      return loads;
    },
  };
}

async function startedCache(options: { monotonicMs?: () => number } = {}) {
  const cache = new OrgReadCache(database, { enabled: true, ...options });
  await cache.start();
  return cache;
}

describe('OrgReadCache', () => {
  it('serves a second read from memory until a notice names the org', async () => {
    const cache = await startedCache();
    const source = counting({ plan: 'free' });
    await cache.read('billing:org_a', 'org_a', source.load);
    await cache.read('billing:org_a', 'org_a', source.load);
    expect(source.loads).toBe(1);
    await notice(cache, 'org_b,org_c');
    await cache.read('billing:org_a', 'org_a', source.load);
    expect(source.loads).toBe(1);
    await notice(cache, 'org_b,org_a');
    await cache.read('billing:org_a', 'org_a', source.load);
    expect(source.loads).toBe(2);
    expect({ hits: cache.hits, misses: cache.misses }).toEqual({ hits: 2, misses: 2 });
    await cache.close();
  });

  it('forgets everything on a "*" notice', async () => {
    const cache = await startedCache();
    const a = counting(1);
    const b = counting(2);
    await cache.read('x:a', 'org_a', a.load);
    await cache.read('x:b', 'org_b', b.load);
    await notice(cache, '*');
    await cache.read('x:a', 'org_a', a.load);
    await cache.read('x:b', 'org_b', b.load);
    expect([a.loads, b.loads]).toEqual([2, 2]);
    await cache.close();
  });

  it('does not keep a value read while a change to its org was announced', async () => {
    const cache = await startedCache();
    let loads = 0;
    const racing = async () => {
      loads++;
      // The change commits (and its notice arrives) after this read took its snapshot.
      if (loads === 1) await notice(cache, 'org_a');
      return `value ${loads}`;
    };
    expect(await cache.read('k', 'org_a', racing)).toBe('value 1');
    expect(await cache.read('k', 'org_a', racing)).toBe('value 2');
    expect(await cache.read('k', 'org_a', racing)).toBe('value 2');
    expect(loads).toBe(2);
    await cache.close();
  });

  it('finds the org in the loaded value, and keeps nothing when there is none', async () => {
    const cache = await startedCache();
    const found = counting<{ orgId: string } | undefined>({ orgId: 'org_t' });
    const missing = counting<{ orgId: string } | undefined>(undefined);
    for (let i = 0; i < 2; i++) {
      await cache.read('token:known', (row) => row?.orgId, found.load);
      await cache.read('token:unknown', (row) => row?.orgId, missing.load);
    }
    expect([found.loads, missing.loads]).toEqual([1, 2]);
    await notice(cache, 'org_t');
    await cache.read('token:known', (row) => row?.orgId, found.load);
    expect(found.loads).toBe(2);
    await cache.close();
  });

  it('serves usage-dependent reads only while young enough, and forgets them on local usage', async () => {
    let now = 0;
    const cache = await startedCache({ monotonicMs: () => now });
    const usage = counting(120n);
    const plan = counting('plus');
    const readUsage = () => cache.read('unbilled:a', 'org_a', usage.load, { usage: true, maxAgeMs: 5_000 });
    await readUsage();
    await cache.read('billing:a', 'org_a', plan.load);
    now = 3_999;
    await readUsage();
    expect(usage.loads).toBe(1);
    now = 5_000;
    await readUsage();
    expect(usage.loads).toBe(2);
    cache.usageAccepted('org_a');
    await readUsage();
    await cache.read('billing:a', 'org_a', plan.load);
    expect([usage.loads, plan.loads]).toEqual([3, 1]);
    await cache.close();
  });

  it("forgets another process's entries for the orgs whose usage it accepted, within the notice interval", async () => {
    const accepting = await startedCache();
    const reading = await startedCache();
    const usageOf = (cache: OrgReadCache, orgId: string, source: ReturnType<typeof counting<bigint>>) =>
      cache.read(`unbilled:${orgId}`, orgId, source.load, { usage: true, maxAgeMs: 60_000 });
    const [c, d, plan] = [counting(1n), counting(2n), counting('plus')];
    await usageOf(reading, 'org_c', c);
    await usageOf(reading, 'org_d', d);
    await reading.read('billing:org_c', 'org_c', plan.load);
    // The accepting process forgets at once and keeps its own later read: its notice is not for it.
    const own = counting(3n);
    await usageOf(accepting, 'org_c', own);
    accepting.usageAccepted('org_c');
    await usageOf(accepting, 'org_c', own);
    const sentAt = performance.now();
    for (;;) {
      await usageOf(reading, 'org_c', c);
      if (c.loads === 2 || performance.now() - sentAt > 5_000) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(c.loads).toBe(2);
    expect(performance.now() - sentAt).toBeLessThan(USAGE_NOTICE_INTERVAL_MS + 1_000);
    await accepting.sync();
    await reading.sync();
    await usageOf(reading, 'org_d', d);
    await reading.read('billing:org_c', 'org_c', plan.load);
    await usageOf(accepting, 'org_c', own);
    // Only org_c's usage: org_d's estimate, org_c's plan and the accepting process's own read stay.
    expect([c.loads, d.loads, plan.loads, own.loads]).toEqual([2, 1, 1, 2]);
    await accepting.close();
    await reading.close();
  });

  it('announces "*" past 200 orgs in one interval, and what was accepted just before it closes', async () => {
    const accepting = await startedCache();
    const reading = await startedCache();
    const sources = Array.from({ length: 3 }, () => counting(1n));
    const read = (index: number) =>
      reading.read(`unbilled:${index}`, `org_${index}`, sources[index].load, { usage: true, maxAgeMs: 60_000 });
    for (const index of [0, 1, 2]) await read(index);
    // 201 other orgs: every usage-dependent entry goes, whichever org it is about.
    for (let i = 0; i < 201; i++) accepting.usageAccepted(`org_many_${i}`);
    await accepting.close(); // sends what it gathered before it stops
    await reading.sync();
    for (const index of [0, 1, 2]) await read(index);
    expect(sources.map((source) => source.loads)).toEqual([2, 2, 2]);
    await reading.close();
  });

  it('reads an entry near its age limit again in the background, serving the old value meanwhile', async () => {
    let now = 0;
    const cache = await startedCache({ monotonicMs: () => now });
    let value = 1;
    let loads = 0;
    let release = () => {};
    const load = async () => {
      loads++;
      if (loads > 1) await new Promise<void>((resolve) => (release = resolve));
      return value;
    };
    const read = () => cache.read('unbilled:b', 'org_b', load, { usage: true, maxAgeMs: 5_000 });
    expect(await read()).toBe(1);
    value = 2;
    now = 3_999;
    expect(await read()).toBe(1);
    expect(loads).toBe(1);
    now = 4_000;
    expect(await read()).toBe(1); // served from memory; a refresh started
    expect(await read()).toBe(1); // one refresh at a time, the old value meanwhile
    expect(loads).toBe(2);
    release();
    await cache.sync();
    expect(await read()).toBe(2);
    expect({ hits: cache.hits, misses: cache.misses, refreshes: cache.refreshes }).toEqual({
      hits: 4,
      misses: 1,
      refreshes: 1,
    });
    await cache.close();
  });

  it('keeps nothing when disabled or before it listens', async () => {
    const disabled = new OrgReadCache(database, { enabled: false });
    await disabled.start();
    const notStarted = new OrgReadCache(database, { enabled: true });
    for (const cache of [disabled, notStarted]) {
      const source = counting(1);
      await cache.read('k', 'org_a', source.load);
      await cache.read('k', 'org_a', source.load);
      expect(source.loads).toBe(2);
      await cache.sync();
    }
    await disabled.close();
  });

  it('sync resolves once its own notice came back through the database', async () => {
    const cache = await startedCache();
    const source = counting(1);
    await cache.read('k', 'org_a', source.load);
    await database.db.execute(sql`select pg_notify(${ORG_CHANGES_CHANNEL}, 'org_a')`);
    await cache.sync();
    await cache.read('k', 'org_a', source.load);
    expect(source.loads).toBe(2);
    await cache.close();
  });

  it('forgets everything when full, and keeps working', async () => {
    const cache = new OrgReadCache(database, { enabled: true, maxEntries: 3 });
    await cache.start();
    for (let i = 0; i < 4; i++) await cache.read(`k${i}`, `org_${i}`, async () => i);
    expect(cache.size).toBe(0);
    await cache.read('k0', 'org_0', async () => 0);
    expect(cache.size).toBe(1);
    await cache.close();
  });
});
