/**
 * The billing run: N Plus subscriptions whose first invoices fall due at the same instant. Measures
 * the time to calculate them all (C_1) and to collect them all (B_1) through the due-work runner, next
 * to a baseline from the same run: inserting the same invoice rows with one INSERT … SELECT.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import { loadConfig } from '../src/config.ts';
import { createTierline } from '../src/tierline.ts';

export interface BillingResult {
  billing_n: number;
  billing_calculate_s: number;
  billing_collect_s: number;
  billing_baseline_insert_s: number;
  billing_invoices_paid: number;
  billing_peak_rss_mib: number;
}

const START = '2027-01-15T00:00:00.000Z';
const CALCULATION = '2027-02-12T00:00:00.000Z';
const BILLING = '2027-02-15T00:00:00.000Z';

function peakRssMiB(): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return match ? Math.round(Number(match[1]) / 1024) : 0;
}

export async function benchBilling(env: Record<string, string>, n: number): Promise<BillingResult> {
  // Start the peak-memory count afresh (Linux): earlier benchmarks ran in this same process.
  writeFileSync('/proc/self/clear_refs', '5');
  const tierline = await createTierline(loadConfig({ ...env, TIERLINE_LOG_LEVEL: 'warn' }));
  const db = tierline.deps.db;
  try {
    // Seed N orgs, each with an owner, a card, a Plus subscription started at START, a little usage
    // over the included requests, and its first calculation due at C_1.
    const terms = JSON.stringify({
      monthly_fee: '10000',
      included_requests: '1000000',
      overage_per_million: '2000',
      net_days: 0,
    });
    await db.execute(sql`
      insert into users (id, email, password_hash, full_name, created_at)
      select 'usr_bench' || g, 'bench' || g || '@bench.test', 'unused', 'Bench ' || g, ${START}::timestamptz
      from generate_series(1, ${n}) g`);
    await db.execute(sql`
      insert into orgs (id, name, email, owner_user_id, status, plan, created_at, last_login_at)
      select 'org_bench' || g, 'Bench org ' || g, 'bench' || g || '@bench.test', 'usr_bench' || g, 'active', 'plus',
             ${START}::timestamptz, ${START}::timestamptz
      from generate_series(1, ${n}) g`);
    await db.execute(sql`
      insert into memberships (org_id, user_id, created_at)
      select 'org_bench' || g, 'usr_bench' || g, ${START}::timestamptz from generate_series(1, ${n}) g`);
    await db.execute(sql`
      insert into member_roles (org_id, user_id, role)
      select 'org_bench' || g, 'usr_bench' || g, 'owner' from generate_series(1, ${n}) g`);
    await db.execute(sql`
      insert into payment_methods (id, org_id, provider, provider_ref, brand, last4, exp_month, exp_year, billing_details, created_at)
      select 'pm_bench' || g, 'org_bench' || g, 'test', 'testcard_succeeds_bench' || g, 'visa', '4242', 12, 2030,
             '{}'::jsonb, ${START}::timestamptz
      from generate_series(1, ${n}) g`);
    await db.execute(sql`
      insert into subscriptions (id, org_id, plan, status, started_at, payment_method_id, currency, terms, created_at)
      select 'sub_bench' || g, 'org_bench' || g, 'plus', 'active', ${START}::timestamptz, 'pm_bench' || g, 'usd',
             ${terms}::jsonb, ${START}::timestamptz
      from generate_series(1, ${n}) g`);
    await db.execute(sql`
      insert into usage_state (org_id, subscription_id, window_started_at)
      select 'org_bench' || g, 'sub_bench' || g, ${START}::timestamptz from generate_series(1, ${n}) g`);
    await db.execute(sql`
      insert into usage_minutes (org_id, minute, service, subscription_id, invoice_id, requests, latest_at)
      select 'org_bench' || g, ${START}::timestamptz + interval '1 day', 'api', 'sub_bench' || g, '', 1000000 + g,
             ${START}::timestamptz + interval '1 day'
      from generate_series(1, ${n}) g`);
    await db.execute(sql`
      insert into due_items (id, kind, subject_id, due_at, payload, status, created_at)
      select 'due_bench' || g, 'invoice_calculation', 'sub_bench' || g, ${CALCULATION}::timestamptz,
             '{"period": 1}'::jsonb, 'pending', ${START}::timestamptz
      from generate_series(1, ${n}) g`);
    await db.execute(sql`analyze`);

    const runner = tierline.deps.runner;
    let started = performance.now();
    const calculated = await runner.runDue(new Date(CALCULATION), { concurrency: 2 });
    const calculateSeconds = (performance.now() - started) / 1000;
    if (calculated.processed !== n || calculated.failed !== 0) {
      throw new Error(`calculation processed ${calculated.processed} of ${n}, ${calculated.failed} failed`);
    }
    started = performance.now();
    const collected = await runner.runDue(new Date(BILLING), { concurrency: 2 });
    const collectSeconds = (performance.now() - started) / 1000;
    const paid = await db.execute(sql`select count(*)::int as n from invoices where status = 'paid'`);
    const paidCount = Number((paid as unknown as { rows: Array<{ n: number }> }).rows[0].n);
    if (collected.processed !== n || paidCount !== n) {
      throw new Error(`collection processed ${collected.processed}, ${paidCount} paid, of ${n}`);
    }

    // Baseline: the same N invoice rows with their two lines each, in single INSERT … SELECT statements.
    await db.execute(sql`create temporary table baseline_invoices (like invoices including defaults)`);
    await db.execute(sql`create temporary table baseline_lines (like invoice_lines including defaults)`);
    started = performance.now();
    await db.execute(sql`
      insert into baseline_invoices (id, number, org_id, subscription_id, kind, period_index, status, currency,
        period_start, period_end, calculated_at, billing_at, due_at, total, collection, created_at)
      select 'inv_base' || g, 'B-' || g, 'org_bench' || g, 'sub_bench' || g, 'cycle', 1, 'open', 'usd',
        ${START}::timestamptz, ${BILLING}::timestamptz, ${CALCULATION}::timestamptz, ${BILLING}::timestamptz,
        ${BILLING}::timestamptz, 10000 + g / 500, 'charge_automatically', ${CALCULATION}::timestamptz
      from generate_series(1, ${n}) g`);
    await db.execute(sql`
      insert into baseline_lines (org_id, invoice_id, position, kind, description, quantity, amount)
      select 'org_bench' || g, 'inv_base' || g, p, case p when 0 then 'plan_fee' else 'usage' end, 'line', 1, 100
      from generate_series(1, ${n}) g, generate_series(0, 1) p`);
    const baselineSeconds = (performance.now() - started) / 1000;

    return {
      billing_n: n,
      billing_calculate_s: Number(calculateSeconds.toFixed(2)),
      billing_collect_s: Number(collectSeconds.toFixed(2)),
      billing_baseline_insert_s: Number(baselineSeconds.toFixed(3)),
      billing_invoices_paid: paidCount,
      billing_peak_rss_mib: peakRssMiB(),
    };
  } finally {
    await tierline.close();
  }
}
