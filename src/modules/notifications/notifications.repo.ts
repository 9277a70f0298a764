import { and, desc, eq, inArray, sql } from 'drizzle-orm';
import { bulkInsert } from '../../db/bulk.ts';
import type { Executor } from '../../db/client.ts';
import { notifyWorkers } from '../../db/notify.ts';
import { afterCursor, type Cursor } from '../../db/pagination.ts';
import { outboxEmails } from '../../db/schema/index.ts';
import { newId } from '../../kernel/ids.ts';

export interface Email {
  to: string;
  subject: string;
  kind: string;
  body: string;
  orgId?: string | null;
}

function toRow(now: Date, email: Email) {
  return {
    id: newId('eml'),
    to: email.to,
    subject: email.subject,
    kind: email.kind,
    body: email.body,
    orgId: email.orgId ?? null,
    createdAt: now,
  };
}

/** Queues an email in the outbox, in the caller's transaction: it is sent only if the change commits. */
export async function queueEmail(executor: Executor, now: Date, email: Email): Promise<void> {
  await executor.insert(outboxEmails).values(toRow(now, email));
  await notifyWorkers(executor);
}

/** Queues many emails in the caller's transaction. */
export async function queueEmails(executor: Executor, now: Date, emails: readonly Email[]): Promise<void> {
  if (emails.length === 0) return;
  await bulkInsert(
    executor,
    'outbox_emails',
    [
      ['id', 'text'],
      ['to', 'text'],
      ['subject', 'text'],
      ['kind', 'text'],
      ['body', 'text'],
      ['org_id', 'text'],
      ['created_at', 'timestamptz'],
    ],
    emails.map((email) => {
      const row = toRow(now, email);
      return {
        id: row.id,
        to: row.to,
        subject: row.subject,
        kind: row.kind,
        body: row.body,
        org_id: row.orgId,
        created_at: now,
      };
    }),
  );
  await notifyWorkers(executor);
}

export type OutboxRow = typeof outboxEmails.$inferSelect;

/** Outbox emails, newest first, optionally to one address. */
export async function listOutbox(
  executor: Executor,
  filter: { to?: string },
  limit: number,
  cursor?: Cursor,
): Promise<OutboxRow[]> {
  return executor
    .select()
    .from(outboxEmails)
    .where(
      and(
        filter.to ? eq(outboxEmails.to, filter.to) : undefined,
        afterCursor(outboxEmails.createdAt, outboxEmails.id, cursor),
      ),
    )
    .orderBy(desc(outboxEmails.createdAt), desc(outboxEmails.id))
    .limit(limit);
}

export function presentEmail(row: OutboxRow) {
  return {
    id: row.id,
    to: row.to,
    subject: row.subject,
    kind: row.kind,
    body: row.body,
    org_id: row.orgId,
    created_at: row.createdAt.toISOString(),
    sent_at: row.sentAt ? row.sentAt.toISOString() : null,
    status: row.sentAt ? 'sent' : row.failedAt ? 'failed' : 'queued',
    attempts: row.attempts,
    last_error: row.lastError,
  };
}

/** Which of the orgs were already sent an email of this kind at exactly this instant. */
export async function findOrgsEmailedAt(
  executor: Executor,
  orgIds: readonly string[],
  kind: string,
  at: Date,
): Promise<Set<string>> {
  if (orgIds.length === 0) return new Set();
  const rows = await executor
    .selectDistinct({ orgId: outboxEmails.orgId })
    .from(outboxEmails)
    .where(and(eq(outboxEmails.createdAt, at), eq(outboxEmails.kind, kind), inArray(outboxEmails.orgId, [...orgIds])));
  return new Set(rows.map((row) => row.orgId as string));
}

/**
 * Deletes up to `limit` emails sent, or refused for good, before `cutoff`, oldest first, in one
 * statement; queued emails (waiting, held by a sender or to be tried again) are never touched. Rows
 * another transaction holds are skipped.
 */
export async function deleteSettledEmailsBefore(executor: Executor, cutoff: Date, limit: number): Promise<number> {
  const at = cutoff.toISOString();
  // An email is sent or refused after it was queued, so created_at < cutoff holds too: it lets the
  // created_at index find the candidates instead of a scan of the whole outbox.
  const result = await executor.execute(sql`
    with settled as (
      select id from outbox_emails
      where created_at < ${at}::timestamptz
        and (sent_at < ${at}::timestamptz or failed_at < ${at}::timestamptz)
      order by created_at, id
      limit ${limit}
      for update skip locked
    )
    delete from outbox_emails using settled where outbox_emails.id = settled.id
    returning outbox_emails.id`);
  return (result as unknown as { rows: unknown[] }).rows.length;
}
