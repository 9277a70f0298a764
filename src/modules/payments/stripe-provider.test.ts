import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type FakeStripe, type RecordedRequest, startFakeStripe } from '../../../tests/helpers/fake-stripe.ts';
import type { Executor } from '../../db/client.ts';
import { AppError } from '../../kernel/errors.ts';
import type { ChargeRequest, PaymentProvider, VerifiedCard } from './payments.ts';
import { createStripeProvider } from './stripe-provider.ts';

// A contract test: the real Stripe SDK talks to a loopback server that plays Stripe's API, and the
// test checks what the SDK puts on the wire and how the provider reads Stripe's answers.

const KEY = 'sk_test_contract4242';
const CARD_OK = '4242424242424242';
const CARD_DECLINED = '4000000000000002';
const CARD_FAILS = '4000000000000341';
const NOW = new Date('2027-02-20T09:30:00.000Z');
// The Stripe provider keeps no ledger of its own: Stripe is the ledger.
const NO_DATABASE = null as unknown as Executor;

let fake: FakeStripe;
let stripe: PaymentProvider;

beforeAll(async () => {
  fake = await startFakeStripe({ intentDelayMs: 15 });
  stripe = createStripeProvider({ secretKey: KEY, apiUrl: fake.url, concurrency: 4 });
});
afterAll(async () => {
  await fake?.close();
});
afterEach(() => {
  fake.setOutage(null);
});

/** The requests made while `work` ran. */
async function during<T>(work: () => Promise<T>): Promise<{ result: T; requests: RecordedRequest[] }> {
  const from = fake.requests.length;
  const result = await work();
  return { result, requests: fake.requests.slice(from) };
}

async function addCard(number: string, card: Partial<{ expMonth: number; expYear: number; cvc: string }> = {}) {
  const verified = await stripe.verifyCard({ number, expMonth: 11, expYear: 2031, cvc: '987', ...card });
  if (!verified.ok) throw new Error(`card refused: ${verified.code}`);
  return verified.card;
}

function charge(card: VerifiedCard, amount: bigint, key: string): ChargeRequest {
  return { providerRef: card.providerRef, amount, currency: 'usd', idempotencyKey: key, now: NOW };
}

const newKey = () => `inv_${Math.random().toString(36).slice(2)}:1`;

describe('verifyCard', () => {
  it('creates a card PaymentMethod and a Customer and confirms an off-session SetupIntent for them', async () => {
    const { result, requests } = await during(() =>
      stripe.verifyCard({ number: '4242 4242 4242 4242', expMonth: 11, expYear: 2031, cvc: '987' }),
    );
    expect(requests.map((request) => `${request.method} ${request.path}`)).toEqual([
      'POST /v1/payment_methods',
      'POST /v1/customers',
      'POST /v1/setup_intents',
    ]);
    for (const request of requests) {
      expect(request.headers.authorization).toBe(`Bearer ${KEY}`);
      expect(request.headers['content-type']).toBe('application/x-www-form-urlencoded');
      expect(request.headers['stripe-version']).toMatch(/^\d{4}-\d{2}-\d{2}/);
    }
    const [created, customer, setup] = requests;
    expect(created.form).toEqual({
      type: 'card',
      'card[number]': CARD_OK,
      'card[exp_month]': '11',
      'card[exp_year]': '2031',
      'card[cvc]': '987',
    });
    expect(result).toEqual({
      ok: true,
      card: { brand: 'visa', last4: '4242', expMonth: 11, expYear: 2031, providerRef: expect.any(String) },
    });
    if (!result.ok) return;
    // The ref names what a charge needs: the customer and the payment method Stripe made.
    const [customerId, methodId] = result.card.providerRef.split('/');
    expect(customerId).toMatch(/^cus_\w+$/);
    expect(methodId).toMatch(/^pm_\w+$/);
    expect(customer.form).toEqual({});
    expect(setup.form).toMatchObject({
      customer: customerId,
      payment_method: methodId,
      confirm: 'true',
      usage: 'off_session',
      'allowed_payment_method_types[0]': 'card',
    });
  });

  it('answers card_declined for a card Stripe declines, and removes the customer it made for it', async () => {
    const { result, requests } = await during(() =>
      stripe.verifyCard({ number: CARD_DECLINED, expMonth: 11, expYear: 2031, cvc: '987' }),
    );
    expect(result).toEqual({ ok: false, code: 'card_declined', message: 'Your card was declined.' });
    const customerId = requests.find((request) => request.path === '/v1/setup_intents')?.form.customer;
    expect(customerId).toMatch(/^cus_/);
    expect(requests.map((request) => `${request.method} ${request.path}`)).toEqual([
      'POST /v1/payment_methods',
      'POST /v1/customers',
      'POST /v1/setup_intents',
      `DELETE /v1/customers/${customerId}`,
    ]);
  });

  it('refuses a mistyped number without asking Stripe', async () => {
    const { result, requests } = await during(() =>
      stripe.verifyCard({ number: '4242424242424241', expMonth: 11, expYear: 2031, cvc: '987' }),
    );
    expect(result).toMatchObject({ ok: false, code: 'invalid_card_number' });
    expect(requests).toEqual([]);
  });

  it('is a 503 payment_provider_unavailable when Stripe does not answer, not a declined card', async () => {
    const quick = createStripeProvider({ secretKey: KEY, apiUrl: fake.url, maxNetworkRetries: 0 });
    fake.setOutage({ mode: 'lose_answer', pathPrefix: '/v1/payment_methods' });
    const refused = await quick.verifyCard({ number: CARD_OK, expMonth: 11, expYear: 2031, cvc: '987' }).then(
      () => undefined,
      (error) => error,
    );
    expect(refused).toBeInstanceOf(AppError);
    expect(refused).toMatchObject({ status: 503, code: 'payment_provider_unavailable' });
  });
});

