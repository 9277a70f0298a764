import { and, asc, eq, inArray, isNull } from 'drizzle-orm';
import { inIds } from '../../db/bulk.ts';
import type { Database } from '../../db/client.ts';
import { outboxEmails } from '../../db/schema/index.ts';
import { DeliveryError, type Mailer } from './mailer.ts';

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

/**
 * Sends up to `limit` unsent outbox emails, oldest first, and marks them sent at `now`.
 *
 * A pass claims its rows in one short statement (FOR UPDATE SKIP LOCKED, setting `sent_at = now` as
 * the claim), talks SMTP with no transaction open, then gives back in one more statement the rows
 * whose failure may pass (connection, timeout, 4xx, refused login or sender): a later pass sends
 * them. Concurrent passes therefore never take the same row. A 5xx refusal of the message itself
 * (its recipient or content) keeps `sent_at`, so it is not retried on every pass, and is logged as an
 * error. Without a mailer nothing is claimed: the outbox keeps every email queued.
 */
export async function sendQueuedEmails(
  db: Database,
  mailer: Mailer | undefined,
  now: Date,
  options: { limit: number; log?: DeliveryLog },
): Promise<SendQueuedEmailsResult> {
  const limit = Math.min(Math.max(Math.trunc(options.limit) || 0, 0), MAX_LIMIT);
  if (!mailer || limit === 0) return { sent: 0, failed: 0, failures: [] };
  const claimed = await claimUnsent(db, now, limit);
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
  const retry = failures.filter((failure) => !failure.permanent).map((failure) => failure.id);
  if (retry.length > 0) {
    await db
      .update(outboxEmails)
      .set({ sentAt: null })
      .where(and(inIds(outboxEmails.id, retry), eq(outboxEmails.sentAt, now)));
  }
  for (const failure of failures) {
    if (failure.permanent) options.log?.error(failure, 'email refused by the SMTP server; it will not be retried');
    else options.log?.warn(failure, 'email not sent; a later pass retries it');
  }
  return { sent: claimed.length - failures.length, failed: failures.length, failures };
}

/** Marks the oldest unsent rows as sent at `now` in one statement, skipping rows another pass holds. */
async function claimUnsent(db: Database, now: Date, limit: number) {
  const oldestUnsent = db
    .select({ id: outboxEmails.id })
    .from(outboxEmails)
    .where(isNull(outboxEmails.sentAt))
    .orderBy(asc(outboxEmails.createdAt), asc(outboxEmails.id))
    .limit(limit)
    .for('update', { skipLocked: true });
  const rows = await db
    .update(outboxEmails)
    .set({ sentAt: now })
    .where(and(inArray(outboxEmails.id, oldestUnsent), isNull(outboxEmails.sentAt)))
    .returning();
  return rows.sort((a, b) => +a.createdAt - +b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
