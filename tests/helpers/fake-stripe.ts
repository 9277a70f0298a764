import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as it reached the stand-in: what the SDK sent, byte for byte. */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** The form-encoded body, keys as sent (`card[number]`). */
  form: Record<string, string>;
}

/** A PaymentIntent the stand-in created (once per idempotency key), succeeded or failed. */
export interface CreatedIntent {
  id: string;
  idempotencyKey: string | undefined;
  amount: string;
  currency: string;
  customer: string;
  paymentMethod: string;
  status: 'succeeded' | 'requires_payment_method';
}

/**
 * How the stand-in misbehaves while set: `lose_answer` does the work and then closes the connection
 * without answering (the worst case for a client), `server_error` answers 500 without doing it.
 */
export type Outage = { mode: 'lose_answer' | 'server_error'; pathPrefix: string } | null;

export interface FakeStripe {
  url: string;
  requests: RecordedRequest[];
  intents: CreatedIntent[];
  /** The most PaymentIntent requests that were being answered at the same time. */
  maxConcurrentIntents: number;
  setOutage(outage: Outage): void;
  close(): Promise<void>;
}

/** Spec 5's test cards, as Stripe's test mode treats them. */
const DECLINED_ON_SETUP = '4000000000000002';
const DECLINED_ON_CHARGE = '4000000000000341';

const id = (prefix: string) => `${prefix}_${randomBytes(12).toString('hex')}`;

function brandOf(number: string) {
  if (number.startsWith('4')) return 'visa';
  if (/^5[1-5]/.test(number)) return 'mastercard';
  if (/^3[47]/.test(number)) return 'amex';
  return 'unknown';
}

function send(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'request-id': id('req'),
    'stripe-version': '2026-10-28.endive',
    ...headers,
  });
  response.end(text);
}

function cardError(code: string, message: string, extra: Record<string, unknown>) {
  return {
    error: {
      type: 'card_error',
      code,
      decline_code: 'generic_decline',
      message,
      doc_url: `https://docs.stripe.com/error-codes/${code.replace(/_/g, '-')}`,
      request_log_url: `https://dashboard.stripe.com/test/logs/${id('req')}`,
      ...extra,
    },
  };
}

const invalidRequest = (code: string, param: string, message: string) => ({
  error: { type: 'invalid_request_error', code, param, message },
});

/**
 * A loopback HTTP server that plays Stripe's API for the calls the Stripe provider makes (payment
 * methods, customers, setup intents, payment intents with idempotency keys) and records each request.
 */
