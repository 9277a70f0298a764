import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  billingHelpers,
  CARD_OK,
  cardBody,
  expectError,
  expectStatus,
  HOUR,
  iso,
  minus72h,
  ms,
  overage,
  type Person,
  PLUS,
  plusMonths,
} from '../helpers/billing.ts';
import { createTestInstance, signUpOwner, type TestInstance } from '../helpers/instance.ts';

// The clock stands still at NOW for the whole file unless a test moves it.
const NOW = '2027-01-20T09:30:00.000Z';

let t: TestInstance;
let h: ReturnType<typeof billingHelpers>;

beforeAll(async () => {
  t = await createTestInstance({ start: NOW });
  h = billingHelpers(t);
});
afterAll(async () => {
  await t?.close();
});

const upgrade = (person: Person, body: object) =>
  t.call('POST', `/v1/orgs/${person.orgId}/subscription`, { cookie: person.cookie, body });

describe('GET /v1/plans', () => {
  it('serves the catalog: free, plus and enterprise with their numbers', async () => {
    const response = await t.call('GET', '/v1/plans');
    expectStatus(response, 200);
    expect(response.body.currency).toBe('usd');
    const byId = Object.fromEntries(response.body.data.map((plan: any) => [plan.id, plan]));
    expect(Object.keys(byId).sort()).toEqual(['enterprise', 'free', 'plus']);
    expect(byId.free).toMatchObject({ self_serve: true, monthly_fee: 0, limits: { runtimes: 3 } });
    expect(byId.plus).toMatchObject({
      self_serve: true,
      monthly_fee: 10_000,
      included_requests: 1_000_000,
      overage_per_million: 2_000,
      limits: { runtimes: 100 },
    });
    expect(byId.enterprise.self_serve).toBe(false);
  });
});

