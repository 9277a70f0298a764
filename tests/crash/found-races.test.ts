/**
 * Races the crash suite found on PostgreSQL, each forced here into the interleaving that shows it,
 * with a row lock held from a second connection (never a mock: the real app, the real database).
 * The crash suite hits them by chance (reports, plan changes and due work running side by side);
 * these make them deterministic so that a fix can be checked.
 *
 * 1. Ending a subscription (downgrade, deactivation, last failed retry: endSubscriptionIn) bills the
 *    unbilled usage first and closes the usage window (usage_state) after. A report in between,
 *    which share-locks usage_state and writes new rows marked with the subscription, is accepted and
 *    never billed; a report adding to a row the ending just billed deadlocks with it (a 500).
 * 2. A downgrade whose instant D is before B_k, running after the collection of invoice k: invoice k
 *    (the whole period) is paid and the final invoice charges the fee for [B_(k-1), D) again.
 *
 * Only on PostgreSQL: the embedded database has one connection, so nothing runs side by side there.
 */
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { billingHelpers, expectStatus, iso, line } from '../helpers/billing.ts';
import { createTestInstance, signUpOwner, type TestInstance } from '../helpers/instance.ts';

const HOUR = 3_600_000;
let instance: TestInstance | undefined;
let holder: pg.Client | undefined;

afterEach(async () => {
  await holder?.end().catch(() => undefined);
  holder = undefined;
  await instance?.close();
  instance = undefined;
});

/** A second connection on the instance's database, to hold row locks. */
async function lockHolder(t: TestInstance): Promise<pg.Client> {
  holder = new pg.Client({ connectionString: t.deps.config.databaseUrl });
  await holder.connect();
  return holder;
}

/** Waits until `count` other sessions of this database wait for a lock (what they run is named in the error). */
async function waitForLockWaiters(client: pg.Client, count: number, what: string) {
  for (let waited = 0; waited < 10_000; waited += 10) {
    const { rows } = await client.query(
      `select count(*)::int as n from pg_stat_activity
       where datname = current_database() and wait_event_type = 'Lock' and pid <> pg_backend_pid()`,
    );
    if (rows[0].n >= count) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`nothing came to wait for the lock: ${what}`);
}

/** Whether `promise` settles within `ms` (it keeps running either way). */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const settled = await Promise.race([promise.then(() => true as const), timeout]);
  clearTimeout(timer);
  return settled;
}

