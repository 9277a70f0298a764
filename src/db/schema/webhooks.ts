import { sql } from 'drizzle-orm';
import { boolean, index, integer, pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { instant } from './columns.ts';

/** Where staff want events sent; the secret signs them, so it is kept as it is (not hashed). */
export const webhookEndpoints = pgTable(
  'webhook_endpoints',
  {
    id: text('id').primaryKey(),
    url: text('url').notNull(),
    description: text('description'),
    /** Event types it receives; `*` is every type, present and future. */
    events: text('events').array().notNull(),
    enabled: boolean('enabled').notNull(),
    secret: text('secret').notNull(),
    /** After a rotation with an overlap, the old secret also signs until it expires. */
    previousSecret: text('previous_secret'),
    previousSecretExpiresAt: instant('previous_secret_expires_at'),
    createdAt: instant('created_at').notNull(),
    updatedAt: instant('updated_at').notNull(),
  },
  (t) => [index('webhook_endpoints_created_idx').on(t.createdAt, t.id)],
);

/**
 * The outbox of events, written in the transaction of the change they describe; `payload` is the
 * exact JSON body sent (and signed). Fanned out to deliveries by the dispatcher.
 */
export const webhookEvents = pgTable(
  'webhook_events',
  {
    id: text('id').primaryKey(),
    orgId: text('org_id'),
    type: text('type').notNull(),
    auditEventId: text('audit_event_id'),
    payload: text('payload').notNull(),
    createdAt: instant('created_at').notNull(),
    fannedOutAt: instant('fanned_out_at'),
  },
  (t) => [
    index('webhook_events_org_idx').on(t.orgId, t.createdAt, t.id),
    index('webhook_events_pending_idx').on(t.createdAt, t.id).where(sql`fanned_out_at is null`),
    // Retention finds the oldest events here instead of reading the whole table on every pass.
    index('webhook_events_created_idx').on(t.createdAt, t.id),
  ],
);

/** One event to one endpoint: pending (or sending, under a lease) until it succeeds or fails for good. */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: text('id').primaryKey(),
    endpointId: text('endpoint_id')
      .notNull()
      .references(() => webhookEndpoints.id, { onDelete: 'cascade' }),
    eventId: text('event_id')
      .notNull()
      .references(() => webhookEvents.id, { onDelete: 'cascade' }),
    orgId: text('org_id'),
    eventType: text('event_type').notNull(),
    status: text('status').notNull(),
    attempts: integer('attempts').notNull().default(0),
    /** When it is due; while sending, when the sender's lease runs out. Null once it is settled. */
    nextAttemptAt: instant('next_attempt_at'),
    /** The sender holding the lease: only it settles the attempt. */
    claimToken: text('claim_token'),
    retryUntil: instant('retry_until').notNull(),
    lastAttemptAt: instant('last_attempt_at'),
    lastResponseStatus: integer('last_response_status'),
    lastError: text('last_error'),
    succeededAt: instant('succeeded_at'),
    createdAt: instant('created_at').notNull(),
  },
  (t) => [
    uniqueIndex('webhook_deliveries_event_endpoint_key').on(t.eventId, t.endpointId),
    index('webhook_deliveries_endpoint_idx').on(t.endpointId, t.createdAt, t.id),
    index('webhook_deliveries_due_idx').on(t.nextAttemptAt, t.id).where(sql`status in ('pending', 'sending')`),
  ],
);

/** The delivery log: every HTTP attempt with what came back. */
export const webhookAttempts = pgTable(
  'webhook_attempts',
  {
    id: text('id').primaryKey(),
    deliveryId: text('delivery_id')
      .notNull()
      .references(() => webhookDeliveries.id, { onDelete: 'cascade' }),
    attempt: integer('attempt').notNull(),
    startedAt: instant('started_at').notNull(),
    durationMs: integer('duration_ms').notNull(),
    responseStatus: integer('response_status'),
    responseBody: text('response_body'),
    error: text('error'),
    succeeded: boolean('succeeded').notNull(),
  },
  (t) => [index('webhook_attempts_delivery_idx').on(t.deliveryId, t.startedAt, t.id)],
);