describe('self-serve plan changes', () => {
  it('refuses Enterprise with contact_sales_required, on the change and on its preview', async () => {
    const owner = await signUpOwner(t);
    const card = await h.addCard(owner);
    expectStatus(card, 201);
    expectError(
      await upgrade(owner, { plan: 'enterprise', payment_method_id: card.body.id }),
      403,
      'contact_sales_required',
    );
    expectError(await h.preview(owner, 'enterprise'), 403, 'contact_sales_required');
    expect((await h.org(owner)).plan).toBe('free');
  });

  it('needs a payment method of this org to upgrade', async () => {
    const owner = await signUpOwner(t);
    const other = await signUpOwner(t);
    const othersCard = await h.addCard(other);
    expectStatus(othersCard, 201);
    expectError(await upgrade(owner, { plan: 'plus' }), 400, 'validation_failed', 'payment_method_id');
    expectStatus(await upgrade(owner, { plan: 'plus', payment_method_id: othersCard.body.id }), 404);
    expectStatus(await upgrade(owner, { plan: 'plus', payment_method_id: 'pm_nothing' }), 404);
    expect((await h.org(owner)).plan).toBe('free');
    expect((await h.billing(owner)).subscription).toBeNull();
    // The other org's card is still only the other org's.
    const mine = await t.call('GET', `/v1/orgs/${owner.orgId}/payment-methods`, { cookie: owner.cookie });
    expect(mine.body.data).toEqual([]);
  });

  it('upgrades once: a second upgrade is 409 already_subscribed; downgrading a free org is 409', async () => {
    const owner = await signUpOwner(t);
    expectError(await h.downgrade(owner), 409, 'no_subscription');
    const { paymentMethod, subscription } = await h.subscribePlus(owner);
    expect(subscription).toMatchObject({ plan: 'plus', status: 'active', started_at: NOW });
    expect(subscription.id).toMatch(/^sub_/);
    expect(paymentMethod.id).toMatch(/^pm_/);
    expectError(await upgrade(owner, { plan: 'plus', payment_method_id: paymentMethod.id }), 409, 'already_subscribed');
    const preview = await h.preview(owner, 'plus');
    expect(preview.status).toBe(409);
    expect((await h.billing(owner)).subscription.id).toBe(subscription.id);
    const downgraded = await h.downgrade(owner);
    expectStatus(downgraded, 200);
    expectError(await h.downgrade(owner), 409, 'no_subscription');
  });

  it('answers a change and its preview alike for an Enterprise org: nothing self-serve', async () => {
    const owner = await signUpOwner(t);
    const card = await h.addCard(owner);
    expectStatus(card, 201);
    const set = await t.call('PUT', `/v1/admin/orgs/${owner.orgId}/subscription`, {
      cookie: await h.staff(),
      body: {
        plan: 'enterprise',
        terms: { monthly_fee: 100_000, included_requests: 5_000_000, overage_per_million: 1_000, net_days: 0 },
        payment_method_id: card.body.id,
      },
    });
    expectStatus(set, 200);
    const change = await upgrade(owner, { plan: 'plus', payment_method_id: card.body.id });
    expect(change.status).toBeGreaterThanOrEqual(400);
    const preview = await h.preview(owner, 'plus');
    // The preview of a change that would be refused is refused the same way, not shown as done.
    expect(preview.status, JSON.stringify(preview.body)).toBe(change.status);
    expect(preview.body.error.code).toBe(change.body.error.code);
    expectError(await h.preview(owner, 'free'), 403, 'contact_sales_required');
    expectError(await h.downgrade(owner), 403, 'contact_sales_required');
    expect((await h.org(owner)).plan).toBe('enterprise');
  });

  it('replays an upgrade and a card sent again with the same Idempotency-Key', async () => {
    const owner = await signUpOwner(t);
    const send = (method: string, url: string, body: object, key: string) =>
      t.call(method, url, { cookie: owner.cookie, body, headers: { 'idempotency-key': key } });
    const cards = `/v1/orgs/${owner.orgId}/payment-methods`;
    const first = await send('POST', cards, cardBody(), 'card-1');
    const again = await send('POST', cards, cardBody(), 'card-1');
    expectStatus(first, 201);
    expect(again.status).toBe(201);
    expect(again.body.id).toBe(first.body.id);
    const subscription = `/v1/orgs/${owner.orgId}/subscription`;
    const body = { plan: 'plus', payment_method_id: first.body.id };
    const up = await send('POST', subscription, body, 'up-1');
    const upAgain = await send('POST', subscription, body, 'up-1');
    expectStatus(up, 200);
    expectStatus(upAgain, 200);
    expect(upAgain.body.id).toBe(up.body.id);
    expectError(
      await send('POST', subscription, { plan: 'plus', payment_method_id: 'pm_other' }, 'up-1'),
      422,
      'idempotency_key_reused',
    );
    const listed = await t.call('GET', cards, { cookie: owner.cookie });
    expect(listed.body.data).toHaveLength(1);
    expect((await h.audit(owner)).filter((event) => event.action === 'subscription.started')).toHaveLength(1);
  });

  it('previews an upgrade without writing anything', async () => {
    const owner = await signUpOwner(t);
    const preview = await h.preview(owner, 'plus');
    expectStatus(preview, 200);
    expect(preview.body).toMatchObject({ invoice: null, effective_at: NOW });
    expect(preview.body.next_billing_at).toBe(plusMonths(NOW, 1));
    expect(preview.body.next_calculation_at).toBe(minus72h(plusMonths(NOW, 1)));
    expect((await h.org(owner)).plan).toBe('free');
  });

  it('is refused to members and read-only admins (403), who may still read billing', async () => {
    const owner = await signUpOwner(t);
    const { paymentMethod } = await h.subscribePlus(owner);
    for (const roles of [['member'], ['org_admin_read_only']]) {
      const person = await h.join(owner, roles);
      const as = { cookie: person.cookie };
      const attempts = [
        await t.call('POST', `/v1/orgs/${owner.orgId}/payment-methods`, { ...as, body: cardBody() }),
        await t.call('POST', `/v1/orgs/${owner.orgId}/subscription`, {
          ...as,
          body: { plan: 'plus', payment_method_id: paymentMethod.id },
        }),
        await t.call('POST', `/v1/orgs/${owner.orgId}/subscription/preview`, { ...as, body: { plan: 'free' } }),
        await t.call('DELETE', `/v1/orgs/${owner.orgId}/subscription`, as),
        await t.call('POST', `/v1/orgs/${owner.orgId}/sales-inquiries`, {
          ...as,
          body: { name: 'N', email: 'n@example.com', company: 'C', message: 'M' },
        }),
      ];
      for (const response of attempts) expectStatus(response, 403);
      expectStatus(await t.call('GET', `/v1/orgs/${owner.orgId}/billing`, as), 200);
      expectStatus(await t.call('GET', `/v1/orgs/${owner.orgId}/invoices`, as), 200);
    }
    expect((await h.org(owner)).plan).toBe('plus');
    const methods = await t.call('GET', `/v1/orgs/${owner.orgId}/payment-methods`, { cookie: owner.cookie });
    expect(methods.body.data).toHaveLength(1);
    // An org_admin may: downgrade, add a card and upgrade again.
    const admin = await h.join(owner, ['org_admin']);
    expectStatus(await h.downgrade(admin), 200);
    const again = await h.subscribePlus(admin);
    expect(again.subscription.status).toBe('active');
    // Events at one test-clock instant have no order among themselves: look for the admin's.
    const started = (await h.audit(owner)).filter((entry) => entry.action === 'subscription.started');
    expect(started.map((entry) => entry.target.id)).toContain(again.subscription.id);
    const event = started.find((entry) => entry.target.id === again.subscription.id);
    expect(event.actor).toEqual({ type: 'user', id: admin.userId });
  });
});