describe('chargeMany', () => {
  let good: VerifiedCard;
  let failing: VerifiedCard;
  beforeAll(async () => {
    good = await addCard(CARD_OK);
    failing = await addCard(CARD_FAILS);
  });

  it('creates one confirmed off-session PaymentIntent per charge, keyed by the charge', async () => {
    const keys = [newKey(), newKey()];
    const { result, requests } = await during(() =>
      stripe.chargeMany(NO_DATABASE, [charge(good, 12_345n, keys[0]), charge(failing, 10_000n, keys[1])]),
    );
    expect(result).toEqual([
      { status: 'succeeded', providerRef: expect.stringMatching(/^pi_\w+$/) },
      { status: 'failed', failureCode: 'card_declined' },
    ]);
    expect(requests).toHaveLength(2);
    const byKey = new Map(requests.map((request) => [request.headers['idempotency-key'], request]));
    const [goodCustomer, goodMethod] = good.providerRef.split('/');
    const first = byKey.get(keys[0]) as RecordedRequest;
    expect(`${first.method} ${first.path}`).toBe('POST /v1/payment_intents');
    expect(first.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(first.form).toMatchObject({
      amount: '12345',
      currency: 'usd',
      customer: goodCustomer,
      payment_method: goodMethod,
      confirm: 'true',
      off_session: 'true',
    });
    const [failingCustomer, failingMethod] = failing.providerRef.split('/');
    expect(byKey.get(keys[1])?.form).toMatchObject({
      amount: '10000',
      customer: failingCustomer,
      payment_method: failingMethod,
    });
    expect(fake.intents.find((intent) => intent.idempotencyKey === keys[0])?.id).toBe(
      (result[0] as { providerRef: string }).providerRef,
    );
  });

  it('is one payment when a collection is run again with the same key', async () => {
    const key = newKey();
    const [first] = await stripe.chargeMany(NO_DATABASE, [charge(good, 5_000n, key)]);
    const [again] = await stripe.chargeMany(NO_DATABASE, [charge(good, 5_000n, key)]);
    expect(again).toEqual(first);
    expect(fake.intents.filter((intent) => intent.idempotencyKey === key)).toHaveLength(1);
    const declinedKey = newKey();
    await stripe.chargeMany(NO_DATABASE, [charge(failing, 5_000n, declinedKey)]);
    expect(await stripe.chargeMany(NO_DATABASE, [charge(failing, 5_000n, declinedKey)])).toEqual([
      { status: 'failed', failureCode: 'card_declined' },
    ]);
    expect(fake.intents.filter((intent) => intent.idempotencyKey === declinedKey)).toHaveLength(1);
  });

  it('charges many side by side, at most four at a time, answering in the order asked', async () => {
    fake.maxConcurrentIntents = 0;
    const requests = Array.from({ length: 20 }, (_, index) =>
      charge(index % 5 === 4 ? failing : good, BigInt(1_000 + index), newKey()),
    );
    const results = await stripe.chargeMany(NO_DATABASE, requests);
    expect(results.map((result) => result.status)).toEqual(
      requests.map((_, index) => (index % 5 === 4 ? 'failed' : 'succeeded')),
    );
    for (const [index, result] of results.entries()) {
      if (result.status !== 'succeeded') continue;
      const intent = fake.intents.find((entry) => entry.id === result.providerRef);
      expect(intent).toMatchObject({ idempotencyKey: requests[index].idempotencyKey, amount: String(1_000 + index) });
    }
    expect(fake.maxConcurrentIntents).toBeGreaterThan(1);
    expect(fake.maxConcurrentIntents).toBeLessThanOrEqual(4);
  });

  it('throws when Stripe does not answer, and the run again finds the payment Stripe made', async () => {
    const key = newKey();
    fake.setOutage({ mode: 'lose_answer', pathPrefix: '/v1/payment_intents' });
    const quick = createStripeProvider({ secretKey: KEY, apiUrl: fake.url, maxNetworkRetries: 1 });
    const lost = await quick.chargeMany(NO_DATABASE, [charge(good, 7_500n, key)]).then(
      () => undefined,
      (error) => error,
    );
    expect(lost).toMatchObject({ code: 'payment_provider_unavailable' });
    expect(fake.intents.filter((intent) => intent.idempotencyKey === key)).toHaveLength(1);
    fake.setOutage(null);
    const [found] = await quick.chargeMany(NO_DATABASE, [charge(good, 7_500n, key)]);
    expect(found).toEqual({ status: 'succeeded', providerRef: fake.intents.find((i) => i.idempotencyKey === key)?.id });
    expect(fake.intents.filter((intent) => intent.idempotencyKey === key)).toHaveLength(1);
  });

  it('throws on Stripe’s own errors and on a refused key: neither is a declined card', async () => {
    fake.setOutage({ mode: 'server_error', pathPrefix: '/v1/payment_intents' });
    const quick = createStripeProvider({ secretKey: KEY, apiUrl: fake.url, maxNetworkRetries: 0 });
    await expect(quick.chargeMany(NO_DATABASE, [charge(good, 7_500n, newKey())])).rejects.toMatchObject({
      status: 503,
      code: 'payment_provider_unavailable',
    });
    fake.setOutage(null);
    const wrongKey = createStripeProvider({ secretKey: 'sk_live_wrong', apiUrl: fake.url, maxNetworkRetries: 0 });
    await expect(wrongKey.chargeMany(NO_DATABASE, [charge(good, 7_500n, newKey())])).rejects.toThrow(
      /Stripe refused the request \(StripeAuthenticationError 401\)/,
    );
  });

  it('waits for the charges in flight before it throws, and starts no new one', async () => {
    const keys = Array.from({ length: 12 }, newKey);
    const batch = keys.map((key) => charge(good, 2_000n, key));
    // A charge the provider cannot send (no amount) fails at once while the first two are in flight.
    batch[2] = { ...batch[2], amount: 0n };
    const from = fake.requests.length;
    const quick = createStripeProvider({ secretKey: KEY, apiUrl: fake.url, concurrency: 3 });
    await expect(quick.chargeMany(NO_DATABASE, batch)).rejects.toThrow(/cannot charge 0 usd/);
    const made = fake.intents.map((intent) => intent.idempotencyKey);
    expect(made).toContain(keys[0]);
    expect(made).toContain(keys[1]);
    const sent = fake.requests.slice(from).map((request) => request.headers['idempotency-key']);
    expect(sent).toEqual([keys[0], keys[1]]);
  });

  it('records Stripe’s refusal of the payment’s own values as a failed charge', async () => {
    const [customerId] = good.providerRef.split('/');
    const results = await stripe.chargeMany(NO_DATABASE, [
      { ...charge(good, 5_000n, newKey()), providerRef: `${customerId}/pm_detached000` },
      charge(good, 30n, newKey()),
      { ...charge(good, 5_000n, newKey()), providerRef: 'testcard_succeeds_0a1b2c' },
    ]);
    expect(results).toEqual([
      { status: 'failed', failureCode: 'resource_missing' },
      { status: 'failed', failureCode: 'amount_too_small' },
      { status: 'failed', failureCode: 'payment_method_unavailable' },
    ]);
  });
});

describe('the card number', () => {
  it('goes to Stripe once, in the request that creates the payment method, and nowhere else', async () => {
    const from = fake.requests.length;
    const card = await addCard(CARD_OK, { cvc: '654' });
    await stripe.chargeMany(NO_DATABASE, [charge(card, 9_900n, newKey())]);
    await stripe.verifyCard({ number: CARD_DECLINED, expMonth: 11, expYear: 2031, cvc: '654' });
    expect(JSON.stringify(card)).not.toContain(CARD_OK);
    const sent = fake.requests.slice(from);
    for (const number of [CARD_OK, CARD_DECLINED]) {
      const carrying = sent.filter((request) =>
        JSON.stringify([request.path, request.headers, request.body]).includes(number),
      );
      expect(carrying.map((request) => request.path)).toEqual(['/v1/payment_methods']);
      const formsWithCvc = sent.filter((request) =>
        Object.entries(request.form).some(([name, value]) => name.includes('cvc') || value === '654'),
      );
      expect(formsWithCvc.map((request) => request.form['card[number]'])).toEqual([CARD_OK, CARD_DECLINED]);
    }
  });
});
