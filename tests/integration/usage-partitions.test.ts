import { sql } from 'drizzle-orm';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type DatabaseHandle, openDatabase } from '../../src/db/client.ts';
import { maintainUsagePartitions, usageMonthsAt } from '../../src/modules/usage/index.ts';
import {
  billingHelpers,
  DAY,
  expectStatus,
  iso,
  line,
  minus72h,
  ms,
  type Person,
  plusMonths,
} from '../helpers/billing.ts';
import { createTestInstance, signUpOwner, type TestInstance } from '../helpers/instance.ts';
import { cleanUpProcesses, freshDatabaseUrl } from '../helpers/server-process.ts';

// usage_minutes is partitioned by calendar month (UTC) of `minute`, with a default partition. These
// tests look under the API only to see which partition holds a row (`tableoid`) and which partitions
// exist (the catalog); every total is read through the API.

const MINUTE = 60_000;

type Rows = Array<Record<string, unknown>>;

async function query(executor: Pick<DatabaseHandle['db'], 'execute'>, statement: ReturnType<typeof sql>) {
  return (await executor.execute(statement)) as unknown as { rows: Rows };
}

/** The partitions of usage_minutes, by name. */
async function partitions(t: TestInstance): Promise<string[]> {
  const { rows } = await query(
    t.database.db,
    sql`select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
        where i.inhparent = 'usage_minutes'::regclass order by 1`,
  );
  return rows.map((row) => row.name as string);
}

/** Requests of the org per partition holding them. */
async function requestsByPartition(t: TestInstance, orgId: string): Promise<Record<string, number>> {
  const { rows } = await query(
    t.database.db,
    sql`select tableoid::regclass::text as partition, sum(requests)::int as requests
        from usage_minutes where org_id = ${orgId} group by 1`,
  );
  return Object.fromEntries(rows.map((row) => [row.partition, row.requests]));
}

async function chartTotal(t: TestInstance, person: Person, start: string, end: string, granularity = 'hour') {
  const response = await t.call(
    'GET',
    `/v1/orgs/${person.orgId}/usage?start=${start}&end=${end}&granularity=${granularity}`,
    { cookie: person.cookie },
  );
  expectStatus(response, 200);
  return response.body as { total: number; series: Array<{ start: string; requests: number }> };
}

