import { createHmac, timingSafeEqual } from 'node:crypto';
import { fail } from '../../kernel/errors.ts';

/** Webhooks for operators: event types, payloads, signatures and the retry schedule. Pure. */

/** The public event types, each with what it means; endpoints subscribe to them (or to `*`). */
export const WEBHOOK_EVENT_TYPES = {
  'org.created': 'An organization was created by a sign-up.',
  'org.owner_transferred': 'The owner of an organization changed.',
  'org.deactivation_upcoming':
    'A free organization will be deactivated for inactivity: sent 7 days and 1 day before, with the instant.',
  'org.deactivated': 'An organization was deactivated (for inactivity, or by staff with a reason).',
  'org.reactivated': 'Staff reactivated an organization, on the Free plan.',
  'org.email_unlocked': 'Staff lifted the lock a deactivation put on an organization’s email.',
  'subscription.started': 'An organization started a paid plan (Plus, or Enterprise by sales).',
  'subscription.ended': 'A paid plan ended (downgrade, deactivation, failed payment or a plan change by sales).',
  'invoice.created': 'A cycle invoice was calculated (72 hours before its billing date).',
  'invoice.paid': 'An invoice was paid: charged to the card, or marked paid by staff for a bank transfer.',
  'invoice.payment_failed': 'A charge failed; the invoice is past due and will be retried.',
  'invoice.marked_uncollectible': 'An invoice was given up as uncollectible after its last failed charge.',
  'invoice.voided': 'An uncollected invoice was voided, replaced by a final invoice.',
} as const;

export type WebhookEventType = keyof typeof WEBHOOK_EVENT_TYPES;
export const EVENT_TYPE_NAMES = Object.keys(WEBHOOK_EVENT_TYPES) as WebhookEventType[];
/** What an endpoint subscribes to in order to get every type, including types added later. */
export const ALL_EVENTS = '*';

/** Audit actions that are public events, and the event type each becomes. */
const TYPE_OF_ACTION: Record<string, WebhookEventType> = {
  'org.created': 'org.created',
  'org.owner_transferred': 'org.owner_transferred',
  'org.deactivation_warned': 'org.deactivation_upcoming',
  'org.deactivated': 'org.deactivated',
  'org.reactivated': 'org.reactivated',
  'email.unlocked': 'org.email_unlocked',
  'subscription.started': 'subscription.started',
  'subscription.ended': 'subscription.ended',
  'invoice.calculated': 'invoice.created',
  'invoice.final_issued': 'invoice.created',
  'invoice.paid': 'invoice.paid',
  'invoice.marked_paid': 'invoice.paid',
  'invoice.past_due': 'invoice.payment_failed',
  'invoice.uncollectible': 'invoice.marked_uncollectible',
  'invoice.voided': 'invoice.voided',
};

/** Audit fields that describe Tierline's internals, not the change: left out of payloads. */
const INTERNAL_FIELDS = new Set(['access', 'restored_access']);

/** The public event type of an audit action, if it is one. */
export function eventTypeOf(action: string): WebhookEventType | undefined {
  return Object.hasOwn(TYPE_OF_ACTION, action) ? TYPE_OF_ACTION[action] : undefined;
}

/** An audited change, as the audit log keeps it: what an event is built from. */
export interface AuditedChange {
  id: string;
  orgId: string | null;
  actorType: string;
  actorId: string | null;
  action: string;
  targetType: string;
  targetId: string | null;
  before: unknown;
  after: unknown;
  reason: string | null;
  createdAt: Date;
}

function publicFields(value: unknown): Record<string, unknown> {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return {};
  return Object.fromEntries(Object.entries(value).filter(([key]) => !INTERNAL_FIELDS.has(key)));
}

/**
 * The event body sent to endpoints (Stripe's shape): `data.object` is the changed object's type, id
 * and the attributes the change set; `data.previous_attributes` what they were.
 */
export function eventPayload(id: string, type: WebhookEventType, change: AuditedChange) {
  const previous = publicFields(change.before);
  return {
    id,
    type,
    created_at: change.createdAt.toISOString(),
    org_id: change.orgId,
    data: {
      object: { object: change.targetType, id: change.targetId, ...publicFields(change.after) },
      previous_attributes: Object.keys(previous).length > 0 ? previous : null,
      actor: { type: change.actorType, id: change.actorId },
      reason: change.reason,
    },
  };
}

export type EventPayload = ReturnType<typeof eventPayload>;

/** The events of the audited changes that are public, with their exact JSON bodies. */
export function eventsOf(
  changes: readonly AuditedChange[],
  newEventId: () => string,
): Array<{ id: string; type: WebhookEventType; change: AuditedChange; body: string }> {
  const events = [];
  for (const change of changes) {
    const type = eventTypeOf(change.action);
    if (!type) continue;
    const id = newEventId();
    events.push({ id, type, change, body: JSON.stringify(eventPayload(id, type, change)) });
  }
  return events;
}

/** Whether an endpoint subscribed to `events` receives an event of this type. */
export function isSubscribed(events: readonly string[], type: string): boolean {
  return events.includes(ALL_EVENTS) || events.includes(type);
}