export async function startFakeStripe(options: { intentDelayMs?: number } = {}): Promise<FakeStripe> {
  const methods = new Map<string, { object: Record<string, any>; number: string }>();
  const customers = new Set<string>();
  const replies = new Map<string, { status: number; body: unknown }>();
  let outage: Outage = null;
  let inFlight = 0;

  const fake: FakeStripe = {
    url: '',
    requests: [],
    intents: [],
    maxConcurrentIntents: 0,
    setOutage(next) {
      outage = next;
    },
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };

  function createIntent(form: Record<string, string>, key: string | undefined): { status: number; body: unknown } {
    if (!/^\d+$/.test(form.amount ?? '')) {
      return { status: 400, body: invalidRequest('parameter_invalid_integer', 'amount', 'Invalid integer.') };
    }
    if (Number(form.amount) < 50) {
      return {
        status: 400,
        body: invalidRequest('amount_too_small', 'amount', 'Amount must be at least $0.50 usd.'),
      };
    }
    const method = methods.get(form.payment_method);
    if (!method) {
      return {
        status: 404,
        body: invalidRequest('resource_missing', 'payment_method', `No such PaymentMethod: '${form.payment_method}'`),
      };
    }
    if (method.object.customer !== form.customer) {
      return {
        status: 400,
        body: invalidRequest(
          'payment_method_not_available',
          'payment_method',
          'The PaymentMethod does not belong to the Customer you supplied.',
        ),
      };
    }
    const fails = method.number === DECLINED_ON_CHARGE;
    const intent = {
      id: id('pi'),
      object: 'payment_intent',
      amount: Number(form.amount),
      amount_received: fails ? 0 : Number(form.amount),
      currency: form.currency,
      customer: form.customer,
      payment_method: form.payment_method,
      payment_method_types: ['card'],
      capture_method: 'automatic_async',
      confirmation_method: 'automatic',
      created: Math.floor(Date.now() / 1000),
      latest_charge: id('ch'),
      livemode: false,
      metadata: Object.fromEntries(
        Object.entries(form)
          .filter(([name]) => name.startsWith('metadata['))
          .map(([name, value]) => [name.slice(9, -1), value]),
      ),
      status: fails ? 'requires_payment_method' : 'succeeded',
      last_payment_error: null as unknown,
    };
    fake.intents.push({
      id: intent.id,
      idempotencyKey: key,
      amount: form.amount,
      currency: form.currency,
      customer: form.customer,
      paymentMethod: form.payment_method,
      status: intent.status as CreatedIntent['status'],
    });
    if (fails) {
      const error = cardError('card_declined', 'Your card was declined.', { charge: intent.latest_charge });
      intent.last_payment_error = error.error;
      return { status: 402, body: { error: { ...error.error, payment_intent: intent } } };
    }
    return { status: 200, body: intent };
  }

  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', async () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const path = (request.url ?? '/').split('?')[0];
      const form = Object.fromEntries(new URLSearchParams(body));
      fake.requests.push({ method: request.method ?? '', path, headers: request.headers, body, form });

      if (!/^Bearer sk_test_\w+$/.test(String(request.headers.authorization ?? ''))) {
        return send(response, 401, {
          error: { type: 'invalid_request_error', message: 'Invalid API Key provided: sk_live_****' },
        });
      }
      if (outage && path.startsWith(outage.pathPrefix) && outage.mode === 'server_error') {
        return send(response, 500, { error: { type: 'api_error', message: 'An unknown error occurred.' } });
      }
      const losesAnswer = outage?.mode === 'lose_answer' && path.startsWith(outage.pathPrefix);
      const answer = (status: number, payload: unknown, headers?: Record<string, string>) => {
        if (losesAnswer) request.socket.destroy();
        else send(response, status, payload, headers);
      };

      if (request.method === 'POST' && path === '/v1/payment_methods') {
        const number = form['card[number]'] ?? '';
        const object = {
          id: id('pm'),
          object: 'payment_method',
          type: 'card',
          allow_redisplay: 'unspecified',
          billing_details: { address: null, email: null, name: null, phone: null },
          card: {
            brand: brandOf(number),
            display_brand: brandOf(number),
            checks: { address_line1_check: null, address_postal_code_check: null, cvc_check: 'unchecked' },
            country: 'US',
            exp_month: Number(form['card[exp_month]']),
            exp_year: Number(form['card[exp_year]']),
            fingerprint: randomBytes(8).toString('hex'),
            funding: 'credit',
            last4: number.slice(-4),
            networks: { available: [brandOf(number)], preferred: null },
            three_d_secure_usage: { supported: true },
            wallet: null,
          },
          created: Math.floor(Date.now() / 1000),
          customer: null as string | null,
          livemode: false,
          metadata: {},
        };
        methods.set(object.id, { object, number });
        return answer(200, object);
      }

      if (request.method === 'POST' && path === '/v1/customers') {
        const customer = {
          id: id('cus'),
          object: 'customer',
          balance: 0,
          created: Math.floor(Date.now() / 1000),
          currency: null,
          default_source: null,
          delinquent: false,
          email: form.email ?? null,
          invoice_settings: { custom_fields: null, default_payment_method: null, footer: null },
          livemode: false,
          metadata: {},
        };
        customers.add(customer.id);
        return answer(200, customer);
      }

      const deleted = /^\/v1\/customers\/(cus_\w+)$/.exec(path);
      if (request.method === 'DELETE' && deleted) {
        if (!customers.delete(deleted[1])) {
          return answer(404, invalidRequest('resource_missing', 'id', `No such customer: '${deleted[1]}'`));
        }
        for (const method of methods.values()) if (method.object.customer === deleted[1]) method.object.customer = null;
        return answer(200, { id: deleted[1], object: 'customer', deleted: true });
      }

      if (request.method === 'POST' && path === '/v1/setup_intents') {
        const method = methods.get(form.payment_method);
        if (!method) {
          return answer(
            404,
            invalidRequest('resource_missing', 'payment_method', `No such PaymentMethod: '${form.payment_method}'`),
          );
        }
        if (!customers.has(form.customer)) {
          return answer(404, invalidRequest('resource_missing', 'customer', `No such customer: '${form.customer}'`));
        }
        const setup = {
          id: id('seti'),
          object: 'setup_intent',
          client_secret: `${id('seti')}_secret_${randomBytes(8).toString('hex')}`,
          created: Math.floor(Date.now() / 1000),
          customer: form.customer,
          livemode: false,
          payment_method: form.payment_method,
          payment_method_types: ['card'],
          status: 'succeeded',
          usage: form.usage ?? 'off_session',
          last_setup_error: null,
        };
        if (method.number === DECLINED_ON_SETUP) {
          return answer(
            402,
            cardError('card_declined', 'Your card was declined.', {
              setup_intent: { ...setup, status: 'requires_payment_method', payment_method: null },
            }),
          );
        }
        if (form.confirm === 'true') method.object.customer = form.customer;
        return answer(200, setup);
      }

      if (request.method === 'POST' && path === '/v1/payment_intents') {
        inFlight++;
        fake.maxConcurrentIntents = Math.max(fake.maxConcurrentIntents, inFlight);
        if (options.intentDelayMs) await new Promise((resolve) => setTimeout(resolve, options.intentDelayMs));
        inFlight--;
        const key = request.headers['idempotency-key'] as string | undefined;
        const replay = key ? replies.get(key) : undefined;
        if (replay) return answer(replay.status, replay.body, { 'idempotent-replayed': 'true' });
        const reply = createIntent(form, key);
        if (key) replies.set(key, reply);
        return answer(reply.status, reply.body);
      }

      return send(response, 404, {
        error: { type: 'invalid_request_error', message: `Unrecognized request URL (${request.method}: ${path}).` },
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return fake;
}