describe('migrating a database that already has usage', () => {
  let handle: DatabaseHandle | undefined;
  afterEach(async () => {
    await handle?.close();
    handle = undefined;
    await cleanUpProcesses();
  });

  it('moves every row into the partition of its month, unchanged, in any session time zone', async () => {
    const url = await freshDatabaseUrl();
    if (url) {
      // Month arithmetic in the migration must not follow the session's time zone.
      const name = new URL(url).pathname.slice(1);
      const admin = await openDatabase({ url: url.replace(`/${name}`, '/postgres'), dataDir: 'memory://' });
      await admin.db.execute(sql.raw(`alter database ${name} set timezone = 'America/New_York'`));
      await admin.close();
    }
    handle = await openDatabase({ url, dataDir: 'memory://' });
    const db = handle.db;
    if (!url) await db.execute(sql`set timezone = 'America/New_York'`);
    const migrationsFolder = new URL('../../src/db/migrations', import.meta.url).pathname;
    const migrations = readMigrationFiles({ migrationsFolder });
    const partitioning = migrations.findIndex((migration) =>
      migration.sql.join('').includes('"usage_minutes" RENAME TO "usage_minutes_unpartitioned"'),
    );
    expect(partitioning).toBeGreaterThan(0);
    const migrator = db as unknown as {
      dialect: { migrate(m: unknown[], s: unknown, c: object): Promise<void> };
      session: unknown;
    };
    await migrator.dialect.migrate(migrations.slice(0, partitioning), migrator.session, { migrationsFolder });

    // Rows on both sides of month ends, billed and unbilled, and one years ahead of any clock.
    const before = [
      ['org_a', '2026-09-30T23:59:00.000Z', '', '', '', 5, '2026-09-30T23:59:59.999Z'],
      ['org_a', '2026-10-01T00:00:00.000Z', '', 'sub_1', '', 7, '2026-10-01T00:00:10.000Z'],
      ['org_a', '2026-10-01T00:00:00.000Z', '', 'sub_1', 'inv_1', 11, '2026-10-01T00:00:20.000Z'],
      ['org_a', '2026-12-31T23:59:00.000Z', 'api', 'sub_1', '', 13, '2026-12-31T23:59:30.500Z'],
      ['org_b', '2031-02-28T23:59:00.000Z', 'api', '', '', 17, '2031-02-28T23:59:59.999Z'],
    ] as const;
    for (const [org, minute, service, subscription, invoice, requests, latest] of before) {
      await db.execute(sql`insert into usage_minutes (org_id, minute, service, subscription_id, invoice_id, requests, latest_at)
        values (${org}, ${minute}, ${service}, ${subscription}, ${invoice}, ${requests}, ${latest})`);
    }
    await handle.migrate();

    const { rows } = await query(
      db,
      sql`select tableoid::regclass::text as partition, org_id, minute, service, subscription_id, invoice_id,
                 requests::int as requests, latest_at
          from usage_minutes order by org_id, minute, invoice_id`,
    );
    expect(
      rows.map((row) => [
        row.partition,
        row.org_id,
        new Date(row.minute as string).toISOString(),
        row.service,
        row.subscription_id,
        row.invoice_id,
        row.requests,
        new Date(row.latest_at as string).toISOString(),
      ]),
    ).toEqual([
      ['usage_minutes_2026_09', ...before[0]],
      ['usage_minutes_2026_10', ...before[1]],
      ['usage_minutes_2026_10', ...before[2]],
      ['usage_minutes_2026_12', ...before[3]],
      ['usage_minutes_2031_02', ...before[4]],
    ]);
    const layout = await query(
      db,
      sql`select c.relname as name, c.relkind as kind, pg_get_expr(c.relpartbound, c.oid) as bound
          from pg_inherits i join pg_class c on c.oid = i.inhrelid
          where i.inhparent = 'usage_minutes'::regclass order by 1`,
    );
    const names = layout.rows.map((row) => row.name);
    // Every month with rows, the default partition, and the months a pass would need at the
    // migration's own date (the real one here): the first pass on the real clock has nothing to do.
    for (const name of ['usage_minutes_2026_09', 'usage_minutes_2026_10', 'usage_minutes_2026_12'])
      expect(names).toContain(name);
    const today = new Date();
    for (const month of usageMonthsAt(today)) expect(names).toContain(month.name);
    expect(await maintainUsagePartitions(db, today)).toEqual({ created: [], movedRows: 0 });
    expect(names).toContain('usage_minutes_default');
    expect(layout.rows.find((row) => row.name === 'usage_minutes_default')?.bound).toBe('DEFAULT');
    await db.execute(sql`set timezone = 'UTC'`);
    const october = await query(
      db,
      sql`select pg_get_expr(c.relpartbound, c.oid) as bound from pg_class c where c.relname = 'usage_minutes_2026_10'`,
    );
    expect(october.rows[0].bound).toBe("FOR VALUES FROM ('2026-10-01 00:00:00+00') TO ('2026-11-01 00:00:00+00')");
    const key = await query(
      db,
      sql`select pg_get_constraintdef(oid) as definition from pg_constraint
          where conrelid = 'usage_minutes'::regclass and contype = 'p'`,
    );
    expect(key.rows.map((row) => row.definition)).toEqual([
      'PRIMARY KEY (org_id, minute, service, subscription_id, invoice_id)',
    ]);
    const old = await query(db, sql`select to_regclass('usage_minutes_unpartitioned') as old`);
    expect(old.rows[0].old).toBeNull();
    // The key still merges a repeat of a row: the upsert of a report adds to it.
    await db.execute(sql`insert into usage_minutes (org_id, minute, service, subscription_id, invoice_id, requests, latest_at)
      values ('org_a', '2026-09-30T23:59:00.000Z', '', '', '', 1, '2026-09-30T23:59:59.999Z')
      on conflict (org_id, minute, service, subscription_id, invoice_id) do update
      set requests = usage_minutes.requests + excluded.requests`);
    const merged = await query(
      db,
      sql`select requests::int as requests from usage_minutes where org_id = 'org_a' and minute = '2026-09-30T23:59:00.000Z'`,
    );
    expect(merged.rows).toEqual([{ requests: 6 }]);
  });
});