/** The event types an endpoint asks for: `*` alone, or known types without repeats (a 400 otherwise). */
export function checkEventTypes(events: readonly string[] | undefined): string[] {
  if (events === undefined) return [ALL_EVENTS];
  if (events.length === 0) throw fail.validation('events', 'Give at least one event type, or "*" for all.');
  const unknown = events.find((type) => type !== ALL_EVENTS && !Object.hasOwn(WEBHOOK_EVENT_TYPES, type));
  if (unknown !== undefined) {
    throw fail.validation('events', `Unknown event type: ${unknown}. See GET /v1/admin/webhook-event-types.`);
  }
  if (events.includes(ALL_EVENTS)) return [ALL_EVENTS];
  return EVENT_TYPE_NAMES.filter((type) => events.includes(type));
}

const MAX_URL_LENGTH = 2048;

/**
 * An endpoint URL: absolute http(s) with a host, no credentials (sent in clear and shown in lists)
 * and no fragment. Any host is allowed, loopback and private networks included (SECURITY.md).
 */
export function checkEndpointUrl(text: string): string {
  const invalid = (why: string) => fail.validation('url', why);
  if (text.length > MAX_URL_LENGTH) throw invalid(`The URL must have at most ${MAX_URL_LENGTH} characters.`);
  if (/\s/.test(text) || [...text].some((char) => char.charCodeAt(0) < 0x20 || char.charCodeAt(0) === 0x7f)) {
    throw invalid('The URL must not contain spaces or control characters.');
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalid('The URL is not valid: give an absolute http:// or https:// URL.');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw invalid('The URL must be http:// or https://.');
  if (!url.hostname) throw invalid('The URL must name a host.');
  if (url.username || url.password) throw invalid('The URL must not carry a user name or password.');
  if (url.hash || text.includes('#')) throw invalid('The URL must not have a fragment (#…).');
  if (url.href.length > MAX_URL_LENGTH) throw invalid(`The URL must have at most ${MAX_URL_LENGTH} characters.`);
  return url.href;
}

/** HMAC-SHA256 of `<t>.<body>` with the secret, hex: the `v1` of the signature header. */
export function signatureOf(secret: string, timestamp: number, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

/**
 * The `Tierline-Signature` header: `t=<unix seconds>,v1=<hex>`, one `v1` per secret in force (two
 * while a rotated secret overlaps with the new one, new first).
 */
export function signatureHeader(secrets: readonly string[], timestamp: number, body: string): string {
  return [`t=${timestamp}`, ...secrets.map((secret) => `v1=${signatureOf(secret, timestamp, body)}`)].join(',');
}

/**
 * What a receiver does: parses the header, recomputes the HMAC over the raw body with its secret and
 * compares in constant time; with `toleranceSeconds`, `t` must also be that close to `now`.
 */
export function verifySignature(
  header: string,
  body: string,
  secret: string,
  options: { now?: Date; toleranceSeconds?: number } = {},
): boolean {
  let timestamp: number | undefined;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const [key, value] = part.split('=', 2);
    if (key === 't' && value && /^\d{1,12}$/.test(value)) timestamp = Number(value);
    if (key === 'v1' && value && /^[0-9a-f]{64}$/.test(value)) signatures.push(value);
  }
  if (timestamp === undefined || signatures.length === 0) return false;
  if (options.now && options.toleranceSeconds !== undefined) {
    if (Math.abs(options.now.getTime() / 1000 - timestamp) > options.toleranceSeconds) return false;
  }
  const expected = Buffer.from(signatureOf(secret, timestamp, body), 'hex');
  return signatures.some((signature) => timingSafeEqual(Buffer.from(signature, 'hex'), expected));
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** How long Tierline keeps trying a delivery, from the event's instant. */
export const RETRY_WINDOW_MS = 72 * HOUR;

/** The wait after the n-th failed attempt (n = 1, 2, …); every wait after the last listed is 12 hours. */
export const RETRY_DELAYS_MS = [MINUTE, 5 * MINUTE, 30 * MINUTE, 2 * HOUR, 5 * HOUR, 10 * HOUR] as const;
const LAST_DELAY_MS = 12 * HOUR;

/**
 * When to try again after the n-th attempt failed at `attemptedAt`: the schedule's wait, but never
 * past `retryUntil` (one last attempt at that instant); null once an attempt at or after it failed.
 */
export function nextAttemptAt(failedAttempts: number, attemptedAt: Date, retryUntil: Date): Date | null {
  if (attemptedAt.getTime() >= retryUntil.getTime()) return null;
  const delay = RETRY_DELAYS_MS[failedAttempts - 1] ?? LAST_DELAY_MS;
  return new Date(Math.min(attemptedAt.getTime() + delay, retryUntil.getTime()));
}

/** Whether an HTTP status means the endpoint took the event: any 2xx (redirects are not followed). */
export function isAccepted(status: number): boolean {
  return status >= 200 && status <= 299;
}

/** How much of a response body or error the delivery log keeps. */
export const LOGGED_TEXT_LENGTH = 1024;

/**
 * Text cut to what the log keeps, with a mark when cut, and storable: NUL and lone surrogates (which
 * PostgreSQL text cannot hold) become U+FFFD.
 */
export function truncated(text: string, length = LOGGED_TEXT_LENGTH): string {
  const cut = text.length > length ? `${text.slice(0, length)}…` : text;
  return cut.replaceAll('\u0000', '\uFFFD').toWellFormed();
}