describe('payment methods', () => {
  it('answers 400 naming the field for bad card or billing details, and creates nothing', async () => {
    const owner = await signUpOwner(t);
    const add = (body: unknown) =>
      t.call('POST', `/v1/orgs/${owner.orgId}/payment-methods`, { cookie: owner.cookie, body });
    expectError(await add(cardBody('4242abcd42424242')), 400, 'validation_failed', 'card.number');
    expectError(await add(cardBody('4242424242424241')), 400, 'validation_failed', 'card.number');
    expectError(await add(cardBody(CARD_OK, { card: { exp_month: 13 } })), 400, 'validation_failed', 'card.exp_month');
    const noCity = cardBody();
    delete (noCity.billing_details.address as Partial<typeof noCity.billing_details.address>).city;
    expectError(await add(noCity), 400, 'validation_failed', 'billing_details.address.city');
    // Expired: December 2026 is over on 2027-01-20.
    const expired = await add(cardBody(CARD_OK, { card: { exp_month: 12, exp_year: 2026 } }));
    expectError(expired, 400, 'validation_failed');
    expect(expired.body.error.field).toMatch(/^card\.exp_(month|year)$/);
    expectError(
      await add(cardBody(CARD_OK, { billing_details: { email: 'not-an-email' } })),
      400,
      'validation_failed',
      'billing_details.email',
    );
    // This month's card is still good.
    expectStatus(await add(cardBody(CARD_OK, { card: { exp_month: 1, exp_year: 2027 } })), 201);
    const methods = await t.call('GET', `/v1/orgs/${owner.orgId}/payment-methods`, { cookie: owner.cookie });
    expect(methods.body.data).toHaveLength(1);
  });

  it('keeps only brand, last four digits and expiry: never the number or the CVC', async () => {
    const owner = await signUpOwner(t);
    const response = await t.call('POST', `/v1/orgs/${owner.orgId}/payment-methods`, {
      cookie: owner.cookie,
      body: cardBody(CARD_OK, { card: { cvc: '987', exp_month: 7, exp_year: 2030 } }),
    });
    expectStatus(response, 201);
    expect(response.body).toMatchObject({ brand: 'visa', last4: '4242', exp_month: 7, exp_year: 2030 });
    expect(response.body.billing_details).toMatchObject({ name: 'Ada Lovelace', address: { city: 'London' } });
    const listed = await t.call('GET', `/v1/orgs/${owner.orgId}/payment-methods`, { cookie: owner.cookie });
    const overview = await h.billing(owner);
    for (const text of [JSON.stringify(response.body), JSON.stringify(listed.body), JSON.stringify(overview)]) {
      expect(text).not.toContain(CARD_OK);
      expect(text).not.toContain('424242424242');
      expect(text).not.toContain('987');
      expect(text).not.toMatch(/"(number|cvc)"/);
    }
    expect(listed.body.data).toHaveLength(1);
    expect(overview.payment_method.id).toBe(response.body.id);
  });
});

describe('Contact Sales', () => {
  it('creates an inquiry that sales staff see, and emails the sales inbox', async () => {
    const owner = await signUpOwner(t);
    const body = {
      name: 'Grace Hopper',
      email: 'grace@example.com',
      company: 'Compilers Inc',
      message: 'We need 2 billion requests a month.',
    };
    const created = await t.call('POST', `/v1/orgs/${owner.orgId}/sales-inquiries`, { cookie: owner.cookie, body });
    expectStatus(created, 201);
    expect(created.body).toMatchObject({ ...body, org_id: owner.orgId });
    const listed = await t.call('GET', '/v1/admin/sales-inquiries', { cookie: await h.staff() });
    expectStatus(listed, 200);
    expect(listed.body.data.find((entry: any) => entry.id === created.body.id)).toMatchObject(body);
    expectStatus(await t.call('GET', '/v1/admin/sales-inquiries', { cookie: owner.cookie }), 403);
    const outbox = await t.call('GET', '/v1/admin/outbox?limit=100', { cookie: await h.staff() });
    const mail = outbox.body.data.find((entry: any) => entry.kind === 'sales_inquiry' && entry.org_id === owner.orgId);
    expect(mail).toBeDefined();
    expect(mail.to).not.toBe(owner.email);
    expect(`${mail.subject}\n${mail.body}`).toContain('Compilers Inc');
    expect(mail.body).toContain(body.message);
    expectError(
      await t.call('POST', `/v1/orgs/${owner.orgId}/sales-inquiries`, {
        cookie: owner.cookie,
        body: { ...body, email: 'nope' },
      }),
      400,
      'validation_failed',
      'email',
    );
  });
});

