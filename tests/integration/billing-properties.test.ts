/**
 * Billing invariants (spec 3, 4, 6) as a property over random plans run through the real HTTP API on
 * the test clock: random advances, usage reports (late, early, before the subscription, duplicated,
 * refused), upgrades and downgrades. Each run is one fresh org in one shared instance; the clock is
 * global and only moves forward, so a run works relative to the clock's current instant.
 *
 * Replay a failure with FC_SEED=<seed> FC_PATH=<path> FC_CLOCK_START=<the run's start instant, printed
 * in the error> so the single failing run starts on the same calendar day it did.
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BillingModel,
  billingAt,
  calculationAt,
  DAY,
  HOUR,
  MINUTE,
  type ModelInvoice,
  overageAmount,
  type PlusPrice,
  periodIndexAt,
  SECOND,
} from '../helpers/billing-model.ts';
import { createTestInstance, signUpOwner, type TestInstance } from '../helpers/instance.ts';

const NUM_RUNS = Number(process.env.FC_NUM_RUNS ?? 40);
/** Each run spans at most this much clock time, so the runs (and a shrink) stay far from 2099. */
const MAX_SPAN = 120 * DAY;
/** Logins at most this far apart: sessions end after 24 h idle, free orgs after 30 days without one. */
const LOGIN_EVERY = 20 * HOUR;
const MAX_JUMP = 25 * DAY;
const MAX_AGE = 35 * DAY;
const MAX_AHEAD = 5 * MINUTE;

const iso = (ms: number) => new Date(ms).toISOString();
const minuteOf = (ms: number) => ms - (ms % MINUTE);

// ---------------------------------------------------------------------------------------------------
// Generated plans

interface GeneratedRecord {
  /** Seconds from the clock's instant: whole seconds in [−35 days, +5 minutes]. */
  offset: number;
  requests: number;
}

type Step =
  | { kind: 'advance'; seconds: number }
  /** Into [C_k, B_k) of the current period (or the next one): where a downgrade voids invoice k. */
  | { kind: 'into_calculation'; seconds: number }
  | { kind: 'report'; records: GeneratedRecord[] }
  | { kind: 'refused_report'; records: GeneratedRecord[]; tooOld: boolean; bySeconds: number }
  | { kind: 'resend' }
  | { kind: 'upgrade' }
  | { kind: 'downgrade' };

const recordArbitrary: fc.Arbitrary<GeneratedRecord> = fc.record({
  offset: fc.oneof(
    // Anywhere in the accepted range: late events, events before the start, before the last C_k.
    { weight: 3, arbitrary: fc.integer({ min: -MAX_AGE / SECOND, max: MAX_AHEAD / SECOND }) },
    // Around now, including a little ahead: these meet subscription starts and ends.
    { weight: 2, arbitrary: fc.integer({ min: -15 * 60, max: MAX_AHEAD / SECOND }) },
  ),
  requests: fc.oneof(fc.integer({ min: 0, max: 3_000_000 }), fc.constantFrom(0, 1, 999_999, 1_000_000, 1_000_001)),
});

const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('advance' as const),
      seconds: fc.oneof(
        fc.integer({ min: 0, max: 15 * 60 }),
        fc.integer({ min: 15 * 60, max: 3 * 86_400 }),
        fc.integer({ min: 3 * 86_400, max: 40 * 86_400 }),
      ),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('into_calculation' as const),
      seconds: fc.integer({ min: 0, max: 72 * 3600 - 1 }),
    }),
  },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('report' as const),
      records: fc.array(recordArbitrary, { minLength: 1, maxLength: 4 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('refused_report' as const),
      records: fc.array(recordArbitrary, { maxLength: 2 }),
      tooOld: fc.boolean(),
      bySeconds: fc.integer({ min: 1, max: 86_400 }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'resend' as const }) },
  { weight: 5, arbitrary: fc.constant({ kind: 'upgrade' as const }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'downgrade' as const }) },
);

const planArbitrary = fc.array(stepArbitrary, { minLength: 1, maxLength: 24, size: 'max' });

// ---------------------------------------------------------------------------------------------------
// Resolving a plan against the clock: absolute instants, and the changes it makes

interface EventRecord {
  eventAt: number;
  requests: number;
}

