import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  billingHelpers,
  CARD_DECLINED,
  CARD_FAILS,
  CARD_OK,
  expectError,
  expectStatus,
  type Person,
  plusMonths,
} from '../helpers/billing.ts';
import { type FakeStripe, type RecordedRequest, startFakeStripe } from '../helpers/fake-stripe.ts';
import { createTestInstance, signUpOwner, type TestInstance } from '../helpers/instance.ts';

// Tierline with TIERLINE_PAYMENTS=stripe, talking through the real Stripe SDK to a loopback server
// that plays Stripe's API: the whole path from the HTTP API to what Stripe receives.

let fake: FakeStripe;
let t: TestInstance;
let h: ReturnType<typeof billingHelpers>;

beforeAll(async () => {
  fake = await startFakeStripe();
  t = await createTestInstance({
    start: '2027-01-20T09:30:00.000Z',
    env: { TIERLINE_PAYMENTS: 'stripe', STRIPE_SECRET_KEY: 'sk_test_x', TIERLINE_STRIPE_API_URL: fake.url },
  });
  h = billingHelpers(t);
});
afterAll(async () => {
  await t?.close();
  await fake?.close();
});

/** Adds a card through the API; answers the response and the Stripe customer and payment method made for it. */
async function addCard(person: Person, number: string) {
  const from = fake.requests.length;
  const response = await h.addCard(person, number);
  const setup = fake.requests.slice(from).find((request) => request.path === '/v1/setup_intents') as RecordedRequest;
  return { response, customer: setup?.form.customer, paymentMethod: setup?.form.payment_method };
}

/** Adds a card and upgrades to Plus now; answers the card and the first billing date. */
async function subscribePlus(person: Person, number: string) {
  const card = await addCard(person, number);
  expectStatus(card.response, 201);
  const upgraded = await t.call('POST', `/v1/orgs/${person.orgId}/subscription`, {
    cookie: person.cookie,
    body: { plan: 'plus', payment_method_id: card.response.body.id },
  });
  expectStatus(upgraded, 200);
  return { card, firstBillingAt: plusMonths(await h.now(), 1) };
}

const intentsOf = (invoiceId: string) =>
  fake.intents.filter((intent) => intent.idempotencyKey?.startsWith(`${invoiceId}:`));