describe('usage across months', () => {
  let t: TestInstance;
  let h: ReturnType<typeof billingHelpers>;
  let earlier: Person;
  // Far from any real date, so no partition of these months exists until the clock reaches them.
  const START = '2031-01-31T23:50:00.000Z';

  beforeAll(async () => {
    t = await createTestInstance({ start: START });
    h = billingHelpers(t);
  });
  afterAll(async () => {
    await t.close();
  });

  it('an advance creates the partitions of its months; usage at a month end lands in both months', async () => {
    expect(await partitions(t)).not.toContain('usage_minutes_2031_01');
    // S is inside a minute: the requests of that minute from S on are billable, those before are not.
    const subscribedAt = '2031-01-31T23:58:30.250Z';
    await h.advance(subscribedAt);
    const created = await partitions(t);
    for (const name of ['usage_minutes_2030_12', 'usage_minutes_2031_01', 'usage_minutes_2031_02'])
      expect(created).toContain(name);
    expect(created).toContain('usage_minutes_2031_03');
    expect(created).not.toContain('usage_minutes_2031_04');

    const owner = await signUpOwner(t);
    earlier = owner;
    const gateway = await h.runtime(owner);
    // Free usage in the subscription's first minute, before S: kept, never billed.
    await gateway.report({ '2031-01-31T23:58:10.000Z': 1_000 });
    await h.subscribePlus(owner);
    expect((await h.billing(owner)).subscription.started_at).toBe(subscribedAt);
    await gateway.report({
      [subscribedAt]: 200_000, // exactly at S: the first instant billed
      '2031-01-31T23:58:59.999Z': 300_000, // the same minute as S
      '2031-01-31T23:59:00.000Z': 400_000,
      '2031-02-01T00:00:00.000Z': 500_000, // the next month, reported ahead
      '2031-02-01T00:03:30.000Z': 600_000,
    });
    expect(await requestsByPartition(t, owner.orgId)).toEqual({
      usage_minutes_2031_01: 1_000 + 200_000 + 300_000 + 400_000,
      usage_minutes_2031_02: 500_000 + 600_000,
    });

    // The chart reads both months.
    const chart = await chartTotal(t, owner, '2031-01-31T23:00:00.000Z', '2031-02-01T01:00:00.000Z');
    expect(chart.total).toBe(2_001_000);
    expect(chart.series).toEqual([
      { start: '2031-01-31T23:00:00.000Z', requests: 901_000 },
      { start: '2031-02-01T00:00:00.000Z', requests: 1_100_000 },
    ]);

    // The estimate bills every request from S on, the first minute's included.
    const billable = 200_000n + 300_000n + 400_000n + 500_000n + 600_000n;
    const overview = await h.billing(owner);
    expect(BigInt(line(overview.upcoming.estimate, 'usage').quantity)).toBe(billable);

    // Invoice 1, calculated at C_1 a month later (Feb 28: clamped), bills the same.
    const billingAt = plusMonths(subscribedAt, 1);
    expect(billingAt).toBe('2031-02-28T23:58:30.250Z');
    await h.advance(minus72h(billingAt), owner);
    const [first] = await h.invoices(owner);
    expect(first.period.start).toBe(subscribedAt);
    expect(BigInt(line(first, 'usage').quantity)).toBe(billable);

    // Cancelling before B_1 voids invoice 1: its requests, in both months, go on the final invoice.
    await h.advance(iso(ms(minus72h(billingAt)) + DAY), owner);
    expectStatus(await h.downgrade(owner), 200);
    const [finalInvoice, voided] = await h.invoices(owner);
    expect(voided.id).toBe(first.id);
    expect(voided.status).toBe('void');
    expect(finalInvoice.kind).toBe('final');
    expect(BigInt(line(finalInvoice, 'usage').quantity)).toBe(billable);
    // Nothing is left unbilled, and the chart is unchanged by billing.
    const billed = await query(
      t.database.db,
      sql`select invoice_id, sum(requests)::text as requests from usage_minutes
          where org_id = ${owner.orgId} group by invoice_id order by invoice_id`,
    );
    expect(billed.rows).toEqual([
      { invoice_id: '', requests: '1000' },
      { invoice_id: finalInvoice.id, requests: billable.toString() },
    ]);
    expect((await chartTotal(t, owner, '2031-01-31T23:00:00.000Z', '2031-02-01T01:00:00.000Z')).total).toBe(2_001_000);
  });

  it('an advance by months creates the months it reaches, and the staff see the latest request', async () => {
    await h.advance('2031-07-15T12:00:00.000Z');
    const names = await partitions(t);
    // 35 days back (June) to two months ahead (September); months the clock jumped over are not needed.
    for (const name of ['usage_minutes_2031_06', 'usage_minutes_2031_07', 'usage_minutes_2031_08'])
      expect(names).toContain(name);
    expect(names).toContain('usage_minutes_2031_09');
    expect(names).not.toContain('usage_minutes_2031_05');
    expect(names).not.toContain('usage_minutes_2031_10');

    // The latest request is found whichever partition holds it: months before a gap in the
    // partitions (the earlier org's January and February) as well as the newest months.
    const lastRequestAt = async (person: Person) => {
      const response = await t.call('GET', `/v1/admin/orgs/${person.orgId}`, { cookie: await h.staff() });
      expectStatus(response, 200);
      return response.body.org.last_request_at;
    };
    expect(await lastRequestAt(earlier)).toBe('2031-02-01T00:03:30.000Z');
    const owner = await signUpOwner(t);
    const gateway = await h.runtime(owner);
    expect(await lastRequestAt(owner)).toBeNull();
    await gateway.report({ '2031-06-20T10:00:00.000Z': 1 });
    expect(await lastRequestAt(owner)).toBe('2031-06-20T10:00:00.000Z');
    await gateway.report({ '2031-06-20T10:00:00.000Z': 1, '2031-07-15T12:01:59.123Z': 2 });
    expect(await lastRequestAt(owner)).toBe('2031-07-15T12:01:59.123Z');
  });
});

