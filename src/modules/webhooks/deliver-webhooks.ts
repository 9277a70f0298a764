import { performance } from 'node:perf_hooks';
import type { Database } from '../../db/client.ts';
import { newId } from '../../kernel/ids.ts';
import {
  type ClaimedDelivery,
  claimDueDeliveries,
  fanOutEvents,
  insertAttempt,
  lockDelivery,
  updateDelivery,
} from './webhooks.repo.ts';
import { isAccepted, nextAttemptAt, signatureHeader, truncated } from './webhooks.ts';

/** How the dispatcher sends; `fetch` may be replaced (a test's network), by default the global one. */
export interface DeliverOptions {
  /** Deliveries claimed and sent in one call. */
  limit?: number;
  /** How long one POST may take, response body included. */
  timeoutMs?: number;
  /** POSTs in flight at once. */
  concurrency?: number;
  fetch?: typeof globalThis.fetch;
}

export interface DeliveryPass {
  /** Events fanned out, and the deliveries they made. */
  events: number;
  deliveries: number;
  /** Attempts sent, and how they ended. */
  attempted: number;
  succeeded: number;
  retrying: number;
  failed: number;
}

const FAN_OUT_BATCH = 1000;
/** Fan-out batches per call: a burst of events (a sweep of thousands of orgs) is spread over calls. */
const FAN_OUT_BATCHES = 20;
/** Bytes of a response body read; the log keeps the first kilobyte. */
const READ_LIMIT = 16 * 1024;
export const USER_AGENT = 'Tierline-Webhooks/1.0';

interface AttemptResult {
  status: number | null;
  body: string | null;
  error: string | null;
  durationMs: number;
}

async function readSome(response: Response): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < READ_LIMIT) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).subarray(0, READ_LIMIT).toString('utf8');
}

function describeFailure(error: unknown, timeoutMs: number): string {
  const failure = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (failure?.name === 'TimeoutError' || failure?.name === 'AbortError') return `No answer within ${timeoutMs} ms.`;
  const cause = failure?.cause;
  if (cause?.code) return `${cause.code}: ${cause.message ?? failure.message ?? ''}`.trim();
  return String(cause?.message ?? failure?.message ?? error);
}

/** One signed POST of the event's body; redirects are not followed (a 3xx is a failure, as at Stripe). */
async function send(
  delivery: ClaimedDelivery,
  now: Date,
  options: { timeoutMs: number; fetch: typeof globalThis.fetch },
): Promise<AttemptResult> {
  const timestamp = Math.floor(now.getTime() / 1000);
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  try {
    const response = await options.fetch(delivery.url, {
      method: 'POST',
      redirect: 'manual',
      signal: AbortSignal.timeout(options.timeoutMs),
      headers: {
        'content-type': 'application/json; charset=utf-8',
        'user-agent': USER_AGENT,
        'tierline-signature': signatureHeader(delivery.secrets, timestamp, delivery.payload),
        'tierline-event-id': delivery.eventId,
        'tierline-event-type': delivery.eventType,
        'tierline-delivery-id': delivery.id,
        'tierline-delivery-attempt': String(delivery.attempts + 1),
      },
      body: delivery.payload,
    });
    const body = await readSome(response).catch(() => '');
    return { status: response.status, body: truncated(body), error: null, durationMs: elapsed() };
  } catch (error) {
    return {
      status: null,
      body: null,
      error: truncated(describeFailure(error, options.timeoutMs)),
      durationMs: elapsed(),
    };
  }
}

/**
 * Logs the attempt and settles the delivery in one short transaction: succeeded on a 2xx, else due
 * again on the retry schedule, or failed once the three days are over. A sender whose lease was taken
 * over (it ran out) logs its attempt but leaves the state to the new holder.
 */
async function settle(
  db: Database,
  delivery: ClaimedDelivery,
  token: string,
  now: Date,
  result: AttemptResult,
): Promise<'succeeded' | 'retrying' | 'failed' | 'gone'> {
  return db.transaction(async (tx) => {
    const current = await lockDelivery(tx, delivery.id);
    if (!current) return 'gone';
    const attempt = current.attempts + 1;
    const accepted = result.status !== null && isAccepted(result.status);
    await insertAttempt(tx, {
      id: newId('wha'),
      deliveryId: delivery.id,
      attempt,
      startedAt: now,
      durationMs: result.durationMs,
      responseStatus: result.status,
      responseBody: result.body,
      error: result.error,
      succeeded: accepted,
    });
    const logged = {
      attempts: attempt,
      lastAttemptAt: now,
      lastResponseStatus: result.status,
      lastError: accepted ? null : (result.error ?? `HTTP ${result.status}`),
    };
    if (current.claimToken !== token) {
      await updateDelivery(tx, delivery.id, logged);
      return accepted ? 'succeeded' : 'retrying';
    }
    if (accepted) {
      await updateDelivery(tx, delivery.id, {
        ...logged,
        status: 'succeeded',
        nextAttemptAt: null,
        claimToken: null,
        succeededAt: now,
      });
      return 'succeeded';
    }
    const next = nextAttemptAt(attempt, now, current.retryUntil);
    await updateDelivery(tx, delivery.id, {
      ...logged,
      status: next ? 'pending' : 'failed',
      nextAttemptAt: next,
      claimToken: null,
    });
    return next ? 'retrying' : 'failed';
  });
}

/**
 * One pass of webhook work as of `now` (the clock's instant, test clock included): fans new events
 * out into deliveries, claims the due ones under a lease in a short transaction, POSTs them signed
 * outside any transaction (at most `concurrency` at once, each within `timeoutMs`), and settles each
 * in its own short transaction. Safe to run in several processes at once: each attempt is sent once.
 */
export async function deliverDueWebhooks(db: Database, now: Date, options: DeliverOptions = {}): Promise<DeliveryPass> {
  const limit = options.limit ?? 100;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const concurrency = Math.max(1, options.concurrency ?? 4);
  const fetch = options.fetch ?? globalThis.fetch;
  const pass: DeliveryPass = { events: 0, deliveries: 0, attempted: 0, succeeded: 0, retrying: 0, failed: 0 };

  for (let batch = 0; batch < FAN_OUT_BATCHES; batch++) {
    const fanned = await db.transaction((tx) => fanOutEvents(tx, now, FAN_OUT_BATCH));
    pass.events += fanned.events;
    pass.deliveries += fanned.deliveries;
    if (fanned.events < FAN_OUT_BATCH) break;
  }

  // The lease covers the slowest pass (every POST timing out) with a minute to spare.
  const leaseMs = Math.ceil(limit / concurrency) * timeoutMs + 60_000;
  const token = newId('whc');
  const claimed = await db.transaction((tx) =>
    claimDueDeliveries(tx, { now, limit, leaseUntil: new Date(now.getTime() + leaseMs), token }),
  );

  const errors: unknown[] = [];
  let next = 0;
  const sender = async () => {
    while (next < claimed.length) {
      const delivery = claimed[next++];
      try {
        const result = await send(delivery, now, { timeoutMs, fetch });
        const outcome = await settle(db, delivery, token, now, result);
        pass.attempted++;
        if (outcome !== 'gone') pass[outcome]++;
      } catch (error) {
        errors.push(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, claimed.length) }, sender));
  if (errors.length > 0) throw errors[0];
  return pass;
}