type Action =
  | { kind: 'advance'; to: number }
  | { kind: 'report'; at: number; reportId: string; records: EventRecord[] }
  | { kind: 'refused_report'; at: number; reportId: string; records: EventRecord[] }
  | { kind: 'resend'; at: number }
  | { kind: 'upgrade'; at: number; succeeds: boolean }
  | { kind: 'downgrade'; at: number; succeeds: boolean };

/**
 * Turns the plan into actions at absolute instants from `startMs`, bounded to MAX_SPAN, ending with a
 * downgrade when still subscribed, so every subscription of the run has ended.
 *
 * The one caveat the checks respect: the implementation meters usage per minute of event time and
 * bills a minute when the minute starts before the cut (a start S, an end D, a calculation C_k); an
 * event in the same minute as such an instant, but after it, would be billed a cut early. Event times
 * are whole seconds, and records whose minute is the minute of any S, D or C_k ≤ D of the run are
 * dropped before they are sent. Everything else, including events a few minutes ahead that arrive
 * before an upgrade, is checked against the spec's rule exactly.
 */
function resolvePlan(startMs: number, steps: readonly Step[]): Action[] {
  const limit = startMs + MAX_SPAN;
  const actions: Action[] = [];
  const changes: Array<{ start: number; end: number }> = [];
  let now = startMs;
  let subscribedAt: number | null = null;
  let reports = 0;
  const records = (generated: readonly GeneratedRecord[]) =>
    generated.map((record) => ({ eventAt: now + record.offset * SECOND, requests: record.requests }));
  const advance = (to: number) => {
    const target = Math.min(to, limit);
    if (target > now) {
      actions.push({ kind: 'advance', to: target });
      now = target;
    }
  };
  for (const step of steps) {
    switch (step.kind) {
      case 'advance':
        advance(now + step.seconds * SECOND);
        break;
      case 'into_calculation': {
        if (subscribedAt === null) {
          advance(now + step.seconds * SECOND);
          break;
        }
        let k = periodIndexAt(subscribedAt, now);
        if (calculationAt(subscribedAt, k) <= now) k++;
        advance(calculationAt(subscribedAt, k) + step.seconds * SECOND);
        break;
      }
      case 'report':
        actions.push({ kind: 'report', at: now, reportId: `r${++reports}`, records: records(step.records) });
        break;
      case 'refused_report': {
        const outside = step.tooOld
          ? now - MAX_AGE - step.bySeconds * SECOND
          : now + MAX_AHEAD + step.bySeconds * SECOND;
        const sent = records(step.records);
        sent.splice(Math.floor(sent.length / 2), 0, { eventAt: outside, requests: 7 });
        actions.push({ kind: 'refused_report', at: now, reportId: `r${++reports}`, records: sent });
        break;
      }
      case 'resend':
        actions.push({ kind: 'resend', at: now });
        break;
      case 'upgrade':
        actions.push({ kind: 'upgrade', at: now, succeeds: subscribedAt === null });
        subscribedAt ??= now;
        break;
      case 'downgrade':
        actions.push({ kind: 'downgrade', at: now, succeeds: subscribedAt !== null });
        if (subscribedAt !== null) changes.push({ start: subscribedAt, end: now });
        subscribedAt = null;
        break;
    }
  }
  if (subscribedAt !== null) {
    actions.push({ kind: 'downgrade', at: now, succeeds: true });
    changes.push({ start: subscribedAt, end: now });
  }
  const cutMinutes = new Set<number>();
  for (const change of changes) {
    cutMinutes.add(minuteOf(change.start));
    cutMinutes.add(minuteOf(change.end));
    for (let k = 1; calculationAt(change.start, k) <= change.end; k++) {
      cutMinutes.add(minuteOf(calculationAt(change.start, k)));
    }
  }
  for (const action of actions) {
    if (action.kind === 'report') {
      action.records = action.records.filter((record) => !cutMinutes.has(minuteOf(record.eventAt)));
    }
  }
  return actions;
}

