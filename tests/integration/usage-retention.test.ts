import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/client.ts';
import {
  billingHold,
  dropExpiredUsagePartitions,
  type KeptUsageMonth,
  usageMonth,
} from '../../src/modules/usage/index.ts';
import { usageBillingClasses } from '../../src/modules/usage/usage.repo.ts';
import { billingHelpers, expectStatus, line, overage, type Person, PLUS } from '../helpers/billing.ts';
import { createTestInstance, signUpOwner, type TestInstance } from '../helpers/instance.ts';

// Usage retention by month (TIERLINE_USAGE_RETENTION_MONTHS): old monthly partitions of usage_minutes
// are dropped whole once billing is done with them. The tests look under the API only at the catalog
// (which partitions exist); usage and invoices are read through the API.

type UsageRetentionResult = Awaited<ReturnType<typeof dropExpiredUsagePartitions>>;

/** The partitions of usage_minutes, by name. */
async function partitions(t: TestInstance): Promise<string[]> {
  const result = await t.database.db.execute(
    sql`select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
        where i.inhparent = 'usage_minutes'::regclass order by 1`,
  );
  return (result as unknown as { rows: Array<{ name: string }> }).rows.map((row) => row.name);
}

/** Requests the usage API answers for the org in [start, end), by day. */
async function chartTotal(t: TestInstance, person: Person, start: string, end: string): Promise<number> {
  const response = await t.call('GET', `/v1/orgs/${person.orgId}/usage?start=${start}&end=${end}&granularity=day`, {
    cookie: person.cookie,
  });
  expectStatus(response, 200);
  const series = response.body.series as Array<{ requests: number }>;
  expect(series.reduce((sum, point) => sum + point.requests, 0)).toBe(response.body.total);
  return response.body.total;
}

/**
 * One worker pass as of `now`: every pass task as the worker runs them (with this instance's
 * configuration), answering what usage retention did.
 */
async function pass(t: TestInstance, now: string): Promise<UsageRetentionResult> {
  let retention: UsageRetentionResult | undefined;
  for (const task of t.deps.passTasks) {
    const result = await task.run(new Date(now));
    if (task.name === 'usage_retention') retention = result as UsageRetentionResult;
  }
  if (!retention) throw new Error('no usage_retention pass task');
  return retention;
}

const monthNames = (months: ReadonlyArray<{ month: string }>) => months.map((entry) => entry.month);

