import { and, desc, eq } from 'drizzle-orm';
import { bulkInsert } from '../../db/bulk.ts';
import type { Executor } from '../../db/client.ts';
import { afterCursor, type Cursor } from '../../db/pagination.ts';
import { auditEvents } from '../../db/schema/index.ts';
import { newId } from '../../kernel/ids.ts';
import { recordWebhookEvents } from '../webhooks/index.ts';

/** Who did something: a user, a staff member, a system account, a runtime, or Tierline itself. */
export interface Actor {
  type: 'user' | 'staff' | 'system_account' | 'runtime' | 'system' | 'anonymous';
  id: string | null;
}

export interface AuditEntry {
  orgId: string | null;
  actor: Actor;
  action: string;
  targetType: string;
  targetId: string | null;
  before?: unknown;
  after?: unknown;
  reason?: string | null;
}

function toRow(now: Date, entry: AuditEntry) {
  return {
    id: newId('aud'),
    orgId: entry.orgId,
    actorType: entry.actor.type,
    actorId: entry.actor.id,
    action: entry.action,
    targetType: entry.targetType,
    targetId: entry.targetId,
    before: entry.before ?? null,
    after: entry.after ?? null,
    reason: entry.reason ?? null,
    createdAt: now,
  };
}

/** Writes one audit event in the caller's transaction, with its webhook event if it is a public one. */
export async function recordAudit(executor: Executor, now: Date, entry: AuditEntry): Promise<void> {
  const row = toRow(now, entry);
  await executor.insert(auditEvents).values(row);
  await recordWebhookEvents(executor, [row]);
}

/**
 * Writes many audit events in the caller's transaction, and the webhook events of the public ones:
 * one statement for each table however many.
 */
export async function recordAudits(executor: Executor, now: Date, entries: readonly AuditEntry[]): Promise<void> {
  if (entries.length === 0) return;
  const rows = entries.map((entry) => toRow(now, entry));
  await bulkInsert(
    executor,
    'audit_events',
    [
      ['id', 'text'],
      ['org_id', 'text'],
      ['actor_type', 'text'],
      ['actor_id', 'text'],
      ['action', 'text'],
      ['target_type', 'text'],
      ['target_id', 'text'],
      ['before', 'jsonb'],
      ['after', 'jsonb'],
      ['reason', 'text'],
      ['created_at', 'timestamptz'],
    ],
    rows.map((row) => ({
      id: row.id,
      org_id: row.orgId,
      actor_type: row.actorType,
      actor_id: row.actorId,
      action: row.action,
      target_type: row.targetType,
      target_id: row.targetId,
      before: row.before,
      after: row.after,
      reason: row.reason,
      created_at: row.createdAt,
    })),
  );
  await recordWebhookEvents(executor, rows);
}

export type AuditRow = typeof auditEvents.$inferSelect;

/** An org's audit events, newest first, after an optional cursor. */
export async function listAuditEvents(
  executor: Executor,
  orgId: string,
  limit: number,
  cursor?: Cursor,
): Promise<AuditRow[]> {
  return executor
    .select()
    .from(auditEvents)
    .where(and(eq(auditEvents.orgId, orgId), afterCursor(auditEvents.createdAt, auditEvents.id, cursor)))
    .orderBy(desc(auditEvents.createdAt), desc(auditEvents.id))
    .limit(limit);
}

/** Shapes an audit row for the API. */
export function presentAuditEvent(row: AuditRow) {
  return {
    id: row.id,
    org_id: row.orgId,
    actor: { type: row.actorType, id: row.actorId },
    action: row.action,
    target: { type: row.targetType, id: row.targetId },
    before: row.before,
    after: row.after,
    reason: row.reason,
    created_at: row.createdAt.toISOString(),
  };
}

/** The org's latest audit event of an action, if any. */
export async function findLatestAuditEvent(executor: Executor, orgId: string, action: string) {
  const [row] = await executor
    .select()
    .from(auditEvents)
    .where(and(eq(auditEvents.orgId, orgId), eq(auditEvents.action, action)))
    .orderBy(desc(auditEvents.createdAt), desc(auditEvents.id))
    .limit(1);
  return row;
}