function describeAction(action: Action): string {
  switch (action.kind) {
    case 'advance':
      return `advance to ${iso(action.to)}`;
    case 'report':
    case 'refused_report':
      return `${iso(action.at)} ${action.kind} ${action.reportId} [${action.records
        .map((record) => `${iso(record.eventAt)}×${record.requests}`)
        .join(', ')}]`;
    default:
      return `${iso(action.at)} ${action.kind}${'succeeds' in action && !action.succeeds ? ' (refused)' : ''}`;
  }
}

// ---------------------------------------------------------------------------------------------------
// The API as the runs see it

interface ApiInvoice {
  id: string;
  subscription_id: string;
  kind: 'cycle' | 'final';
  status: string;
  period: { start: string; end: string };
  lines: Array<{ kind: 'plan_fee' | 'usage'; quantity: number; amount: number }>;
  total: number;
}

let t: TestInstance;
let price: PlusPrice;

async function clockNow(): Promise<number> {
  const response = await t.call('GET', '/v1/test-clock');
  expect(response.status).toBe(200);
  return Date.parse(response.body.now);
}

function expectStatus(response: { status: number; body: unknown }, status: number, what: string) {
  if (response.status !== status) {
    throw new Error(`${what}: expected ${status}, got ${response.status} ${JSON.stringify(response.body)}`);
  }
}

const BILLING_DETAILS = {
  name: 'Property Test',
  email: 'billing@example.com',
  address: { line1: '1 Test Street', city: 'Testville', postal_code: '12345', country: 'US' },
};