describe('usage retention of 3 months', () => {
  let t: TestInstance;
  let h: ReturnType<typeof billingHelpers>;
  // Month M is July 2030: M-5 is February, M-4 March, and April to June are the 3 months kept.
  const START = '2030-02-05T10:00:00.000Z';
  let early: Person; // Plus from February: its February usage is billed and paid by April
  let late: Person; // Plus from March 10: its March usage is not billed yet when the pass runs
  let free: Person; // Free, with February usage that is never billed
  let lateSubscriptionId: string;
  let first: UsageRetentionResult;
  let before: string[];

  beforeAll(async () => {
    t = await createTestInstance({ start: START, env: { TIERLINE_USAGE_RETENTION_MONTHS: '3' } });
    h = billingHelpers(t);
  });
  afterAll(async () => {
    await t.close();
  });

  it('drops the months before the kept ones whose usage is billed and paid, and keeps a month billing still needs', async () => {
    await h.advance(START);
    early = await signUpOwner(t);
    free = await signUpOwner(t);
    await h.subscribePlus(early);
    await (await h.runtime(early)).report({ '2030-02-05T10:00:00.000Z': 1_500_000 });
    await (await h.runtime(free)).report({ '2030-02-05T09:00:00.000Z': 700 });
    // Invoice 1 of the early org bills its February usage at C_1 (Mar 2) and is paid at B_1 (Mar 5).
    // In between, a downgrade would void it and give its usage back: billing still needs that usage.
    await h.advance('2030-03-03T00:00:00.000Z', early, free);
    const february = usageMonth(new Date('2030-02-01T00:00:00.000Z'));
    const open = (await usageBillingClasses(t.deps.db, february)).filter((rows) => rows.billed);
    expect(open).toEqual([
      {
        billable: true,
        subscriptionStatus: 'active',
        billed: true,
        invoiceKind: 'cycle',
        invoiceStatus: 'open',
        latestBillingAt: new Date('2030-03-05T10:00:00.000Z'),
        rows: 1,
        requests: 1_500_000n,
        subscriptions: 1,
        exampleSubscriptionId: expect.stringMatching(/^sub_/),
      },
    ]);
    expect(billingHold(open[0], new Date('2030-03-03T00:00:00.000Z'))).toBe('invoice_may_be_voided');
    await h.advance('2030-03-10T12:00:00.000Z', early, free);
    const [paid] = await h.invoices(early);
    expect(paid.status).toBe('paid');
    expect(BigInt(line(paid, 'usage').quantity)).toBe(1_500_000n);

    late = await signUpOwner(t);
    lateSubscriptionId = (await h.subscribePlus(late)).subscription.id;
    await (await h.runtime(late)).report({
      '2030-03-10T12:00:00.000Z': 2_000_000,
      '2030-03-10T12:03:00.000Z': 500_000,
    });

    // A worker back after months away: its first pass runs as of July while the drains that will
    // catch billing up (the late org's invoices from April on) have not run yet.
    before = await partitions(t);
    expect(before).toContain('usage_minutes_2030_02');
    expect(before).toContain('usage_minutes_2030_03');
    first = await pass(t, '2030-07-15T12:00:00.000Z');

    // Every month that ended by April 1 with nothing left to bill went: January (empty), February,
    // and months left by the migration (the real date's, empty here).
    const droppedNames = before.filter((name) => name < 'usage_minutes_2030_03');
    expect(droppedNames).toContain('usage_minutes_2030_02');
    expect(monthNames(first.dropped)).toEqual(droppedNames);
    expect(first.dropped.find((entry) => entry.month === 'usage_minutes_2030_02')).toEqual({
      month: 'usage_minutes_2030_02',
      rows: 2,
      requests: 1_500_700n,
    });
    // March holds the late org's unbilled usage: kept, and said why.
    expect(first.kept).toEqual([
      {
        month: 'usage_minutes_2030_03',
        holds: [
          {
            reason: 'unbilled',
            rows: 2,
            requests: 2_500_000n,
            subscriptions: 1,
            exampleSubscriptionId: lateSubscriptionId,
          },
        ],
      },
    ] satisfies KeptUsageMonth[]);

    const after = await partitions(t);
    for (const name of droppedNames) expect(after).not.toContain(name);
    // M-4 (kept for billing), M-3 to M, the months ahead and the default partition are all there.
    for (const month of ['03', '04', '05', '06', '07', '08', '09'])
      expect(after).toContain(`usage_minutes_2030_${month}`);
    expect(after).toContain('usage_minutes_default');

    // The usage API reads zero for February; the invoice that billed it is unchanged.
    expect(await chartTotal(t, early, '2030-02-01T00:00:00.000Z', '2030-03-01T00:00:00.000Z')).toBe(0);
    expect(await chartTotal(t, free, '2030-02-01T00:00:00.000Z', '2030-03-01T00:00:00.000Z')).toBe(0);
    const billed = await h.invoice(early, paid.id);
    expect([billed.status, billed.total, billed.lines]).toEqual([paid.status, paid.total, paid.lines]);
    // The staff page no longer knows of the free org's only traffic.
    const detail = await t.call('GET', `/v1/admin/orgs/${free.orgId}`, { cookie: await h.staff() });
    expectStatus(detail, 200);
    expect(detail.body.org.last_request_at).toBeNull();
    // March is all there for the chart and for billing.
    expect(await chartTotal(t, late, '2030-03-01T00:00:00.000Z', '2030-04-01T00:00:00.000Z')).toBe(2_500_000);
    expect(BigInt(line((await h.billing(late)).upcoming.estimate, 'usage').quantity)).toBe(2_500_000n);
  });

  it('a second pass changes nothing', async () => {
    const partitionsBefore = await partitions(t);
    expect(await pass(t, '2030-07-15T12:00:00.000Z')).toEqual({ dropped: [], kept: first.kept });
    expect(await partitions(t)).toEqual(partitionsBefore);
  });

  it('the billing run after the drop bills what remains, and the kept month goes once it is billed and paid', async () => {
    await h.advance('2030-07-15T12:00:00.000Z', early, late, free);
    const invoices = await h.invoices(late);
    const firstOfLate = invoices.find((invoice) => invoice.period.start === '2030-03-10T12:00:00.000Z');
    expect(firstOfLate.kind).toBe('cycle');
    expect(firstOfLate.status).toBe('paid');
    expect(BigInt(line(firstOfLate, 'usage').quantity)).toBe(2_500_000n);
    expect(BigInt(line(firstOfLate, 'usage').amount)).toBe(overage(2_500_000n));
    expect(BigInt(firstOfLate.total)).toBe(PLUS.fee + overage(2_500_000n));
    // Invoices 2 to 4 (calculated May 7, Jun 7, Jul 7) bill no usage: nothing was billed twice.
    expect(invoices).toHaveLength(4);
    for (const invoice of invoices.filter((entry) => entry.id !== firstOfLate.id)) {
      expect(BigInt(line(invoice, 'usage').quantity)).toBe(0n);
    }
    // The early org kept being billed its fee, with no usage.
    for (const invoice of (await h.invoices(early)).slice(0, -1)) {
      expect(BigInt(line(invoice, 'usage').quantity)).toBe(0n);
      expect(invoice.status).toBe('paid');
    }

    // Billed (Apr 7) and paid (Apr 10), March went with the passes of this advance.
    const after = await partitions(t);
    expect(after).not.toContain('usage_minutes_2030_03');
    for (const month of ['04', '05', '06', '07', '08', '09']) expect(after).toContain(`usage_minutes_2030_${month}`);
    expect(await chartTotal(t, late, '2030-03-01T00:00:00.000Z', '2030-04-01T00:00:00.000Z')).toBe(0);
    expect(await pass(t, '2030-07-15T12:00:00.000Z')).toEqual({ dropped: [], kept: [] });
  });
});

