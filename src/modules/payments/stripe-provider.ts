import Stripe from 'stripe';
import { AppError } from '../../kernel/errors.ts';
import type { ChargeRequest, ChargeResult, PaymentProvider } from './payments.ts';
import { isLuhnValid } from './test-provider.ts';

export interface StripeProviderOptions {
  secretKey: string;
  /** Another origin for Stripe's API (e.g. http://127.0.0.1:12345), for a stand-in of Stripe. */
  apiUrl?: string;
  /** How many PaymentIntents are created side by side in one chargeMany. */
  concurrency?: number;
  /** The SDK's retries of a request that got no answer (it sends idempotency keys, so they are safe). */
  maxNetworkRetries?: number;
}

const CARD_NUMBER_CODES = new Set(['invalid_number', 'incorrect_number']);

/** The answer to a card that cannot be used; the same words the test provider uses. */
const declined = (message: string) => ({ ok: false as const, code: 'card_declined', message });

/**
 * A provider ref is `<customer id>/<payment method id>`: what a PaymentIntent needs to charge the card
 * off-session. Anything else (a card added under the test provider) cannot be charged here.
 */
function parseProviderRef(ref: string): { customer: string; paymentMethod: string } | undefined {
  const match = /^(cus_\w+)\/(pm_\w+)$/.exec(ref);
  return match ? { customer: match[1], paymentMethod: match[2] } : undefined;
}

/** The request parameters that belong to the payment itself rather than to how Tierline asks. */
const PAYMENT_PARAMS = new Set(['customer', 'payment_method', 'amount', 'currency']);

/**
 * Whether Stripe answered about this payment: a card error, or a refusal of one of the payment's own
 * values (a detached payment method, a deleted customer, an amount under Stripe's minimum). Such an
 * answer is the charge's outcome. Anything else says nothing about the card: no answer, a timeout,
 * Stripe's own errors, rate limits, a bad key, or a request Tierline should not have sent.
 */
function failureCodeOf(error: unknown): string | undefined {
  if (error instanceof Stripe.errors.StripeCardError) return error.code ?? 'card_declined';
  if (error instanceof Stripe.errors.StripeInvalidRequestError && PAYMENT_PARAMS.has(error.param ?? '')) {
    return error.code ?? 'invalid_request';
  }
  return undefined;
}

/**
 * The error for a request Stripe did not answer about the card. A passing outage (no answer, Stripe's
 * 5xx, a rate limit) is a 503 to try again; a refusal of Tierline itself (a bad key, a missing
 * permission, a reused idempotency key) is a plain error, logged as ours.
 */
function providerError(error: unknown): Error {
  if (
    error instanceof Stripe.errors.StripeConnectionError ||
    error instanceof Stripe.errors.StripeAPIError ||
    error instanceof Stripe.errors.StripeRateLimitError
  ) {
    return new AppError(
      503,
      'payment_provider_unavailable',
      `The payment provider could not be reached (${error.type}). Try again in a moment.`,
    );
  }
  if (error instanceof Stripe.errors.StripeError) {
    return new Error(`Stripe refused the request (${error.type} ${error.statusCode ?? ''}): ${error.message}`, {
      cause: error,
    });
  }
  return error instanceof Error ? error : new Error(String(error));
}

/**
 * Runs `work` on every item with at most `limit` at a time. After a failure no new item is started
 * (the ones in flight are waited for), and the first failure is thrown.
 */