/** Runs one resolved plan for a fresh org and checks every invariant; throws on the first violation. */
async function runCase(steps: readonly Step[]) {
  const startMs = await clockNow();
  // Every run (shrinking included) moves the shared clock on; cards in these runs expire in 2099.
  fc.pre(startMs < Date.UTC(2095, 0, 1));
  const owner = await signUpOwner(t, { email: `billing-${randomBytes(6).toString('hex')}@example.com` });
  const registered = await t.call('POST', `/v1/orgs/${owner.orgId}/runtimes`, {
    cookie: owner.cookie,
    body: { name: 'property-runtime' },
  });
  expectStatus(registered, 201, 'register a runtime');
  const runtimeToken = registered.body.token as string;
  const actions = resolvePlan(startMs, steps);
  const model = new BillingModel(price);
  const state = { cookie: owner.cookie, lastLogin: startMs, now: startMs };
  let paymentMethodId: string | undefined;
  let lastReport: { reportId: string; records: EventRecord[] } | undefined;
  const done: string[] = [];

  const fail = (message: string): never => {
    throw new Error(
      `${message}\n  run started at ${iso(startMs)} (FC_CLOCK_START), org ${owner.orgId}\n  actions:\n    ${done.join('\n    ')}`,
    );
  };
  const check = (condition: boolean, message: () => string) => {
    if (!condition) fail(message());
  };
  const expectAnswer = (response: { status: number; body: unknown }, status: number, what: string) =>
    check(
      response.status === status,
      () => `${what}: expected ${status}, got ${response.status} ${JSON.stringify(response.body)}`,
    );

  const logIn = async () => {
    const response = await t.call('POST', '/v1/auth/login', {
      body: { email: owner.email, password: owner.password, org_id: owner.orgId },
    });
    expectAnswer(response, 200, 'log in');
    state.cookie = response.cookie as string;
    state.lastLogin = state.now;
  };
  const moveTo = async (to: number) => {
    while (state.now < to) {
      const next = Math.min(to, state.now + MAX_JUMP);
      const response = await t.call('POST', '/v1/test-clock/advance', { body: { to: iso(next) } });
      expectAnswer(response, 200, `advance to ${iso(next)}`);
      check(response.body.failed === 0, () => `due work failed while advancing to ${iso(next)}`);
      state.now = next;
      if (state.now - state.lastLogin >= LOGIN_EVERY) await logIn();
    }
    model.advanceTo(to);
  };
  const send = (reportId: string, records: readonly EventRecord[]) =>
    t.call('POST', '/v1/runtime/usage', {
      token: runtimeToken,
      body: {
        report_id: reportId,
        usage: records.map((record) => ({ timestamp: iso(record.eventAt), requests: record.requests })),
      },
    });

  /** At most one active subscription, and the org's plan is its plan. */
  const checkPlan = async () => {
    const active = model.active;
    const billing = await t.call('GET', `/v1/orgs/${owner.orgId}/billing`, { cookie: state.cookie });
    expectAnswer(billing, 200, 'billing overview');
    const org = await t.call('GET', `/v1/orgs/${owner.orgId}`, { cookie: state.cookie });
    expectAnswer(org, 200, 'org');
    const plan = active ? 'plus' : 'free';
    check(
      billing.body.plan === plan && org.body.plan === plan,
      () => `plan: expected ${plan}, billing says ${billing.body.plan}, org says ${org.body.plan}`,
    );
    check(
      (billing.body.subscription?.id ?? null) === (active?.id ?? null),
      () => `active subscription: expected ${active?.id ?? 'none'}, got ${JSON.stringify(billing.body.subscription)}`,
    );
    if (active) {
      check(billing.body.subscription.status === 'active', () => 'the active subscription is not active');
      const k = periodIndexAt(active.startedAt, state.now);
      check(
        billing.body.upcoming?.calculation_at === iso(calculationAt(active.startedAt, k)) &&
          billing.body.upcoming?.billing_at === iso(billingAt(active.startedAt, k)),
        () => `upcoming: expected C_${k} and B_${k}, got ${JSON.stringify(billing.body.upcoming)}`,
      );
    }
  };

  for (const action of actions) {
    done.push(describeAction(action));
    switch (action.kind) {
      case 'advance':
        await moveTo(action.to);
        await checkPlan();
        break;
      case 'report': {
        const response = await send(action.reportId, action.records);
        const seq = model.nextSeq();
        expectAnswer(response, 200, `report ${action.reportId}`);
        const requests = action.records.reduce((sum, record) => sum + record.requests, 0);
        check(
          response.body.duplicate === false && response.body.requests === requests,
          () => `report answer ${JSON.stringify(response.body)}`,
        );
        model.accept(action.records, seq);
        lastReport = action;
        break;
      }
      case 'refused_report': {
        const response = await send(action.reportId, action.records);
        model.nextSeq();
        check(
          response.status === 400 && response.body.error?.code === 'timestamp_out_of_range',
          () => `refused report: got ${response.status} ${JSON.stringify(response.body)}`,
        );
        break;
      }
      case 'resend': {
        if (!lastReport) break;
        const response = await send(lastReport.reportId, lastReport.records);
        model.nextSeq();
        check(
          response.status === 200 && response.body.duplicate === true,
          () => `resent report: got ${response.status} ${JSON.stringify(response.body)}`,
        );
        break;
      }
      case 'upgrade': {
        if (action.succeeds && !paymentMethodId) {
          const added = await t.call('POST', `/v1/orgs/${owner.orgId}/payment-methods`, {
            cookie: state.cookie,
            body: {
              card: { number: '4242424242424242', exp_month: 12, exp_year: 2099, cvc: '123' },
              billing_details: BILLING_DETAILS,
            },
          });
          expectAnswer(added, 201, 'add a card');
          paymentMethodId = added.body.id as string;
        }
        const response = await t.call('POST', `/v1/orgs/${owner.orgId}/subscription`, {
          cookie: state.cookie,
          body: { plan: 'plus', payment_method_id: paymentMethodId ?? 'pm_none' },
        });
        const seq = model.nextSeq();
        if (action.succeeds) {
          expectAnswer(response, 200, 'upgrade');
          check(response.body.started_at === iso(action.at), () => `started_at ${response.body.started_at}`);
          model.start(response.body.id, action.at, seq);
        } else {
          // Already subscribed, or (no card yet) nothing to subscribe with: never a second subscription.
          check(
            response.status === 409 || response.status === 404,
            () => `second upgrade: got ${response.status} ${JSON.stringify(response.body)}`,
          );
        }
        await checkPlan();
        break;
      }
      case 'downgrade': {
        const response = await t.call('DELETE', `/v1/orgs/${owner.orgId}/subscription`, { cookie: state.cookie });
        const seq = model.nextSeq();
        if (action.succeeds) {
          expectAnswer(response, 200, 'downgrade');
          const ended = response.body.subscription;
          check(
            ended.id === model.active?.id && ended.status === 'ended' && ended.ended_at === iso(action.at),
            () => `ended subscription ${JSON.stringify(ended)}`,
          );
          model.end(action.at, seq);
        } else {
          check(
            response.status === 409 && response.body.error?.code === 'no_subscription',
            () => `downgrade on free: got ${response.status} ${JSON.stringify(response.body)}`,
          );
        }
        await checkPlan();
        break;
      }
    }
  }

  // Every invoice of the org, all pages.
  const invoices: ApiInvoice[] = [];
  let cursor: string | null = null;
  do {
    const query: string = cursor ? `?limit=7&cursor=${encodeURIComponent(cursor)}` : '?limit=7';
    const page = await t.call('GET', `/v1/orgs/${owner.orgId}/invoices${query}`, { cookie: state.cookie });
    expectAnswer(page, 200, 'list invoices');
    invoices.push(...page.body.data);
    cursor = page.body.next_cursor;
  } while (cursor);
  check(new Set(invoices.map((invoice) => invoice.id)).size === invoices.length, () => 'an invoice listed twice');

  const show = (invoice: ApiInvoice) =>
    `${invoice.kind} ${invoice.status} ${invoice.period.start}..${invoice.period.end} ${JSON.stringify(invoice.lines)} total ${invoice.total}`;
  const showModel = (invoice: ModelInvoice) =>
    `${invoice.kind} ${invoice.status} ${iso(invoice.periodStart)}..${iso(invoice.periodEnd)} fee ${invoice.planFee} usage ${invoice.usage}`;

  // Each invoice: no negative amount, total = sum of lines, one plan_fee and one usage line priced right.
  for (const invoice of invoices) {
    check(
      invoice.total >= 0 && invoice.lines.every((line) => line.amount >= 0 && line.quantity >= 0),
      () => `negative amount: ${show(invoice)}`,
    );
    check(
      invoice.total === invoice.lines.reduce((sum, line) => sum + line.amount, 0),
      () => `total is not the sum of the lines: ${show(invoice)}`,
    );
    const fees = invoice.lines.filter((line) => line.kind === 'plan_fee');
    const usage = invoice.lines.filter((line) => line.kind === 'usage');
    check(fees.length === 1 && usage.length === 1, () => `lines: ${show(invoice)}`);
    check(fees[0].amount <= Number(price.monthlyFee), () => `plan fee above the monthly fee: ${show(invoice)}`);
    check(
      BigInt(usage[0].amount) === overageAmount(price, BigInt(usage[0].quantity)),
      () => `usage amount: ${show(invoice)}`,
    );
  }

  // Prorated fees over one period never add up to more than the monthly fee (void invoices aside).
  const feeByPeriod = new Map<string, number>();
  for (const invoice of invoices) {
    if (invoice.status === 'void') continue;
    const key = `${invoice.subscription_id}|${invoice.period.start}`;
    const fee = invoice.lines.find((line) => line.kind === 'plan_fee')?.amount ?? 0;
    feeByPeriod.set(key, (feeByPeriod.get(key) ?? 0) + fee);
  }
  for (const [key, fee] of feeByPeriod) {
    check(fee <= Number(price.monthlyFee), () => `plan fees of period ${key} add up to ${fee}`);
  }

  // Each subscription bills exactly the requests with event time in [S, D) accepted before D, once.
  const ids = new Set(model.subscriptions.map((subscription) => subscription.id));
  for (const invoice of invoices) {
    check(ids.has(invoice.subscription_id), () => `an invoice of an unknown subscription: ${show(invoice)}`);
  }
  for (const subscription of model.subscriptions) {
    const billed = invoices
      .filter((invoice) => invoice.subscription_id === subscription.id && invoice.status !== 'void')
      .reduce((sum, invoice) => sum + BigInt(invoice.lines.find((line) => line.kind === 'usage')?.quantity ?? 0), 0n);
    const expected = model.billableTo(subscription);
    check(
      billed === expected,
      () =>
        `subscription ${iso(subscription.startedAt)}..${iso(subscription.endedAt ?? 0)} billed ${billed} requests, expected ${expected}\n  invoices:\n    ${invoices
          .filter((invoice) => invoice.subscription_id === subscription.id)
          .map(show)
          .join('\n    ')}`,
    );
  }

  // Invoice by invoice, against the simulation: which invoices exist, their status, fee and usage.
  const key = (subscriptionId: string, kind: string, periodStart: string) => `${subscriptionId}|${kind}|${periodStart}`;
  const actual = new Map(
    invoices.map((invoice) => [key(invoice.subscription_id, invoice.kind, invoice.period.start), invoice]),
  );
  const expected = new Map(
    model.invoices.map((invoice) => [key(invoice.subscriptionId, invoice.kind, iso(invoice.periodStart)), invoice]),
  );
  const mismatch = () =>
    `invoices differ from the model\n  api:\n    ${invoices.map(show).join('\n    ')}\n  model:\n    ${model.invoices.map(showModel).join('\n    ')}`;
  check(
    actual.size === invoices.length && expected.size === model.invoices.length && actual.size === expected.size,
    mismatch,
  );
  for (const [id, want] of expected) {
    const got = actual.get(id);
    if (!got) fail(mismatch());
    const invoice = got as ApiInvoice;
    check(
      invoice.status === want.status &&
        invoice.period.end === iso(want.periodEnd) &&
        BigInt(invoice.lines.find((line) => line.kind === 'plan_fee')?.amount ?? -1) === want.planFee &&
        BigInt(invoice.lines.find((line) => line.kind === 'usage')?.quantity ?? -1) === want.usage,
      mismatch,
    );
  }

  // Usage shows every accepted request, billed or not, once.
  const usage = await t.call(
    'GET',
    `/v1/orgs/${owner.orgId}/usage?start=${iso(startMs - 36 * DAY)}&end=${iso(state.now + DAY)}&granularity=day`,
    { cookie: state.cookie },
  );
  expectAnswer(usage, 200, 'usage');
  check(
    BigInt(usage.body.total) === model.totalRequests(),
    () => `usage total ${usage.body.total}, accepted ${model.totalRequests()}`,
  );
}