describe('usage retention off (the default), and two passes at once', () => {
  let t: TestInstance;
  let h: ReturnType<typeof billingHelpers>;
  const START = '2029-02-10T00:00:00.000Z';
  let owner: Person;

  beforeAll(async () => {
    t = await createTestInstance({ start: START });
    h = billingHelpers(t);
  });
  afterAll(async () => {
    await t.close();
  });

  it('keeps every month with retention 0', async () => {
    await h.advance(START);
    owner = await signUpOwner(t);
    const gateway = await h.runtime(owner);
    await gateway.report({ '2029-02-10T00:00:00.000Z': 5 });
    await h.advance('2029-03-10T00:00:00.000Z', owner);
    await gateway.report({ '2029-03-09T00:00:00.000Z': 7 });
    const before = await partitions(t);
    await h.advance('2029-09-15T00:00:00.000Z', owner);
    const after = await partitions(t);
    for (const name of before) expect(after).toContain(name);
    expect(await chartTotal(t, owner, '2029-02-01T00:00:00.000Z', '2029-04-01T00:00:00.000Z')).toBe(12);
    expect(await pass(t, '2029-09-15T00:00:00.000Z')).toEqual({ dropped: [], kept: [] });
    expect(
      await dropExpiredUsagePartitions(t.deps.db, new Date('2035-01-01T00:00:00.000Z'), { retentionMonths: 0 }),
    ).toEqual({ dropped: [], kept: [] });
    expect(await partitions(t)).toEqual(after);
  });

  it('two passes at once, as two processes, with reports arriving, drop each month once', async () => {
    // On PostgreSQL the second pass has connections of its own, as another worker process would.
    const url = t.deps.config.databaseUrl;
    const other = url ? await openDatabase({ url, dataDir: 'memory://' }) : undefined;
    try {
      const now = new Date('2029-09-15T00:00:00.000Z');
      const before = await partitions(t);
      const gateway = await h.runtime(owner);
      const [one, two, report] = await Promise.all([
        dropExpiredUsagePartitions(t.deps.db, now, { retentionMonths: 3 }),
        dropExpiredUsagePartitions(other?.db ?? t.deps.db, now, { retentionMonths: 3 }),
        gateway.send({ '2029-09-14T23:59:00.000Z': 11 }),
      ]);
      expectStatus(report, 200);
      // February and March 2029 (and the migration's months) ended by June 1: each dropped by one pass.
      const expected = before.filter((name) => name < 'usage_minutes_2029_06');
      expect(expected).toEqual(expect.arrayContaining(['usage_minutes_2029_02', 'usage_minutes_2029_03']));
      expect([...monthNames(one.dropped), ...monthNames(two.dropped)].sort()).toEqual(expected);
      expect([...one.kept, ...two.kept]).toEqual([]);
      expect(await partitions(t)).toEqual(before.filter((name) => !expected.includes(name)));
      expect(await chartTotal(t, owner, '2029-02-01T00:00:00.000Z', '2029-04-01T00:00:00.000Z')).toBe(0);
      expect(await chartTotal(t, owner, '2029-09-14T00:00:00.000Z', '2029-09-15T00:00:00.000Z')).toBe(11);
      expect(await dropExpiredUsagePartitions(t.deps.db, now, { retentionMonths: 3 })).toEqual({
        dropped: [],
        kept: [],
      });
    } finally {
      await other?.close();
    }
  });
});