describe.skipIf(!process.env.DATABASE_URL)('races found by the crash suite (PostgreSQL)', () => {
  it('a report accepted while the subscription ends is billed on the final invoice', async () => {
    const t = await createTestInstance({ start: '2027-03-01T00:00:00.000Z' });
    instance = t;
    const b = billingHelpers(t);
    const owner = await signUpOwner(t);
    const { subscription } = await b.subscribePlus(owner);
    const runtime = await b.runtime(owner);
    const at = Date.parse('2027-03-11T00:00:00.000Z');
    await b.advance(iso(at));
    await b.logInAgain(owner);

    // Hold the usage window as a report in flight does: the downgrade bills, then waits to close it.
    const lock = await lockHolder(t);
    await lock.query('begin');
    await lock.query('select 1 from usage_state where org_id = $1 for share', [owner.orgId]);
    const downgrade = t.call('DELETE', `/v1/orgs/${owner.orgId}/subscription`, { cookie: owner.cookie });
    await waitForLockWaiters(lock, 1, 'the downgrade closing the usage window');
    // A report now: its event is inside the subscription, the subscription has not ended.
    const report = runtime.send({ [iso(at - HOUR)]: 1000 });
    const reportIsAnswered = await settlesWithin(report, 3000);
    await lock.query('commit');
    const answered = await report;
    expectStatus(answered, 200);
    const ended = await downgrade;
    expectStatus(ended, 200);
    expect(reportIsAnswered, 'the report was answered while the downgrade waited').toBe(true);

    const unbilled = await lock.query(
      `select coalesce(sum(requests), 0)::text as requests from usage_minutes
       where subscription_id = $1 and invoice_id = '' and minute < $2`,
      [subscription.id, ended.body.subscription.ended_at],
    );
    expect(
      { finalInvoiceUsage: line(ended.body.final_invoice, 'usage').quantity, neverBilled: unbilled.rows[0].requests },
      'the 1,000 accepted requests of [S, D) are on the final invoice, none left unbilled',
    ).toEqual({ finalInvoiceUsage: 1000, neverBilled: '0' });
  });

  it('a report adding to a minute the ending subscription just billed is not refused with a 500', async () => {
    const t = await createTestInstance({ start: '2027-03-01T00:00:00.000Z' });
    instance = t;
    const b = billingHelpers(t);
    const owner = await signUpOwner(t);
    await b.subscribePlus(owner);
    const runtime = await b.runtime(owner);
    const at = Date.parse('2027-03-11T00:00:00.000Z');
    await b.advance(iso(at));
    await b.logInAgain(owner);
    const minute = iso(at - 2 * HOUR);
    await runtime.report({ [minute]: 500 });

    const lock = await lockHolder(t);
    await lock.query('begin');
    await lock.query('select 1 from usage_state where org_id = $1 for share', [owner.orgId]);
    // The downgrade waits to close the usage window (it used to bill the minute's row first).
    const downgrade = t.call('DELETE', `/v1/orgs/${owner.orgId}/subscription`, { cookie: owner.cookie });
    await waitForLockWaiters(lock, 1, 'the downgrade closing the usage window');
    // The report adds to the minute; it used to wait for the row the downgrade had billed, and the
    // downgrade for it: a deadlock. Now the downgrade has billed nothing yet.
    const report = runtime.send({ [minute]: 700 });
    await settlesWithin(report, 2000);
    await lock.query('commit');
    const [reported, ended] = await Promise.all([report, downgrade]);
    expect(
      { report: reported.status, downgrade: ended.status },
      `report: ${JSON.stringify(reported.body)}; downgrade: ${JSON.stringify(ended.body)}`,
    ).toEqual({ report: 200, downgrade: 200 });
    // Both reports were accepted before the window closed: the final invoice bills them, once.
    expect(Number(line(ended.body.final_invoice, 'usage').quantity)).toBe(1200);
  });

  it('a downgrade that runs after the collection of the invoice it would void charges no day twice', async () => {
    const t = await createTestInstance({ start: '2027-01-31T09:30:00.000Z' });
    instance = t;
    const b = billingHelpers(t);
    const owner = await signUpOwner(t);
    await b.subscribePlus(owner);
    // C_1 = 2027-02-25 09:30, B_1 = 2027-02-28 09:30: invoice 1 is open.
    await b.advance('2027-02-25T10:30:00.000Z');
    await b.logInAgain(owner);

    // The downgrade reads its instant D (before B_1), then waits for the org row (another change to the org).
    const lock = await lockHolder(t);
    await lock.query('begin');
    await lock.query('select id from orgs where id = $1 for update', [owner.orgId]);
    const downgrade = t.call('DELETE', `/v1/orgs/${owner.orgId}/subscription`, { cookie: owner.cookie });
    await waitForLockWaiters(lock, 1, 'the downgrade locking the org');
    // Meanwhile B_1 comes: invoice 1 is collected.
    await b.advance('2027-02-28T10:30:00.000Z');
    await lock.query('commit');
    const ended = await downgrade;
    expectStatus(ended, 200);

    await b.logInAgain(owner);
    const standing = (await b.invoices(owner))
      .filter((invoice) => invoice.status !== 'void')
      .map((invoice) => ({
        number: invoice.number,
        kind: invoice.kind,
        status: invoice.status,
        start: Date.parse(invoice.period.start),
        end: Date.parse(invoice.period.end),
        fee: line(invoice, 'plan_fee').amount,
      }))
      .sort((x, y) => x.start - y.start);
    const twice = standing.flatMap((invoice, i) =>
      standing
        .slice(i + 1)
        .filter((other) => other.start < invoice.end && other.fee > 0 && invoice.fee > 0)
        .map(
          (other) =>
            `${iso(other.start)} to ${iso(Math.min(invoice.end, other.end))}: ${invoice.kind} ${invoice.number} ` +
            `(${invoice.status}, fee ${invoice.fee}) and ${other.kind} ${other.number} (${other.status}, fee ${other.fee})`,
        ),
    );
    expect(twice, 'days of service charged on two invoices').toEqual([]);
    const feesForPeriod1 = standing
      .filter((invoice) => invoice.start < Date.parse('2027-02-28T09:30:00.000Z'))
      .reduce((sum, invoice) => sum + invoice.fee, 0);
    expect(feesForPeriod1, 'the plan fee charged for period 1 (one month is 10000)').toBeLessThanOrEqual(10_000);
  });
});
