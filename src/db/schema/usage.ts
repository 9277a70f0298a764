import { bigint, index, integer, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import { instant } from './columns.ts';

/** Gateway runtimes registered to an org's control plane. */
export const runtimes = pgTable(
  'runtimes',
  {
    id: text('id').notNull(),
    orgId: text('org_id').notNull(),
    controlPlaneId: text('control_plane_id').notNull(),
    name: text('name').notNull(),
    tokenHash: text('token_hash').notNull(),
    tokenPrefix: text('token_prefix').notNull(),
    createdAt: instant('created_at').notNull(),
    lastSeenAt: instant('last_seen_at'),
    deletedAt: instant('deleted_at'),
  },
  (t) => [
    primaryKey({ columns: [t.orgId, t.id] }),
    // Runtimes call by token before the org is known; not unique, as api_tokens' hash.
    index('runtimes_token_hash_idx').on(t.tokenHash),
    // Usage reports find and touch the runtime by id alone.
    index('runtimes_id_idx').on(t.id),
    index('runtimes_org_idx').on(t.orgId, t.createdAt),
  ],
);

/** One row per accepted usage report: a repeated report_id of the same runtime is counted once. */
export const usageReports = pgTable(
  'usage_reports',
  {
    orgId: text('org_id').notNull(),
    runtimeId: text('runtime_id').notNull(),
    reportId: text('report_id').notNull(),
    records: integer('records').notNull(),
    requests: bigint('requests', { mode: 'bigint' }).notNull(),
    receivedAt: instant('received_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.runtimeId, t.reportId] })],
);

/**
 * Accepted requests aggregated by org, minute of event time and service. `subscription_id` is the
 * subscription the requests fell in when they arrived ('' when none: Free, or after it ended);
 * `invoice_id` is the invoice that billed them ('' while unbilled). Late requests for a minute that
 * was already billed start a new, unbilled row.
 */
export const usageMinutes = pgTable(
  'usage_minutes',
  {
    orgId: text('org_id').notNull(),
    minute: instant('minute').notNull(),
    service: text('service').notNull(),
    subscriptionId: text('subscription_id').notNull(),
    invoiceId: text('invoice_id').notNull(),
    requests: bigint('requests', { mode: 'bigint' }).notNull(),
    /** The latest event time among these requests (inactivity reads it). */
    latestAt: instant('latest_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.minute, t.service, t.subscriptionId, t.invoiceId] })],
);

/**
 * Per org, the subscription its arriving usage is billable to: set when a subscription starts, cleared
 * when it ends. Usage reports share-lock this row, so a plan change waits for reports in flight and
 * reports arriving after it see the new state. Requests with an event time from `window_started_at` on
 * are marked with `subscription_id`; all others ('' and null: Free) never are.
 */
export const usageState = pgTable('usage_state', {
  orgId: text('org_id').primaryKey(),
  subscriptionId: text('subscription_id').notNull(),
  windowStartedAt: instant('window_started_at'),
});
