import { eq, sql } from 'drizzle-orm';
import { inIds } from '../../db/bulk.ts';
import type { Database } from '../../db/client.ts';
import { outboxEmails } from '../../db/schema/index.ts';
import { DeliveryError, type Mailer } from './mailer.ts';
import type { OutboxRow } from './notifications.repo.ts';

/** An email of the pass that did not go. */
export interface EmailFailure {
  id: string;
  to: string;
  /** True when the server refused this message for good: it is not tried again. */
  permanent: boolean;
  error: string;
}

export interface SendQueuedEmailsResult {
  sent: number;
  failed: number;
  failures: EmailFailure[];
}

/** Where a pass reports what did not go (pino's and Fastify's loggers fit). */
export interface DeliveryLog {
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

const MAX_LIMIT = 1000;
// How long a sender holds an email before another may take it (a sender that died lets go then).
const CLAIM_MS = 5 * 60_000;
// After a failure that may pass: the wait before the next try, by attempt (then the last, repeated).
const RETRY_WAITS_MS = [60_000, 5 * 60_000, 30 * 60_000, 2 * 3_600_000, 6 * 3_600_000];

/**
 * Sends up to `limit` queued outbox emails, oldest first, and marks them sent at `now`.
 *
 * A pass claims its rows in one short statement (FOR UPDATE SKIP LOCKED, holding them for five
 * minutes with `claimed_until`), talks SMTP with no transaction open, then records each outcome: sent;
 * refused for good (a 5xx for the recipient or the content: `failed_at`, not tried again, logged as an
 * error); or a failure that may pass (connection, timeout, 4xx, refused login or sender: tried again
 * after a growing wait). Concurrent passes never take the same row, and an email whose sender died is
 * taken again when its claim ends. Without a mailer nothing is claimed: the outbox keeps every email
 * queued.
 */
export async function sendQueuedEmails(
  db: Database,
  mailer: Mailer | undefined,
  now: Date,
  options: { limit: number; log?: DeliveryLog },
): Promise<SendQueuedEmailsResult> {
  const limit = Math.min(Math.max(Math.trunc(options.limit) || 0, 0), MAX_LIMIT);
  if (!mailer || limit === 0) return { sent: 0, failed: 0, failures: [] };
  const claimed = await claimQueued(db, now, limit);
  const failures: EmailFailure[] = [];
  // The pooled transport bounds how many of these talk to the server at once.
  await Promise.all(
    claimed.map(async (row) => {
      try {
        await mailer.send({ id: row.id, to: row.to, subject: row.subject, text: row.body, date: row.createdAt });
      } catch (error) {
        const permanent = error instanceof DeliveryError && error.permanent;
        failures.push({ id: row.id, to: row.to, permanent, error: (error as Error).message });
      }
    }),
  );
  const failedIds = new Set(failures.map((failure) => failure.id));
  const sentIds = claimed.filter((row) => !failedIds.has(row.id)).map((row) => row.id);
  await db.transaction(async (tx) => {
    if (sentIds.length > 0) {
      await tx
        .update(outboxEmails)
        .set({ sentAt: now, claimedUntil: null, attempts: sql`${outboxEmails.attempts} + 1`, lastError: null })
        .where(inIds(outboxEmails.id, sentIds));
    }
    for (const failure of failures) {
      const row = claimed.find((entry) => entry.id === failure.id) as OutboxRow;
      const wait = RETRY_WAITS_MS[Math.min(row.attempts, RETRY_WAITS_MS.length - 1)];
      await tx
        .update(outboxEmails)
        .set({
          attempts: row.attempts + 1,
          lastError: failure.error.slice(0, 1000),
          ...(failure.permanent
            ? { failedAt: now, claimedUntil: null }
            : { claimedUntil: new Date(now.getTime() + wait) }),
        })
        .where(eq(outboxEmails.id, failure.id));
    }
  });
  for (const failure of failures) {
    if (failure.permanent) options.log?.error(failure, 'email refused by the SMTP server; it will not be retried');
    else options.log?.warn(failure, 'email not sent; a later pass retries it');
  }
  return { sent: sentIds.length, failed: failures.length, failures };
}

/** Holds the oldest queued emails free to take at `now`, in one statement, skipping rows another pass holds. */
async function claimQueued(db: Database, now: Date, limit: number): Promise<OutboxRow[]> {
  const at = now.toISOString();
  const until = new Date(now.getTime() + CLAIM_MS).toISOString();
  // MATERIALIZED: the locking subquery runs once, so the pass takes exactly `limit` rows at most.
  const claimed = await db.execute(sql`
    with oldest as materialized (
      select id from outbox_emails
      where sent_at is null and failed_at is null and (claimed_until is null or claimed_until <= ${at}::timestamptz)
      order by created_at, id
      limit ${limit}
      for update skip locked
    )
    update outbox_emails set claimed_until = ${until}::timestamptz
    from oldest where outbox_emails.id = oldest.id
    returning outbox_emails.id`);
  const ids = (claimed as unknown as { rows: Array<{ id: string }> }).rows.map((row) => row.id);
  if (ids.length === 0) return [];
  const rows = await db.select().from(outboxEmails).where(inIds(outboxEmails.id, ids));
  return rows.sort((a, b) => +a.createdAt - +b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