describe('billing overview, invoices and audit', () => {
  it('shows a free org with no subscription and nothing upcoming', async () => {
    const owner = await signUpOwner(t);
    const overview = await h.billing(owner);
    expect(overview).toMatchObject({ plan: 'free', subscription: null, upcoming: null, payment_method: null });
  });

  it('shows a plus org’s next calculation and billing dates and an estimate from usage so far', async () => {
    const owner = await signUpOwner(t);
    const { subscription } = await h.subscribePlus(owner);
    const gateway = await h.runtime(owner);
    await gateway.report({ [iso(ms(NOW) - HOUR)]: 400_000, [NOW]: 1_100_000 });
    const B1 = plusMonths(NOW, 1);
    expect(B1).toBe('2027-02-20T09:30:00.000Z');
    const overview = await h.billing(owner);
    expect(overview.plan).toBe('plus');
    expect(overview.subscription).toMatchObject({
      id: subscription.id,
      status: 'active',
      next_calculation_at: minus72h(B1),
      next_billing_at: B1,
      current_period: { start: NOW, end: B1 },
    });
    expect(overview.upcoming).toMatchObject({ calculation_at: minus72h(B1), billing_at: B1 });
    // Only the 1,100,000 requests from the start on count; those an hour before were on Free.
    expect(overview.upcoming.estimate.total).toBe(Number(PLUS.fee + overage(1_100_000n)));
    expect(overview.upcoming.estimate.total).toBe(10_200);
    // Amounts carry their currency on the enclosing object (spec 2).
    expect(overview.upcoming.estimate.currency).toBe('usd');
    const usageLine = overview.upcoming.estimate.lines.find((entry: any) => entry.kind === 'usage');
    expect(usageLine.quantity).toBe(1_100_000);
  });

  it('keeps another org’s invoices out of reach (404)', async () => {
    const owner = await signUpOwner(t);
    const other = await signUpOwner(t);
    await h.subscribePlus(other);
    const { body } = await h.downgrade(other);
    const theirs = body.final_invoice.id as string;
    expect(theirs).toMatch(/^inv_/);
    expectStatus(await t.call('GET', `/v1/orgs/${other.orgId}/invoices`, { cookie: owner.cookie }), 404);
    expectStatus(await t.call('GET', `/v1/orgs/${other.orgId}/invoices/${theirs}`, { cookie: owner.cookie }), 404);
    expectStatus(await t.call('GET', `/v1/orgs/${owner.orgId}/invoices/${theirs}`, { cookie: owner.cookie }), 404);
    expectStatus(await t.call('GET', `/v1/orgs/${other.orgId}/billing`, { cookie: owner.cookie }), 404);
    expectStatus(await t.call('DELETE', `/v1/orgs/${other.orgId}/subscription`, { cookie: owner.cookie }), 404);
    expect((await h.invoices(owner)).length).toBe(0);
    expect((await h.invoice(other, theirs)).id).toBe(theirs);
  });

  it('records subscription.started, subscription.ended and payment_method.added in the audit log', async () => {
    const owner = await signUpOwner(t);
    const { paymentMethod, subscription } = await h.subscribePlus(owner);
    expectStatus(await h.downgrade(owner), 200);
    const events = await h.audit(owner);
    const find = (action: string) => events.find((event) => event.action === action);
    expect(find('payment_method.added')).toMatchObject({
      target: { id: paymentMethod.id },
      actor: { type: 'user', id: owner.userId },
    });
    expect(find('subscription.started')).toMatchObject({ target: { id: subscription.id } });
    expect(find('subscription.ended')).toMatchObject({ target: { id: subscription.id }, reason: 'downgrade' });
    expect(JSON.stringify(events)).not.toContain(CARD_OK);
  });
});