// ---------------------------------------------------------------------------------------------------

beforeAll(async () => {
  t = await createTestInstance({ start: process.env.FC_CLOCK_START ?? '2027-01-31T09:30:00.000Z' });
  const plans = await t.call('GET', '/v1/plans');
  const plus = plans.body.data.find((plan: { id: string }) => plan.id === 'plus');
  price = {
    monthlyFee: BigInt(plus.monthly_fee),
    includedRequests: BigInt(plus.included_requests),
    overagePerMillion: BigInt(plus.overage_per_million),
  };
  expect(price.monthlyFee).toBe(10000n);
});
afterAll(async () => {
  await t?.close();
});

describe('billing properties', () => {
  // Found by the property (seed 1837652183): requests reported ahead (there 16 s, here 2 minutes, so
  // never in S's own minute), then an upgrade at that instant; their event time is after S, so the
  // subscription bills them (spec 3).
  it('bills requests reported ahead of an upgrade to the subscription they fall in', async () => {
    await runCase([
      { kind: 'report', records: [{ offset: 120, requests: 1 }] },
      { kind: 'upgrade' },
      { kind: 'into_calculation', seconds: 202_407 },
    ]);
  });

  it('moves requests reported ahead of a downgrade to a subscription started at that instant', async () => {
    await runCase([
      { kind: 'upgrade' },
      { kind: 'advance', seconds: 3 * 86_400 },
      {
        kind: 'report',
        records: [
          { offset: 200, requests: 2_500_000 },
          { offset: -100, requests: 3 },
        ],
      },
      { kind: 'downgrade' },
      { kind: 'upgrade' },
      { kind: 'advance', seconds: 40 * 86_400 },
    ]);
  });

  it('bills every request once within its subscription, never outside it, at consistent amounts', async () => {
    const seed = process.env.FC_SEED === undefined ? undefined : Number(process.env.FC_SEED);
    const path = process.env.FC_PATH;
    await fc.assert(fc.asyncProperty(planArbitrary, runCase), {
      numRuns: NUM_RUNS,
      ...(seed === undefined ? {} : { seed }),
      ...(path === undefined ? {} : { path }),
      // Shrinking runs more plans on the same clock; stop it before the test times out.
      interruptAfterTimeLimit: 240_000,
      markInterruptAsFailure: true,
    });
  }, 300_000);
});