describe('TIERLINE_PAYMENTS=stripe', () => {
  it('verifies a card with Stripe and keeps only what Stripe says of it', async () => {
    const owner = await signUpOwner(t);
    const from = fake.requests.length;
    const { response, customer, paymentMethod } = await addCard(owner, CARD_OK);
    expectStatus(response, 201);
    expect(response.body).toMatchObject({ brand: 'visa', last4: '4242', exp_month: 12, exp_year: 2031 });
    expect(customer).toMatch(/^cus_/);
    expect(paymentMethod).toMatch(/^pm_/);
    const sent = fake.requests.slice(from);
    expect(sent.map((request) => `${request.method} ${request.path}`)).toEqual([
      'POST /v1/payment_methods',
      'POST /v1/customers',
      'POST /v1/setup_intents',
    ]);
    expect(sent.every((request) => request.headers.authorization === 'Bearer sk_test_x')).toBe(true);
    const listed = await t.call('GET', `/v1/orgs/${owner.orgId}/payment-methods`, { cookie: owner.cookie });
    expect(JSON.stringify(listed.body)).not.toContain(CARD_OK);
    expect(listed.body.data).toEqual([expect.objectContaining({ id: response.body.id, last4: '4242' })]);
  });

  it('refuses a card Stripe declines with 402 card_declined, as the test provider does, and keeps nothing', async () => {
    const owner = await signUpOwner(t);
    const { response } = await addCard(owner, CARD_DECLINED);
    expectError(response, 402, 'card_declined');
    const listed = await t.call('GET', `/v1/orgs/${owner.orgId}/payment-methods`, { cookie: owner.cookie });
    expect(listed.body.data).toEqual([]);
  });

  it('pays the first Plus invoice with one PaymentIntent for its total, keyed by the invoice', async () => {
    const owner = await signUpOwner(t);
    const from = fake.requests.length;
    const { card, firstBillingAt } = await subscribePlus(owner, CARD_OK);
    await h.advance(firstBillingAt, owner);
    const [invoice] = await h.invoices(owner);
    expect(invoice).toMatchObject({ status: 'paid', paid_at: firstBillingAt });
    expect(intentsOf(invoice.id)).toEqual([
      {
        id: expect.stringMatching(/^pi_/),
        idempotencyKey: `${invoice.id}:1`,
        amount: String(invoice.total),
        currency: invoice.currency,
        customer: card.customer,
        paymentMethod: card.paymentMethod,
        status: 'succeeded',
      },
    ]);
    const charged = fake.requests
      .slice(from)
      .filter((request) => request.path === '/v1/payment_intents' && request.form.customer === card.customer);
    expect(charged).toHaveLength(1);
    expect(charged[0].headers['idempotency-key']).toBe(`${invoice.id}:1`);
    expect(charged[0].form).toMatchObject({ amount: String(invoice.total), confirm: 'true', off_session: 'true' });
    // The number went to Stripe once, to make the payment method, and never again.
    const carrying = fake.requests.slice(from).filter((request) => request.body.includes(CARD_OK));
    expect(carrying.map((request) => request.path)).toEqual(['/v1/payment_methods']);
  });

  it('leaves the invoice past due when Stripe declines the charge, and a new card pays it at once', async () => {
    const owner = await signUpOwner(t);
    const { firstBillingAt } = await subscribePlus(owner, CARD_FAILS);
    await h.advance(firstBillingAt, owner);
    const [invoice] = await h.invoices(owner);
    expect(invoice.status).toBe('past_due');
    expect(intentsOf(invoice.id).map((intent) => [intent.idempotencyKey, intent.status])).toEqual([
      [`${invoice.id}:1`, 'requires_payment_method'],
    ]);
    const { response, paymentMethod } = await addCard(owner, CARD_OK);
    expectStatus(response, 201);
    expect(response.body.collected_invoices).toEqual([{ id: invoice.id, status: 'paid' }]);
    expect(intentsOf(invoice.id).map((intent) => [intent.idempotencyKey, intent.status, intent.paymentMethod])).toEqual(
      [
        [`${invoice.id}:1`, 'requires_payment_method', expect.any(String)],
        [`${invoice.id}:2`, 'succeeded', paymentMethod],
      ],
    );
  });

  it('does not take an unanswered charge for a decline: the collection runs again and finds the one payment', async () => {
    const owner = await signUpOwner(t);
    const { firstBillingAt } = await subscribePlus(owner, CARD_OK);
    await h.advance(new Date(Date.parse(firstBillingAt) - 1).toISOString(), owner);
    // Stripe makes the payment but its answer never arrives.
    fake.setOutage({ mode: 'lose_answer', pathPrefix: '/v1/payment_intents' });
    const advanced = await t.call('POST', '/v1/test-clock/advance', { body: { to: firstBillingAt } });
    fake.setOutage(null);
    expectStatus(advanced, 200);
    expect(advanced.body.failed).toBeGreaterThanOrEqual(1);
    await h.logInAgain(owner);
    const [invoice] = await h.invoices(owner);
    expect(invoice.status).toBe('open');
    expect(intentsOf(invoice.id)).toHaveLength(1);

    await h.advance(new Date(Date.parse(firstBillingAt) + 60_000).toISOString(), owner);
    expect(await h.invoice(owner, invoice.id)).toMatchObject({ status: 'paid', paid_at: firstBillingAt });
    expect(intentsOf(invoice.id).map((intent) => [intent.idempotencyKey, intent.amount])).toEqual([
      [`${invoice.id}:1`, String(invoice.total)],
    ]);
  });
});