async function forEachBounded<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>) {
  const results: R[] = new Array(items.length);
  let next = 0;
  let failure: { reason: unknown } | undefined;
  const lane = async () => {
    while (next < items.length && !failure) {
      const index = next++;
      try {
        results[index] = await work(items[index]);
      } catch (reason) {
        failure ??= { reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  if (failure) throw failure.reason;
  return results;
}

/**
 * The Stripe provider (spec 5). A card is verified as Stripe users save one for later: a card
 * PaymentMethod, a Customer, and a SetupIntent confirmed for off-session use, which attaches the card
 * to the customer. A charge is one PaymentIntent confirmed off-session, created with the charge's
 * idempotency key, so a collection run again after a crash or a lost answer is the same payment.
 */
export function createStripeProvider(options: StripeProviderOptions): PaymentProvider {
  const api = options.apiUrl ? new URL(options.apiUrl) : undefined;
  const stripe = new Stripe(options.secretKey, {
    ...(api
      ? {
          host: api.hostname,
          port: api.port || (api.protocol === 'http:' ? '80' : '443'),
          protocol: api.protocol === 'http:' ? 'http' : 'https',
        }
      : {}),
    maxNetworkRetries: options.maxNetworkRetries ?? 2,
    telemetry: false,
    appInfo: { name: 'Tierline' },
  });
  const concurrency = Math.max(1, options.concurrency ?? 8);

  async function charge(request: ChargeRequest): Promise<ChargeResult> {
    const ref = parseProviderRef(request.providerRef);
    if (!ref) return { status: 'failed', failureCode: 'payment_method_unavailable' };
    if (request.amount <= 0n || request.amount > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new Error(`cannot charge ${request.amount} ${request.currency} (${request.idempotencyKey})`);
    }
    try {
      const intent = await stripe.paymentIntents.create(
        {
          amount: Number(request.amount),
          currency: request.currency.toLowerCase(),
          customer: ref.customer,
          payment_method: ref.paymentMethod,
          allowed_payment_method_types: ['card'],
          confirm: true,
          off_session: true,
          metadata: { tierline_idempotency_key: request.idempotencyKey },
        },
        { idempotencyKey: request.idempotencyKey },
      );
      if (intent.status === 'succeeded') return { status: 'succeeded', providerRef: intent.id };
      // Still settling: neither paid nor failed. Calling it failed could charge the invoice twice
      // (the next attempt has a new key), so the collection waits, and the operator sees why.
      if (intent.status === 'processing') throw new Error(`PaymentIntent ${intent.id} is still processing`);
      // An intent left waiting (e.g. for 3-D Secure, which nobody can complete off-session) is not paid.
      return {
        status: 'failed',
        failureCode: intent.status === 'requires_action' ? 'authentication_required' : `payment_${intent.status}`,
      };
    } catch (error) {
      const failureCode = failureCodeOf(error);
      if (failureCode) return { status: 'failed', failureCode };
      throw providerError(error);
    }
  }

  return {
    name: 'stripe',

    async verifyCard(card) {
      const number = card.number.replace(/[\s-]/g, '');
      if (!/^\d{12,19}$/.test(number) || !isLuhnValid(number)) {
        return { ok: false, code: 'invalid_card_number', message: 'The card number is not valid.' };
      }
      let customerId: string | undefined;
      try {
        const method = await stripe.paymentMethods.create({
          type: 'card',
          card: { number, exp_month: card.expMonth, exp_year: card.expYear, cvc: card.cvc },
        });
        const customer = await stripe.customers.create({});
        customerId = customer.id;
        const setup = await stripe.setupIntents.create({
          customer: customer.id,
          payment_method: method.id,
          allowed_payment_method_types: ['card'],
          usage: 'off_session',
          confirm: true,
        });
        if (setup.status !== 'succeeded') {
          await forget(customer.id);
          return declined('The card needs an authentication that cannot be done here. Try another card.');
        }
        if (!method.card) throw new Error(`Stripe answered PaymentMethod ${method.id} without its card`);
        return {
          ok: true,
          card: {
            brand: method.card.brand,
            last4: method.card.last4,
            expMonth: method.card.exp_month,
            expYear: method.card.exp_year,
            providerRef: `${customer.id}/${method.id}`,
          },
        };
      } catch (error) {
        if (error instanceof Stripe.errors.StripeCardError) {
          if (customerId) await forget(customerId);
          if (CARD_NUMBER_CODES.has(error.code ?? '')) {
            return { ok: false, code: 'invalid_card_number', message: 'The card number is not valid.' };
          }
          return declined(error.message);
        }
        throw providerError(error);
      }
    },

    async chargeMany(_executor, requests) {
      // A throw here rolls the collection back and the due-work runner runs it again later. Nothing is
      // left in flight when it throws, and the run again sends the same idempotency keys, so Stripe
      // answers the charges it already made instead of making them twice.
      return forEachBounded(requests, concurrency, charge);
    },
  };

  /** Removes the customer of a refused card; best effort, it holds nothing that is charged. */
  async function forget(customerId: string) {
    try {
      await stripe.customers.del(customerId);
    } catch {
      // A leftover customer without a usable card costs nothing.
    }
  }
}