describe('the default partition', () => {
  let t: TestInstance;
  let h: ReturnType<typeof billingHelpers>;
  const START = '2034-01-01T00:02:00.000Z';

  beforeAll(async () => {
    t = await createTestInstance({ start: START });
    h = billingHelpers(t);
  });
  afterAll(async () => {
    await t.close();
  });

  it('holds usage of months without a partition, which moves when its month is created', async () => {
    const owner = await signUpOwner(t);
    const gateway = await h.runtime(owner);
    // No advance yet: no partition for December or January exists.
    await gateway.report({ '2033-12-31T23:59:30.000Z': 3, '2034-01-01T00:01:00.000Z': 4 });
    expect(await requestsByPartition(t, owner.orgId)).toEqual({ usage_minutes_default: 7 });
    const latest = await t.call('GET', `/v1/admin/orgs/${owner.orgId}`, { cookie: await h.staff() });
    expect(latest.body.org.last_request_at).toBe('2034-01-01T00:01:00.000Z');

    await h.advance(iso(ms(START) + MINUTE));
    expect(await requestsByPartition(t, owner.orgId)).toEqual({ usage_minutes_2033_12: 3, usage_minutes_2034_01: 4 });
    const empty = await query(t.database.db, sql`select count(*)::int as count from usage_minutes_default`);
    expect(empty.rows[0].count).toBe(0);
    const chart = await chartTotal(t, owner, '2033-12-31T23:00:00.000Z', '2034-01-01T01:00:00.000Z');
    expect(chart.series).toEqual([
      { start: '2033-12-31T23:00:00.000Z', requests: 3 },
      { start: '2034-01-01T00:00:00.000Z', requests: 4 },
    ]);
    // New usage goes straight to its month; a late repeat of the same minute adds to the moved row.
    await gateway.report({ '2033-12-31T23:59:45.000Z': 10, '2034-01-01T00:02:30.000Z': 20 });
    expect(await requestsByPartition(t, owner.orgId)).toEqual({ usage_minutes_2033_12: 13, usage_minutes_2034_01: 24 });
  });

  it('two maintenance runs at once, with reports arriving, create each month once and lose nothing', async () => {
    const owner = await signUpOwner(t);
    const gateway = await h.runtime(owner);
    const now = new Date(await h.now());
    // Months ahead with usage waiting in the default partition: the runs below must move it.
    const ahead = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 4, 1, 0, 0, 30));
    await t.database.db.execute(sql`insert into usage_minutes
      (org_id, minute, service, subscription_id, invoice_id, requests, latest_at)
      values (${owner.orgId}, ${iso(ahead.getTime() - 30_000)}, '', '', '', 9, ${iso(ahead)})`);
    const later = new Date(ahead.getTime() + 10 * DAY);
    const results = await Promise.all([
      maintainUsagePartitions(t.deps.db, later),
      maintainUsagePartitions(t.deps.db, later),
      gateway.report({ [iso(now.getTime() - MINUTE)]: 100 }),
      gateway.report({ [iso(now.getTime())]: 1_000 }),
    ]);
    const [first, second] = results as Array<{ created: string[]; movedRows: number }>;
    const monthName = `usage_minutes_${ahead.getUTCFullYear()}_${String(ahead.getUTCMonth() + 1).padStart(2, '0')}`;
    // Each month was created by exactly one of the two runs; the waiting row moved once.
    expect([...first.created, ...second.created].filter((name) => name === monthName)).toHaveLength(1);
    expect(first.movedRows + second.movedRows).toBe(1);
    expect(new Set([...first.created, ...second.created]).size).toBe(first.created.length + second.created.length);
    const names = await partitions(t);
    expect(names).toContain(monthName);
    expect(await requestsByPartition(t, owner.orgId)).toEqual({ usage_minutes_2034_01: 1_100, [monthName]: 9 });
    // Running again changes nothing.
    expect(await maintainUsagePartitions(t.deps.db, later)).toEqual({ created: [], movedRows: 0 });
  });
});
