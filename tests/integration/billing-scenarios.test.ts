import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  billingHelpers,
  CARD_DECLINED,
  CARD_FAILS,
  CARD_OK,
  DAY,
  expectError,
  expectStatus,
  HOUR,
  iso,
  line,
  minus72h,
  money,
  ms,
  overage,
  type Person,
  PLUS,
  type Price,
  plusMonths,
  prorated,
} from '../helpers/billing.ts';
import { createTestInstance, signUpOwner, type TestInstance } from '../helpers/instance.ts';

// Every expected amount and instant below is worked out here from the spec's formulas (sections 3–5),
// never read from the implementation.

const usageOf = (invoice: any) => BigInt(line(invoice, 'usage').quantity);
const feeOf = (invoice: any) => BigInt(line(invoice, 'plan_fee').amount);

/** Checks an invoice's lines and total against the spec: a fee line and a usage line. */
function expectAmounts(invoice: any, fee: bigint, requests: bigint, terms = PLUS) {
  expect(feeOf(invoice)).toBe(fee);
  expect(line(invoice, 'plan_fee').quantity).toBe(1);
  expect(usageOf(invoice)).toBe(requests);
  const usageAmount = overage(requests, terms.included, terms.perMillion);
  expect(BigInt(line(invoice, 'usage').amount)).toBe(usageAmount);
  expect(BigInt(invoice.total)).toBe(fee + usageAmount);
  expect(invoice.currency).toBe('usd');
}

