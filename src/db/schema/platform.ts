import { sql } from 'drizzle-orm';
import { index, integer, jsonb, pgTable, primaryKey, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { instant } from './columns.ts';

export const auditEvents = pgTable(
  'audit_events',
  {
    id: text('id').primaryKey(),
    orgId: text('org_id'),
    actorType: text('actor_type').notNull(),
    actorId: text('actor_id'),
    action: text('action').notNull(),
    targetType: text('target_type').notNull(),
    targetId: text('target_id'),
    before: jsonb('before'),
    after: jsonb('after'),
    reason: text('reason'),
    createdAt: instant('created_at').notNull(),
  },
  (t) => [
    index('audit_events_org_idx').on(t.orgId, t.createdAt),
    // Deactivations by reason, for /metrics, without reading the whole audit trail.
    index('audit_events_deactivations_idx').on(t.reason).where(sql`action = 'org.deactivated'`),
  ],
);

export const outboxEmails = pgTable(
  'outbox_emails',
  {
    id: text('id').primaryKey(),
    to: text('to').notNull(),
    subject: text('subject').notNull(),
    kind: text('kind').notNull(),
    body: text('body').notNull(),
    orgId: text('org_id'),
    createdAt: instant('created_at').notNull(),
    sentAt: instant('sent_at'),
    /** While a sender holds the email, or, after a failure that may pass, when it may be tried again. */
    claimedUntil: instant('claimed_until'),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    /** When the server refused it for good: it is not tried again. */
    failedAt: instant('failed_at'),
  },
  (t) => [
    index('outbox_emails_to_idx').on(t.to, t.createdAt),
    index('outbox_emails_created_idx').on(t.createdAt),
    // What senders look for: the queue, oldest first, without stepping over every sent email.
    index('outbox_emails_queued_idx').on(t.createdAt, t.id).where(sql`sent_at is null and failed_at is null`),
  ],
);

/** An email that may not sign up or open an org: one lock per deactivated org that holds it. */
export const emailLocks = pgTable(
  'email_locks',
  {
    id: text('id').primaryKey(),
    email: text('email').notNull(),
    orgId: text('org_id').notNull(),
    reason: text('reason').notNull(),
    createdAt: instant('created_at').notNull(),
  },
  (t) => [
    uniqueIndex('email_locks_email_org_key').on(t.email, t.orgId),
    index('email_locks_org_idx').on(t.orgId),
    index('email_locks_created_idx').on(t.createdAt, t.id),
  ],
);

/** Time-driven work: one row per pending item, processed once at or after its due instant. */
export const dueItems = pgTable(
  'due_items',
  {
    id: text('id').primaryKey(),
    kind: text('kind').notNull(),
    subjectId: text('subject_id').notNull(),
    dueAt: instant('due_at').notNull(),
    payload: jsonb('payload'),
    status: text('status').notNull(),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    /** After a failed attempt: not claimed again before this instant (backoff). */
    notBefore: instant('not_before'),
    createdAt: instant('created_at').notNull(),
    processedAt: instant('processed_at'),
  },
  (t) => [
    uniqueIndex('due_items_kind_subject_due_key').on(t.kind, t.subjectId, t.dueAt),
    index('due_items_pending_idx').on(t.dueAt, t.id).where(sql`status = 'pending'`),
    index('due_items_pending_kind_idx').on(t.kind, t.dueAt, t.id).where(sql`status = 'pending'`),
  ],
);

export const testClock = pgTable('test_clock', {
  id: integer('id').primaryKey(),
  now: instant('now').notNull(),
});

export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    scope: text('scope').notNull(),
    key: text('key').notNull(),
    requestHash: text('request_hash').notNull(),
    state: text('state').notNull(),
    responseStatus: integer('response_status'),
    responseBody: text('response_body'),
    responseHeaders: jsonb('response_headers'),
    createdAt: instant('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.scope, t.key] }), index('idempotency_keys_created_idx').on(t.createdAt)],
);