describe.each([
  {
    year: 2027,
    start: '2027-01-31T10:00:00.000Z',
    billing: ['2027-02-28T10:00:00.000Z', '2027-03-31T10:00:00.000Z', '2027-04-30T10:00:00.000Z'],
    calculation: ['2027-02-25T10:00:00.000Z', '2027-03-28T10:00:00.000Z', '2027-04-27T10:00:00.000Z'],
  },
  {
    year: 2028,
    start: '2028-01-31T10:00:00.000Z',
    billing: ['2028-02-29T10:00:00.000Z', '2028-03-31T10:00:00.000Z', '2028-04-30T10:00:00.000Z'],
    calculation: ['2028-02-26T10:00:00.000Z', '2028-03-28T10:00:00.000Z', '2028-04-27T10:00:00.000Z'],
  },
])('scenario 1: an upgrade on Jan 31 $year, billed at month ends', ({ start, billing, calculation }) => {
  let t: TestInstance;
  let h: ReturnType<typeof billingHelpers>;
  beforeAll(async () => {
    t = await createTestInstance({ start: iso(ms(start) - HOUR) });
    h = billingHelpers(t);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('calculates each invoice exactly 72 h before its billing date, emails the admins, and charges it then', async () => {
    // The anchors as the spec defines them agree with the literal dates of the calendar.
    for (const [index, expected] of billing.entries()) {
      expect(plusMonths(start, index + 1)).toBe(expected);
      expect(minus72h(expected)).toBe(calculation[index]);
    }
    const owner = await signUpOwner(t);
    const admin = await h.join(owner, ['org_admin']);
    const reader = await h.join(owner, ['member']);
    const card = await h.addCard(owner);
    expectStatus(card, 201);
    await h.advance(start, owner);
    const upgraded = await t.call('POST', `/v1/orgs/${owner.orgId}/subscription`, {
      cookie: owner.cookie,
      body: { plan: 'plus', payment_method_id: card.body.id },
    });
    expectStatus(upgraded, 200);
    const subscription = upgraded.body;
    expect(subscription).toMatchObject({
      plan: 'plus',
      status: 'active',
      started_at: start,
      ended_at: null,
      payment_method_id: card.body.id,
      current_period: { start, end: billing[0] },
      next_calculation_at: calculation[0],
      next_billing_at: billing[0],
    });
    expect((await h.org(owner)).plan).toBe('plus');
    // Nothing is charged at sign-up: all charges are in arrears.
    expect(await h.invoices(owner)).toEqual([]);
    expect(await h.charges()).toEqual([]);

    const gateway = await h.runtime(owner);
    // Requests per period, the last part reported 1 ms before the calculation instant.
    const requests = [1_234_567n, 999_999n, 3_000_001n];
    await gateway.report({ [start]: 1_000_000 });
    const starts = [start, ...billing];
    for (let k = 1; k <= 3; k++) {
      const B = billing[k - 1];
      const C = calculation[k - 1];
      const justBefore = iso(ms(C) - 1);
      await h.advance(justBefore, owner);
      const early = k === 1 ? 234_567 : k === 2 ? 0 : 1_000_001;
      if (early) await gateway.report({ [justBefore]: early });
      let list = await h.invoices(owner);
      expect(list, `no invoice ${k} before C_${k}`).toHaveLength(k - 1);
      expect(list.every((invoice) => invoice.status === 'paid')).toBe(true);

      await h.advance(C, owner);
      list = await h.invoices(owner);
      expect(list).toHaveLength(k);
      const invoice = list[0];
      expect(invoice).toMatchObject({
        kind: 'cycle',
        status: 'open',
        org_id: owner.orgId,
        subscription_id: subscription.id,
        period: { start: starts[k - 1], end: B },
        calculated_at: C,
        billing_at: B,
        paid_at: null,
      });
      expect(invoice.number).toMatch(/\S/);
      expectAmounts(invoice, PLUS.fee, requests[k - 1]);
      const total = BigInt(invoice.total);
      // The members who administer the org are told the amount and the date it will be charged.
      for (const person of [owner, admin]) {
        const mails = (await h.outbox(person.email)).filter((mail) => mail.kind === 'invoice_upcoming');
        expect(mails, `upcoming-invoice emails to ${person.email}`).toHaveLength(k);
        const text = `${mails[0].subject}\n${mails[0].body}`;
        expect(text).toContain(money(total));
        expect(text).toContain(B.slice(0, 10));
      }
      expect((await h.outbox(reader.email)).filter((mail) => mail.kind === 'invoice_upcoming')).toEqual([]);
      // The overview shows the calculated invoice as the next charge.
      const overview = await h.billing(owner);
      expect(overview.upcoming).toMatchObject({ calculation_at: C, billing_at: B });
      expect(overview.upcoming.estimate.total).toBe(Number(total));
      // Usage at C_k belongs to the next invoice.
      if (k < 3) await gateway.report({ [C]: k === 1 ? 999_999 : 2_000_000 });

      await h.advance(iso(ms(B) - 1), owner);
      expect((await h.invoice(owner, invoice.id)).status).toBe('open');
      expect(await h.chargesOf(invoice.id)).toEqual([]);
      await h.advance(B, owner);
      const paid = await h.invoice(owner, invoice.id);
      expect(paid).toMatchObject({ status: 'paid', paid_at: B });
      expect(BigInt(paid.total)).toBe(total);
      const charged = await h.chargesOf(invoice.id);
      expect(charged).toHaveLength(1);
      expect(charged[0]).toMatchObject({ status: 'succeeded', amount: total });
    }
    // Three invoices, three charges, each once.
    expect(await h.charges()).toHaveLength(3);
  });
});

describe('scenario 2 and 10: a downgrade in the middle of a period', () => {
  const S = '2027-01-31T10:00:00.000Z';
  const B1 = '2027-02-28T10:00:00.000Z';
  const B2 = '2027-03-31T10:00:00.000Z';
  const D = '2027-03-15T10:00:00.000Z';
  let t: TestInstance;
  let h: ReturnType<typeof billingHelpers>;
  beforeAll(async () => {
    t = await createTestInstance({ start: S });
    h = billingHelpers(t);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('bills the prorated fee and unbilled usage at once, the plan is free at once, and nothing follows', async () => {
    const owner = await signUpOwner(t);
    const { subscription } = await h.subscribePlus(owner);
    const gateway = await h.runtime(owner);
    await gateway.report({ [S]: 500_000 });
    await h.advance(B1, owner);
    const [first] = await h.invoices(owner);
    expect(first).toMatchObject({ status: 'paid', paid_at: B1 });
    expectAmounts(first, PLUS.fee, 500_000n);
    await h.advance('2027-03-01T10:00:00.000Z', owner);
    await gateway.report({ '2027-03-01T09:00:00.000Z': 1_600_000 });
    await h.advance(D, owner);

    // The spec's reference vector, and the formula behind it.
    const fee = prorated(PLUS.fee, B1, D, B2);
    expect(fee).toBe(4839n);
    const preview = await h.preview(owner, 'free');
    expectStatus(preview, 200);
    expect(preview.body.effective_at).toBe(D);
    expect(preview.body.voids_invoice_id ?? null).toBeNull();
    expect(preview.body.invoice).toMatchObject({ kind: 'final', period: { start: B1, end: D } });
    expectAmounts(preview.body.invoice, fee, 1_600_000n);
    // A preview writes nothing.
    expect(await h.invoices(owner)).toHaveLength(1);
    expect((await h.org(owner)).plan).toBe('plus');

    const downgraded = await h.downgrade(owner);
    expectStatus(downgraded, 200);
    expect(downgraded.body.subscription).toMatchObject({
      id: subscription.id,
      status: 'ended',
      ended_at: D,
      plan: 'plus',
    });
    const final = downgraded.body.final_invoice;
    expect(final).toMatchObject({
      kind: 'final',
      status: 'paid',
      paid_at: D,
      subscription_id: subscription.id,
      period: { start: B1, end: D },
    });
    expectAmounts(final, fee, 1_600_000n);
    expect(BigInt(final.total)).toBe(4839n + 1200n);
    // The preview was the invoice, exactly.
    expect(final.lines).toEqual(preview.body.invoice.lines);
    expect(final.total).toBe(preview.body.invoice.total);
    expect(await h.chargesOf(final.id)).toEqual([
      { invoiceId: final.id, attempt: 1, status: 'succeeded', amount: 6039n },
    ]);

    expect((await h.org(owner)).plan).toBe('free');
    const overview = await h.billing(owner);
    expect(overview).toMatchObject({ plan: 'free', subscription: null, upcoming: null });
    const again = await h.downgrade(owner);
    expectError(again, 409, 'no_subscription');

    // Months later: no invoice, no charge, no email about one.
    await h.advance('2027-08-01T00:00:00.000Z', owner);
    const list = await h.invoices(owner);
    expect(list.map((invoice) => invoice.id).sort()).toEqual([first.id, final.id].sort());
    expect(await h.charges()).toHaveLength(2);
    expect((await h.outbox(owner.email)).filter((mail) => mail.kind === 'invoice_upcoming')).toHaveLength(1);
  });
});

describe('scenario 3 and 10: a downgrade between calculation and collection', () => {
  const S = '2027-01-31T10:00:00.000Z';
  const C1 = '2027-02-25T10:00:00.000Z';
  const B1 = '2027-02-28T10:00:00.000Z';
  const D = '2027-02-27T10:00:00.000Z';
  let t: TestInstance;
  let h: ReturnType<typeof billingHelpers>;
  beforeAll(async () => {
    t = await createTestInstance({ start: S });
    h = billingHelpers(t);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('voids the open invoice, bills its usage again on the final invoice, charges once; B_k does nothing', async () => {
    const owner = await signUpOwner(t);
    const { subscription } = await h.subscribePlus(owner);
    const gateway = await h.runtime(owner);
    await h.advance('2027-02-01T10:00:00.000Z', owner);
    await gateway.report({ '2027-02-01T10:00:00.000Z': 1_500_000 });
    await h.advance(C1, owner);
    const [open] = await h.invoices(owner);
    expect(open).toMatchObject({ status: 'open', calculated_at: C1, billing_at: B1 });
    expectAmounts(open, PLUS.fee, 1_500_000n);
    await h.advance(iso(ms(C1) + HOUR), owner);
    await gateway.report({ [iso(ms(C1) + HOUR)]: 300_000 });
    await h.advance(D, owner);

    const fee = prorated(PLUS.fee, S, D, B1);
    expect(fee).toBe(9643n); // 27 of 28 days
    const preview = await h.preview(owner, 'free');
    expectStatus(preview, 200);
    expect(preview.body.voids_invoice_id).toBe(open.id);
    expect(preview.body.invoice).toMatchObject({ kind: 'final', period: { start: S, end: D } });
    expectAmounts(preview.body.invoice, fee, 1_800_000n);
    expect((await h.invoice(owner, open.id)).status).toBe('open');

    const downgraded = await h.downgrade(owner);
    expectStatus(downgraded, 200);
    const final = downgraded.body.final_invoice;
    expect(final).toMatchObject({ kind: 'final', status: 'paid', paid_at: D, subscription_id: subscription.id });
    // The usage line counts the voided invoice's requests again, with those after C_1.
    expectAmounts(final, fee, 1_800_000n);
    expect(final.lines).toEqual(preview.body.invoice.lines);
    expect(final.total).toBe(preview.body.invoice.total);
    expect(await h.invoice(owner, open.id)).toMatchObject({ status: 'void', paid_at: null });
    expect(await h.chargesOf(final.id)).toHaveLength(1);
    expect(await h.chargesOf(open.id)).toEqual([]);

    // The collection at B_1 finds the invoice void and does nothing.
    await h.advance(B1, owner);
    expect(await h.invoice(owner, open.id)).toMatchObject({ status: 'void', paid_at: null });
    expect(await h.chargesOf(open.id)).toEqual([]);
    await h.advance('2027-06-01T00:00:00.000Z', owner);
    const list = await h.invoices(owner);
    expect(list).toHaveLength(2);
    expect(list.find((invoice) => invoice.id === final.id).status).toBe('paid');
    expect(await h.charges()).toHaveLength(1);
  });
});

describe('scenario 4: overage, late events, usage before the start and after the end', () => {
  const T0 = '2027-01-01T00:00:00.000Z';
  const S = '2027-01-10T00:00:00.000Z';
  const B1 = plusMonths(S, 1);
  const C1 = minus72h(B1);
  const B2 = plusMonths(S, 2);
  const C2 = minus72h(B2);
  const D = '2027-03-20T00:00:00.000Z';
  let t: TestInstance;
  let h: ReturnType<typeof billingHelpers>;
  beforeAll(async () => {
    t = await createTestInstance({ start: T0 });
    h = billingHelpers(t);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('bills exactly the subscription’s requests, each once, rounding overage half up', async () => {
    expect([B1, C1, B2, C2]).toEqual([
      '2027-02-10T00:00:00.000Z',
      '2027-02-07T00:00:00.000Z',
      '2027-03-10T00:00:00.000Z',
      '2027-03-07T00:00:00.000Z',
    ]);
    // Half a cent rounds up; just under half rounds down.
    expect(overage(1_000_250n)).toBe(1n);
    expect(overage(1_000_249n)).toBe(0n);
    expect(overage(2_345_750n)).toBe(2692n);

    const owner = await signUpOwner(t);
    const gateway = await h.runtime(owner);
    // On Free: kept and shown, never billed.
    await gateway.report({ [T0]: 700_000 });
    await h.advance(S, owner);
    await gateway.report({ '2027-01-09T23:00:00.000Z': 50_000 });
    const { subscription } = await h.subscribePlus(owner);
    // A late event from before S arriving after the upgrade is still Free usage.
    await gateway.report({ [iso(ms(S) - 60_000)]: 40_000, [S]: 1_000_000 });
    await h.advance(iso(ms(C1) - 60_000), owner);
    await gateway.report({ [iso(ms(C1) - 60_000)]: 250 });

    await h.advance(C1, owner);
    const [first] = await h.invoices(owner);
    expectAmounts(first, PLUS.fee, 1_000_250n);
    expect(line(first, 'usage').amount).toBe(1);

    // A late event: its time is before C_1, it arrives after C_1. It goes on invoice 2, counted once.
    await h.advance(iso(ms(C1) + HOUR), owner);
    const late = { [iso(ms(C1) - 2 * HOUR)]: 1_000 };
    expect((await gateway.report(late, 'late-1')).duplicate).toBe(false);
    expect((await gateway.report(late, 'late-1')).duplicate).toBe(true);
    await gateway.report({ [iso(ms(C1) + HOUR)]: 2_344_750 });
    await h.advance(C2, owner);
    const [second] = await h.invoices(owner);
    expect(second.id).not.toBe(first.id);
    expect(second.period).toEqual({ start: B1, end: B2 });
    expectAmounts(second, PLUS.fee, 2_345_750n);
    expect(line(second, 'usage').amount).toBe(2692);
    expectAmounts(await h.invoice(owner, first.id), PLUS.fee, 1_000_250n);

    await h.advance(iso(ms(C2) + HOUR), owner);
    await gateway.report({ [iso(ms(C2) + HOUR)]: 100 });
    await h.advance(iso(ms(D) - HOUR), owner);
    await gateway.report({ [iso(ms(D) - HOUR)]: 10 });
    await h.advance(D, owner);
    const downgraded = await h.downgrade(owner);
    expectStatus(downgraded, 200);
    const final = downgraded.body.final_invoice;
    expect(final.subscription_id).toBe(subscription.id);
    expectAmounts(final, prorated(PLUS.fee, B2, D, plusMonths(S, 3)), 110n);
    expect(feeOf(final)).toBe(3226n); // 10 of 31 days

    // Arriving after the subscription ended, for a time while it was active: shown, never billed.
    await h.advance(iso(ms(D) + HOUR), owner);
    await gateway.report({ [iso(ms(D) - 30 * 60_000)]: 5_000_000 });
    const around = await t.call(
      'GET',
      `/v1/orgs/${owner.orgId}/usage?start=${iso(ms(D) - 2 * HOUR)}&end=${iso(ms(D) + 2 * HOUR)}&granularity=hour`,
      { cookie: owner.cookie },
    );
    expectStatus(around, 200);
    expect(around.body.total).toBe(5_000_010);

    await h.advance('2027-06-01T00:00:00.000Z', owner);
    const list = await h.invoices(owner);
    expect(list.map((invoice) => invoice.id).sort()).toEqual([first.id, second.id, final.id].sort());
    const billed = list.reduce((sum, invoice) => sum + usageOf(invoice), 0n);
    expect(billed).toBe(1_000_250n + 2_345_750n + 110n);
    const everything = await t.call(
      'GET',
      `/v1/orgs/${owner.orgId}/usage?start=2027-01-01T00:00:00.000Z&end=2027-06-01T00:00:00.000Z`,
      { cookie: owner.cookie },
    );
    expectStatus(everything, 200);
    expect(BigInt(everything.body.total)).toBe(billed + 700_000n + 50_000n + 40_000n + 5_000_000n);
  });
});

describe('scenario 4b: a calculation instant in the middle of a minute', () => {
  // Upgrades happen at any millisecond, so C_k rarely falls on a whole minute: [S, C_k) is exact anyway.
  const S = '2027-01-15T08:20:30.500Z';
  const B1 = plusMonths(S, 1);
  const C1 = minus72h(B1);
  let t: TestInstance;
  let h: ReturnType<typeof billingHelpers>;
  beforeAll(async () => {
    t = await createTestInstance({ start: S });
    h = billingHelpers(t);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('bills requests before C_k on invoice k and those from C_k on the next, even within one minute', async () => {
    expect(C1).toBe('2027-02-12T08:20:30.500Z');
    const owner = await signUpOwner(t);
    await h.subscribePlus(owner);
    const gateway = await h.runtime(owner);
    await gateway.report({ [S]: 1_000_000 });
    const justBefore = iso(ms(C1) - 1);
    await h.advance(justBefore, owner);
    // Runtimes may report up to 5 minutes ahead of the clock.
    await gateway.report({
      '2027-02-12T08:20:00.000Z': 5,
      [justBefore]: 7,
      [C1]: 11,
      '2027-02-12T08:20:50.000Z': 13,
      '2027-02-12T08:21:10.000Z': 17,
    });
    await h.advance(C1, owner);
    const [first] = await h.invoices(owner);
    expect(usageOf(first)).toBe(1_000_000n + 5n + 7n);
    await h.advance(B1, owner);
    await h.advance(minus72h(plusMonths(S, 2)), owner);
    const [second] = await h.invoices(owner);
    expect(second.id).not.toBe(first.id);
    expect(usageOf(second)).toBe(11n + 13n + 17n);
    // The chart still puts them in their hour.
    const usage = await t.call(
      'GET',
      `/v1/orgs/${owner.orgId}/usage?start=2027-02-12T08:00:00.000Z&end=2027-02-12T09:00:00.000Z&granularity=hour`,
      { cookie: owner.cookie },
    );
    expectStatus(usage, 200);
    expect(usage.body.series).toEqual([{ start: '2027-02-12T08:00:00.000Z', requests: 5 + 7 + 11 + 13 + 17 }]);
  });
});

describe('scenario 5: a declined card at upgrade', () => {
  let t: TestInstance;
  let h: ReturnType<typeof billingHelpers>;
  beforeAll(async () => {
    t = await createTestInstance({ start: '2027-01-31T10:00:00.000Z' });
    h = billingHelpers(t);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('is refused with card_declined; nothing is created and the plan stays free', async () => {
    const owner = await signUpOwner(t);
    const declined = await h.addCard(owner, CARD_DECLINED);
    expectError(declined, 402, 'card_declined');
    const methods = await t.call('GET', `/v1/orgs/${owner.orgId}/payment-methods`, { cookie: owner.cookie });
    expectStatus(methods, 200);
    expect(methods.body.data).toEqual([]);
    const overview = await h.billing(owner);
    expect(overview).toMatchObject({ plan: 'free', subscription: null, upcoming: null, payment_method: null });
    expect((await h.audit(owner)).some((event) => event.action === 'payment_method.added')).toBe(false);
    // Without a card there is nothing to upgrade with.
    const upgrade = await t.call('POST', `/v1/orgs/${owner.orgId}/subscription`, {
      cookie: owner.cookie,
      body: { plan: 'plus', payment_method_id: 'pm_does_not_exist' },
    });
    expect(upgrade.status).toBe(404);
    expect((await h.org(owner)).plan).toBe('free');
    expect(await h.invoices(owner)).toEqual([]);
  });
});

describe('scenario 6: a card that fails every charge, through all retries', () => {
  const S = '2027-01-31T10:00:00.000Z';
  const C1 = '2027-02-25T10:00:00.000Z';
  const B1 = '2027-02-28T10:00:00.000Z';
  const B2 = '2027-03-31T10:00:00.000Z';
  let t: TestInstance;
  let h: ReturnType<typeof billingHelpers>;
  beforeAll(async () => {
    t = await createTestInstance({ start: S });
    h = billingHelpers(t);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('goes past due, is retried at +1, +3, +7 days, then is given up and the subscription ends', async () => {
    const owner = await signUpOwner(t);
    const { subscription } = await h.subscribePlus(owner, CARD_FAILS);
    const gateway = await h.runtime(owner);
    await gateway.report({ [S]: 1_100_000 });
    await h.advance(C1, owner);
    const [invoice] = await h.invoices(owner);
    expectAmounts(invoice, PLUS.fee, 1_100_000n);
    expect(invoice.status).toBe('open');

    await h.advance(B1, owner);
    expect((await h.invoice(owner, invoice.id)).status).toBe('past_due');
    expect((await h.chargesOf(invoice.id)).map((charge) => charge.status)).toEqual(['failed']);
    await h.advance(iso(ms(B1) + 12 * HOUR), owner);
    await gateway.report({ [iso(ms(B1) + 12 * HOUR)]: 50_000 });

    let attempts = 1;
    for (const days of [1, 3, 7]) {
      const retryAt = iso(ms(B1) + days * DAY);
      await h.advance(iso(ms(retryAt) - 1), owner);
      expect((await h.invoice(owner, invoice.id)).status).toBe('past_due');
      expect(await h.chargesOf(invoice.id)).toHaveLength(attempts);
      expect((await h.billing(owner)).subscription?.id).toBe(subscription.id);
      await h.advance(retryAt, owner);
      attempts++;
      expect(await h.chargesOf(invoice.id)).toHaveLength(attempts);
      expect((await h.invoice(owner, invoice.id)).status).toBe(days === 7 ? 'uncollectible' : 'past_due');
    }
    const givenUpAt = iso(ms(B1) + 7 * DAY);

    // The subscription ended at that instant as a downgrade does.
    expect((await h.org(owner)).plan).toBe('free');
    const overview = await h.billing(owner);
    expect(overview).toMatchObject({ plan: 'free', subscription: null, upcoming: null });
    const ended = (await h.audit(owner)).filter((event) => event.action === 'subscription.ended');
    expect(ended).toHaveLength(1);
    expect(ended[0]).toMatchObject({ reason: 'payment_failed', target: { id: subscription.id } });
    expect(ended[0].created_at).toBe(givenUpAt);

    // Its final invoice: 7 days of the 31-day second period, tried once and given up at once.
    const list = await h.invoices(owner);
    expect(list).toHaveLength(2);
    const final = list.find((entry) => entry.kind === 'final');
    expect(final).toMatchObject({
      subscription_id: subscription.id,
      status: 'uncollectible',
      period: { start: B1, end: givenUpAt },
      paid_at: null,
    });
    expect(prorated(PLUS.fee, B1, givenUpAt, B2)).toBe(2258n);
    expectAmounts(final, 2258n, 50_000n);
    expect((await h.chargesOf(final.id)).map((charge) => charge.status)).toEqual(['failed']);

    // Nothing more: no invoices, no attempts, no emails about invoices.
    const before = (await h.charges()).length;
    await h.advance('2027-07-01T00:00:00.000Z', owner);
    expect(await h.invoices(owner)).toHaveLength(2);
    expect(await h.charges()).toHaveLength(before);
    expect((await h.invoice(owner, invoice.id)).status).toBe('uncollectible');
    expect((await h.invoice(owner, final.id)).status).toBe('uncollectible');
    expect((await h.outbox(owner.email)).filter((mail) => mail.kind === 'invoice_upcoming')).toHaveLength(1);
  });
});

describe('scenario 7: a new card while an invoice is past due', () => {
  const S = '2027-01-31T10:00:00.000Z';
  const B1 = '2027-02-28T10:00:00.000Z';
  const B2 = '2027-03-31T10:00:00.000Z';
  let t: TestInstance;
  let h: ReturnType<typeof billingHelpers>;
  beforeAll(async () => {
    t = await createTestInstance({ start: S });
    h = billingHelpers(t);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('collects at once with a good card, which becomes the subscription’s card; a failing one uses up no retry', async () => {
    // rescued adds a good card 2 days after B_1; early and late add another failing card before
    // the first retry and between the second and the third.
    const rescued = await signUpOwner(t);
    const early = await signUpOwner(t);
    const late = await signUpOwner(t);
    const subscriptions = new Map<Person, any>();
    for (const owner of [rescued, early, late]) {
      subscriptions.set(owner, (await h.subscribePlus(owner, CARD_FAILS)).subscription);
    }
    await h.advance(B1, rescued, early, late);
    const firstOf = async (owner: Person) => (await h.invoices(owner))[0];
    const invoices = new Map<Person, any>();
    for (const owner of [rescued, early, late]) {
      const invoice = await firstOf(owner);
      expect(invoice.status).toBe('past_due');
      invoices.set(owner, invoice);
    }

    await h.advance(iso(ms(B1) + 12 * HOUR), rescued, early, late);
    const earlyCard = await h.addCard(early, CARD_FAILS);
    expectStatus(earlyCard, 201);
    expect(earlyCard.body.collected_invoices).toEqual([{ id: invoices.get(early).id, status: 'past_due' }]);

    const rescueAt = iso(ms(B1) + 2 * DAY);
    await h.advance(rescueAt, rescued, early, late);
    const good = await h.addCard(rescued, CARD_OK);
    expectStatus(good, 201);
    expect(good.body.collected_invoices).toEqual([{ id: invoices.get(rescued).id, status: 'paid' }]);
    expect(await h.invoice(rescued, invoices.get(rescued).id)).toMatchObject({ status: 'paid', paid_at: rescueAt });
    const overview = await h.billing(rescued);
    expect(overview.subscription).toMatchObject({
      id: subscriptions.get(rescued).id,
      status: 'active',
      payment_method_id: good.body.id,
    });
    expect(overview.payment_method.id).toBe(good.body.id);
    expect(overview.payment_method.last4).toBe('4242');

    await h.advance(iso(ms(B1) + 5 * DAY), rescued, early, late);
    const lateCard = await h.addCard(late, CARD_FAILS);
    expectStatus(lateCard, 201);
    expect(lateCard.body.collected_invoices).toEqual([{ id: invoices.get(late).id, status: 'past_due' }]);
    expect((await h.invoice(late, invoices.get(late).id)).status).toBe('past_due');

    // The failing new cards were extra attempts: the retries are still due at +7 days, not before.
    await h.advance(iso(ms(B1) + 7 * DAY - 1), rescued, early, late);
    for (const owner of [early, late]) {
      expect((await h.invoice(owner, invoices.get(owner).id)).status).toBe('past_due');
      expect((await h.billing(owner)).subscription?.id).toBe(subscriptions.get(owner).id);
      expect(await h.chargesOf(invoices.get(owner).id)).toHaveLength(4);
    }
    await h.advance(iso(ms(B1) + 7 * DAY), rescued, early, late);
    for (const owner of [early, late]) {
      expect((await h.invoice(owner, invoices.get(owner).id)).status).toBe('uncollectible');
      expect((await h.org(owner)).plan).toBe('free');
      const ended = (await h.audit(owner)).find((event) => event.action === 'subscription.ended');
      expect(ended).toMatchObject({ reason: 'payment_failed', created_at: iso(ms(B1) + 7 * DAY) });
    }

    // The rescued invoice was charged once more, with the new card, and never again.
    expect((await h.chargesOf(invoices.get(rescued).id)).map((charge) => charge.status)).toEqual([
      'failed',
      'failed',
      'succeeded',
    ]);
    await h.advance(B2, rescued);
    const [second] = await h.invoices(rescued);
    expect(second.id).not.toBe(invoices.get(rescued).id);
    expect(second).toMatchObject({ status: 'paid', paid_at: B2 });
    expect((await h.chargesOf(second.id)).map((charge) => charge.status)).toEqual(['succeeded']);
    expect((await h.chargesOf(invoices.get(rescued).id)).length).toBe(3);
  });
});

describe('scenario 8 and 9: Enterprise set by sales', () => {
  const S = '2027-01-15T12:00:00.000Z';
  const B1 = '2027-02-15T12:00:00.000Z';
  const C1 = '2027-02-12T12:00:00.000Z';
  const terms = { monthly_fee: 250_000, included_requests: 10_000_000, overage_per_million: 1_500, net_days: 30 };
  const enterprise: Price = { fee: 250_000n, included: 10_000_000n, perMillion: 1_500n };
  let t: TestInstance;
  let h: ReturnType<typeof billingHelpers>;
  beforeAll(async () => {
    t = await createTestInstance({ start: S });
    h = billingHelpers(t);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('with net terms: no card charge, an open invoice due 30 days after billing, settled by support', async () => {
    const owner = await signUpOwner(t);
    const set = await t.call('PUT', `/v1/admin/orgs/${owner.orgId}/subscription`, {
      cookie: await h.staff(),
      body: { plan: 'enterprise', terms },
    });
    expectStatus(set, 200);
    expect(set.body.subscription).toMatchObject({
      plan: 'enterprise',
      status: 'active',
      started_at: S,
      payment_method_id: null,
      terms,
      next_calculation_at: C1,
      next_billing_at: B1,
    });
    expect((await h.org(owner)).plan).toBe('enterprise');
    // Enterprise is never changed self-serve.
    expectError(await h.downgrade(owner), 403, 'contact_sales_required');
    expectError(await h.preview(owner, 'free'), 403, 'contact_sales_required');
    const gateway = await h.runtime(owner);
    await gateway.report({ [S]: 12_345_678 });

    await h.advance(C1, owner);
    const [invoice] = await h.invoices(owner);
    expect(invoice).toMatchObject({
      kind: 'cycle',
      status: 'open',
      collection: 'send_invoice',
      billing_at: B1,
      due_at: iso(ms(B1) + 30 * DAY),
    });
    expect(overage(12_345_678n, enterprise.included, enterprise.perMillion)).toBe(3519n);
    expectAmounts(invoice, enterprise.fee, 12_345_678n, enterprise);
    const [mail] = (await h.outbox(owner.email)).filter((entry) => entry.kind === 'invoice_upcoming');
    expect(`${mail.subject}\n${mail.body}`).toContain(money(253_519n));
    // Paid by transfer: the email names the due date and never says a card will be charged.
    expect(`${mail.subject}\n${mail.body}`).toContain('2027-03-17');
    expect(`${mail.subject}\n${mail.body}`).not.toMatch(/charged/i);

    await h.advance(iso(ms(B1) + DAY), owner);
    expect((await h.invoice(owner, invoice.id)).status).toBe('open');
    expect(await h.charges()).toEqual([]);

    const markPaid = (cookie: string) =>
      t.call('POST', `/v1/admin/invoices/${invoice.id}/mark-paid`, { cookie, body: { reference: 'WIRE-1' } });
    expect((await markPaid(owner.cookie)).status).toBe(403);
    expect((await h.invoice(owner, invoice.id)).status).toBe('open');
    const paid = await markPaid(await h.staff());
    expectStatus(paid, 200);
    expect(paid.body).toMatchObject({ id: invoice.id, status: 'paid', paid_at: iso(ms(B1) + DAY) });
    expectStatus(await markPaid(await h.staff()), 409);
    expect(await h.charges()).toEqual([]);
  });

  it('with net_days 0: the invoice is charged to the card at B_k like Plus', async () => {
    const owner = await signUpOwner(t);
    const start = await h.now();
    const card = await h.addCard(owner);
    expectStatus(card, 201);
    const cardTerms = { ...terms, net_days: 0 };
    const withoutCard = await t.call('PUT', `/v1/admin/orgs/${owner.orgId}/subscription`, {
      cookie: await h.staff(),
      body: { plan: 'enterprise', terms: cardTerms },
    });
    expectError(withoutCard, 400, 'validation_failed', 'payment_method_id');
    const set = await t.call('PUT', `/v1/admin/orgs/${owner.orgId}/subscription`, {
      cookie: await h.staff(),
      body: { plan: 'enterprise', terms: cardTerms, payment_method_id: card.body.id },
    });
    expectStatus(set, 200);
    expect(set.body.subscription).toMatchObject({ payment_method_id: card.body.id, terms: cardTerms });
    const B = plusMonths(start, 1);
    await h.advance(B, owner);
    const [invoice] = await h.invoices(owner);
    expect(invoice).toMatchObject({
      collection: 'charge_automatically',
      status: 'paid',
      paid_at: B,
      due_at: B,
      calculated_at: minus72h(B),
    });
    expectAmounts(invoice, enterprise.fee, 0n, enterprise);
    expect(await h.chargesOf(invoice.id)).toEqual([
      { invoiceId: invoice.id, attempt: 1, status: 'succeeded', amount: enterprise.fee },
    ]);
    // Not a transfer invoice: support cannot mark it paid.
    expectStatus(
      await t.call('POST', `/v1/admin/invoices/${invoice.id}/mark-paid`, { cookie: await h.staff(), body: {} }),
      409,
    );
  });

  it('Enterprise → Plus ends the contract with a final invoice and starts Plus; Plus → Free by sales charges', async () => {
    const owner = await signUpOwner(t);
    const start = await h.now();
    const card = await h.addCard(owner);
    expectStatus(card, 201);
    const set = await t.call('PUT', `/v1/admin/orgs/${owner.orgId}/subscription`, {
      cookie: await h.staff(),
      body: { plan: 'enterprise', terms },
    });
    expectStatus(set, 200);
    const gateway = await h.runtime(owner);
    await gateway.report({ [start]: 100 });
    const D = iso(ms(start) + 10 * DAY);
    await h.advance(D, owner);

    const changed = await t.call('PUT', `/v1/admin/orgs/${owner.orgId}/subscription`, {
      cookie: await h.staff(),
      body: { plan: 'plus', payment_method_id: card.body.id },
    });
    expectStatus(changed, 200);
    expect(changed.body.ended_subscription).toMatchObject({
      id: set.body.subscription.id,
      plan: 'enterprise',
      status: 'ended',
      ended_at: D,
    });
    const final = changed.body.final_invoice;
    expect(final).toMatchObject({
      kind: 'final',
      subscription_id: set.body.subscription.id,
      period: { start, end: D },
      collection: 'send_invoice',
      status: 'open',
      due_at: iso(ms(D) + 30 * DAY),
    });
    const fee = prorated(enterprise.fee, start, D, plusMonths(start, 1));
    expectAmounts(final, fee, 100n, enterprise);
    expect(changed.body.subscription).toMatchObject({
      plan: 'plus',
      status: 'active',
      started_at: D,
      payment_method_id: card.body.id,
      terms: { monthly_fee: 10_000, included_requests: 1_000_000, overage_per_million: 2_000, net_days: 0 },
      next_billing_at: plusMonths(D, 1),
      next_calculation_at: minus72h(plusMonths(D, 1)),
    });
    expect((await h.org(owner)).plan).toBe('plus');
    expect((await h.billing(owner)).subscription.id).toBe(changed.body.subscription.id);
    const ended = (await h.audit(owner)).find((event) => event.action === 'subscription.ended');
    expect(ended).toMatchObject({ reason: 'plan_changed_by_sales', target: { id: set.body.subscription.id } });

    // Usage after D is Plus usage; sales moving it to Free bills it with the prorated fee, charged at once.
    await gateway.report({ [D]: 1_000_001 });
    const D2 = iso(ms(D) + 5 * DAY);
    await h.advance(D2, owner);
    const toFree = await t.call('PUT', `/v1/admin/orgs/${owner.orgId}/subscription`, {
      cookie: await h.staff(),
      body: { plan: 'free' },
    });
    expectStatus(toFree, 200);
    expect(toFree.body.subscription).toBeNull();
    expect(toFree.body.final_invoice).toMatchObject({
      status: 'paid',
      paid_at: D2,
      collection: 'charge_automatically',
    });
    expectAmounts(toFree.body.final_invoice, prorated(PLUS.fee, D, D2, plusMonths(D, 1)), 1_000_001n);
    expect((await h.org(owner)).plan).toBe('free');
    expectError(
      await t.call('PUT', `/v1/admin/orgs/${owner.orgId}/subscription`, {
        cookie: await h.staff(),
        body: { plan: 'free' },
      }),
      409,
      'no_subscription',
    );
  });
});

describe('scenario 11b: downgrades racing the calculation and the collection', () => {
  // On PostgreSQL the due work and the requests run on separate connections at the same time.
  const S = '2027-01-31T10:00:00.000Z';
  const C1 = '2027-02-25T10:00:00.000Z';
  const B1 = '2027-02-28T10:00:00.000Z';
  let t: TestInstance;
  let h: ReturnType<typeof billingHelpers>;
  beforeAll(async () => {
    t = await createTestInstance({ start: S });
    h = billingHelpers(t);
  });
  afterAll(async () => {
    await t?.close();
  });

  /** What must hold whatever order things ran in: every request billed once, every charge once. */
  async function expectConsistent(owner: Person, downgrade: { status: number; body: any }, reported: bigint) {
    expectStatus(downgrade, 200);
    const endedAt = downgrade.body.subscription.ended_at as string;
    const list = await h.invoices(owner);
    const live = list.filter((invoice) => invoice.status !== 'void');
    expect(list.filter((invoice) => invoice.kind === 'final')).toHaveLength(1);
    for (const invoice of live.filter((entry) => entry.kind === 'cycle')) {
      // No cycle invoice calculated after the subscription ended survives.
      expect(ms(invoice.calculated_at)).toBeLessThanOrEqual(ms(endedAt));
    }
    expect(live.reduce((sum, invoice) => sum + usageOf(invoice), 0n)).toBe(reported);
    const charges = await h.charges();
    for (const invoice of list) {
      const succeeded = charges.filter((charge) => charge.invoiceId === invoice.id && charge.status === 'succeeded');
      if (invoice.status === 'paid' && invoice.total > 0) expect(succeeded).toHaveLength(1);
      else expect(succeeded, `${invoice.kind} invoice ${invoice.status}`).toEqual([]);
    }
  }

  it('never bills a request twice nor charges a voided invoice', async () => {
    const owners: Person[] = [];
    for (let i = 0; i < 20; i++) {
      const owner = await signUpOwner(t);
      await h.subscribePlus(owner);
      const gateway = await h.runtime(owner);
      await gateway.report({ [S]: 1_000_000 + i * 100_000 });
      owners.push(owner);
    }
    await h.advance(iso(ms(C1) - 1), ...owners);
    const calculating = owners.slice(0, 10);
    const [, ...atCalculation] = await Promise.all([h.advance(C1), ...calculating.map((owner) => h.downgrade(owner))]);
    await h.advance(iso(ms(B1) - 1), ...owners);
    const collecting = owners.slice(10);
    const [, ...atCollection] = await Promise.all([h.advance(B1), ...collecting.map((owner) => h.downgrade(owner))]);
    await h.advance(iso(ms(B1) + 10 * DAY), ...owners);
    for (const [i, owner] of owners.entries()) {
      const response = i < 10 ? atCalculation[i] : atCollection[i - 10];
      await expectConsistent(owner, response, 1_000_000n + BigInt(i) * 100_000n);
    }
  });
});

describe('scenario 11: concurrent cancels and upgrades for one org', () => {
  const S = '2027-01-31T10:00:00.000Z';
  let t: TestInstance;
  let h: ReturnType<typeof billingHelpers>;
  beforeAll(async () => {
    t = await createTestInstance({ start: S });
    h = billingHelpers(t);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('leaves one consistent state: one active subscription at most, one final invoice each, no double charge', async () => {
    const owner = await signUpOwner(t);
    const { paymentMethod } = await h.subscribePlus(owner);
    const gateway = await h.runtime(owner);
    let downgrades = 0;
    let upgrades = 0;
    for (let round = 1; round <= 3; round++) {
      const at = iso(ms(S) + round * DAY);
      await h.advance(at, owner);
      await gateway.report({ [iso(ms(at) - HOUR)]: 1_500_000 });
      const requests = Array.from({ length: 20 }, (_, i) =>
        i % 2 === 0
          ? h.downgrade(owner).then((response) => ({ kind: 'down' as const, response }))
          : t
              .call('POST', `/v1/orgs/${owner.orgId}/subscription`, {
                cookie: owner.cookie,
                body: { plan: 'plus', payment_method_id: paymentMethod.id },
              })
              .then((response) => ({ kind: 'up' as const, response })),
      );
      const results = await Promise.all(requests);
      for (const { kind, response } of results) {
        if (kind === 'down') {
          expect([200, 409], JSON.stringify(response.body)).toContain(response.status);
          if (response.status === 409) expect(response.body.error.code).toBe('no_subscription');
          else downgrades++;
        } else {
          expect([200, 409], JSON.stringify(response.body)).toContain(response.status);
          if (response.status === 409) expect(response.body.error.code).toBe('already_subscribed');
          else upgrades++;
        }
      }
      // It started subscribed, so subscriptions alternate: ended ones equal started ones, plus at most one.
      expect(downgrades - upgrades === 0 || downgrades - upgrades === 1).toBe(true);

      const invoices = await h.invoices(owner);
      const finals = invoices.filter((invoice) => invoice.kind === 'final');
      expect(finals).toHaveLength(downgrades);
      expect(new Set(finals.map((invoice) => invoice.subscription_id)).size).toBe(finals.length);
      for (const invoice of finals) expect(invoice.status).toBe('paid');
      const audit = await h.audit(owner);
      const started = audit.filter((event) => event.action === 'subscription.started').map((e) => e.target.id);
      const ended = audit.filter((event) => event.action === 'subscription.ended').map((e) => e.target.id);
      expect(started).toHaveLength(1 + upgrades);
      expect(ended).toHaveLength(downgrades);
      expect(new Set(ended).size).toBe(ended.length);
      expect(ended.sort()).toEqual(finals.map((invoice) => invoice.subscription_id).sort());
      const active = started.filter((id) => !ended.includes(id));
      expect(active.length).toBeLessThanOrEqual(1);

      const overview = await h.billing(owner);
      const org = await h.org(owner);
      if (active.length === 1) {
        expect(overview.subscription).toMatchObject({ id: active[0], status: 'active', plan: 'plus' });
        expect(org.plan).toBe('plus');
      } else {
        expect(overview.subscription).toBeNull();
        expect(org.plan).toBe('free');
      }
      // Each invoice is charged at most once, and a paid one with an amount exactly once.
      const charges = await h.charges();
      for (const invoice of invoices) {
        const succeeded = charges.filter((charge) => charge.invoiceId === invoice.id && charge.status === 'succeeded');
        expect(succeeded.length).toBeLessThanOrEqual(1);
        if (invoice.status === 'paid' && invoice.total > 0) {
          expect(succeeded).toHaveLength(1);
          expect(succeeded[0].amount).toBe(BigInt(invoice.total));
        }
      }
      // Each request's usage is billed by at most one final invoice.
      const billed = finals.reduce((sum, invoice) => sum + usageOf(invoice), 0n);
      expect(billed).toBeLessThanOrEqual(1_500_000n * BigInt(round));
    }
    // A month on, only a still-active subscription is invoiced.
    const before = (await h.invoices(owner)).length;
    const overview = await h.billing(owner);
    await h.advance('2027-03-10T00:00:00.000Z', owner);
    const after = await h.invoices(owner);
    const cycles = after.filter((invoice) => invoice.kind === 'cycle');
    if (overview.subscription) {
      expect(cycles.length).toBeGreaterThan(0);
      expect(new Set(cycles.map((invoice) => invoice.subscription_id))).toEqual(new Set([overview.subscription.id]));
    } else expect(after).toHaveLength(before);
  });
});
