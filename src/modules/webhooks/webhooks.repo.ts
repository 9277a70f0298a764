import { and, asc, desc, eq, gte, inArray, sql } from 'drizzle-orm';
import { bulkInsert, inIds } from '../../db/bulk.ts';
import type { Executor, Transaction } from '../../db/client.ts';
import { afterCursor, type Cursor } from '../../db/pagination.ts';
import { webhookAttempts, webhookDeliveries, webhookEndpoints, webhookEvents } from '../../db/schema/index.ts';
import { RETRY_WINDOW_MS } from './webhooks.ts';

export type EndpointRow = typeof webhookEndpoints.$inferSelect;
export type EventRow = typeof webhookEvents.$inferSelect;
export type DeliveryRow = typeof webhookDeliveries.$inferSelect;
export type AttemptRow = typeof webhookAttempts.$inferSelect;

function rowsOf<Row>(result: unknown): Row[] {
  return (result as { rows: Row[] }).rows;
}

/** Writes events in the caller's transaction, in one statement however many. */
export async function insertWebhookEvents(
  executor: Executor,
  events: ReadonlyArray<{
    id: string;
    orgId: string | null;
    type: string;
    auditEventId: string;
    payload: string;
    createdAt: Date;
  }>,
): Promise<void> {
  if (events.length === 0) return;
  await bulkInsert(
    executor,
    'webhook_events',
    [
      ['id', 'text'],
      ['org_id', 'text'],
      ['type', 'text'],
      ['audit_event_id', 'text'],
      ['payload', 'text'],
      ['created_at', 'timestamptz'],
    ],
    events.map((event) => ({
      id: event.id,
      org_id: event.orgId,
      type: event.type,
      audit_event_id: event.auditEventId,
      payload: event.payload,
      created_at: event.createdAt,
    })),
  );
}

/**
 * Fans out up to `limit` events not yet fanned out, oldest first, in one statement: a delivery for
 * each endpoint enabled now, created no later than the event and subscribed to its type, due at the
 * event's instant and retried until three days after it. Events locked by another dispatcher are
 * skipped; a delivery that exists already is kept.
 */
export async function fanOutEvents(executor: Executor, now: Date, limit: number) {
  const windowSeconds = RETRY_WINDOW_MS / 1000;
  const result = await executor.execute(sql`
    with batch as (
      select id, org_id, type, created_at from webhook_events
      where fanned_out_at is null
      order by created_at, id
      limit ${limit}
      for update skip locked
    ), marked as (
      update webhook_events set fanned_out_at = ${now.toISOString()}::timestamptz
      from batch where webhook_events.id = batch.id
    ), created as (
      insert into webhook_deliveries
        (id, endpoint_id, event_id, org_id, event_type, status, attempts, next_attempt_at, retry_until, created_at)
      select 'whd_' || md5(batch.id || '/' || endpoint.id), endpoint.id, batch.id, batch.org_id, batch.type,
        'pending', 0, batch.created_at, batch.created_at + make_interval(secs => ${windowSeconds}), batch.created_at
      from batch join webhook_endpoints endpoint
        on endpoint.enabled and endpoint.created_at <= batch.created_at
        and (batch.type = any(endpoint.events) or '*' = any(endpoint.events))
      on conflict (event_id, endpoint_id) do nothing
      returning 1
    )
    select (select count(*) from batch)::int as events, (select count(*) from created)::int as deliveries`);
  const [row] = rowsOf<{ events: number; deliveries: number }>(result);
  return { events: Number(row?.events ?? 0), deliveries: Number(row?.deliveries ?? 0) };
}

/** A claimed delivery with what sending it needs. */
export interface ClaimedDelivery {
  id: string;
  eventId: string;
  eventType: string;
  attempts: number;
  url: string;
  secrets: string[];
  payload: string;
}

/**
 * Claims up to `limit` due deliveries of enabled endpoints (SKIP LOCKED: another dispatcher takes
 * others) and leases them until `leaseUntil`: marked sending, they are due again only if the lease
 * runs out without a result (a sender that died). Short: meant for its own transaction.
 */
export async function claimDueDeliveries(
  tx: Transaction,
  input: { now: Date; limit: number; leaseUntil: Date; token: string },
): Promise<ClaimedDelivery[]> {
  const result = await tx.execute(sql`
    with due as materialized (
      select delivery.id from webhook_deliveries delivery
      join webhook_endpoints endpoint on endpoint.id = delivery.endpoint_id
      where delivery.status in ('pending', 'sending')
        and delivery.next_attempt_at <= ${input.now.toISOString()}::timestamptz
        and endpoint.enabled
      order by delivery.next_attempt_at, delivery.id
      limit ${input.limit}
      for update of delivery skip locked
    )
    update webhook_deliveries set status = 'sending',
      next_attempt_at = ${input.leaseUntil.toISOString()}::timestamptz, claim_token = ${input.token}
    from due where webhook_deliveries.id = due.id
    returning webhook_deliveries.id, webhook_deliveries.endpoint_id, webhook_deliveries.event_id,
      webhook_deliveries.event_type, webhook_deliveries.attempts`);
  const claimed = rowsOf<{ id: string; endpoint_id: string; event_id: string; event_type: string; attempts: number }>(
    result,
  );
  if (claimed.length === 0) return [];
  const endpoints = await tx
    .select()
    .from(webhookEndpoints)
    .where(inArray(webhookEndpoints.id, [...new Set(claimed.map((row) => row.endpoint_id))]));
  const events = await tx
    .select({ id: webhookEvents.id, payload: webhookEvents.payload })
    .from(webhookEvents)
    .where(inArray(webhookEvents.id, [...new Set(claimed.map((row) => row.event_id))]));
  const endpointById = new Map(endpoints.map((endpoint) => [endpoint.id, endpoint]));
  const payloadOf = new Map(events.map((event) => [event.id, event.payload]));
  return claimed.map((row) => {
    const endpoint = endpointById.get(row.endpoint_id) as EndpointRow;
    const overlapping =
      endpoint.previousSecret &&
      endpoint.previousSecretExpiresAt &&
      endpoint.previousSecretExpiresAt.getTime() > input.now.getTime();
    return {
      id: row.id,
      eventId: row.event_id,
      eventType: row.event_type,
      attempts: Number(row.attempts),
      url: endpoint.url,
      secrets: overlapping ? [endpoint.secret, endpoint.previousSecret as string] : [endpoint.secret],
      payload: payloadOf.get(row.event_id) as string,
    };
  });
}

/** Locks a delivery for the rest of the transaction; undefined when it is gone (its endpoint deleted). */
export async function lockDelivery(tx: Transaction, id: string): Promise<DeliveryRow | undefined> {
  const [row] = await tx.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, id)).for('update');
  return row;
}

/** Logs one attempt. */
export async function insertAttempt(executor: Executor, attempt: typeof webhookAttempts.$inferInsert): Promise<void> {
  await executor.insert(webhookAttempts).values(attempt);
}

/** Changes a delivery's state. */
export async function updateDelivery(
  executor: Executor,
  id: string,
  values: Partial<typeof webhookDeliveries.$inferInsert>,
): Promise<DeliveryRow> {
  const [row] = await executor.update(webhookDeliveries).set(values).where(eq(webhookDeliveries.id, id)).returning();
  return row;
}

/** The earliest instant webhook work is due: an event to fan out, or a delivery's next attempt. */
export async function nextWebhookDueAt(executor: Executor): Promise<Date | null> {
  const result = await executor.execute(sql`
    select least(
      (select min(created_at) from webhook_events where fanned_out_at is null),
      (select min(delivery.next_attempt_at) from webhook_deliveries delivery
        join webhook_endpoints endpoint on endpoint.id = delivery.endpoint_id
        where delivery.status in ('pending', 'sending') and endpoint.enabled)
    ) as due_at`);
  const [row] = rowsOf<{ due_at: string | Date | null }>(result);
  return row?.due_at ? new Date(row.due_at) : null;
}

export async function insertEndpoint(executor: Executor, endpoint: typeof webhookEndpoints.$inferInsert) {
  const [row] = await executor.insert(webhookEndpoints).values(endpoint).returning();
  return row;
}

export async function findEndpoint(executor: Executor, id: string): Promise<EndpointRow | undefined> {
  const [row] = await executor.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, id));
  return row;
}

/** Locks an endpoint for the rest of the transaction. */
export async function lockEndpoint(tx: Transaction, id: string): Promise<EndpointRow | undefined> {
  const [row] = await tx.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, id)).for('update');
  return row;
}

export async function updateEndpoint(
  executor: Executor,
  id: string,
  values: Partial<typeof webhookEndpoints.$inferInsert>,
): Promise<EndpointRow> {
  const [row] = await executor.update(webhookEndpoints).set(values).where(eq(webhookEndpoints.id, id)).returning();
  return row;
}

/** Deletes an endpoint with its deliveries and their attempts. */
export async function deleteEndpoint(executor: Executor, id: string): Promise<void> {
  await executor.delete(webhookEndpoints).where(eq(webhookEndpoints.id, id));
}

/** Endpoints, newest first, after an optional cursor. */
export async function listEndpoints(executor: Executor, limit: number, cursor?: Cursor): Promise<EndpointRow[]> {
  return executor
    .select()
    .from(webhookEndpoints)
    .where(afterCursor(webhookEndpoints.createdAt, webhookEndpoints.id, cursor))
    .orderBy(desc(webhookEndpoints.createdAt), desc(webhookEndpoints.id))
    .limit(limit);
}

/** An endpoint's deliveries, newest event first, optionally of one status, after an optional cursor. */
export async function listDeliveries(
  executor: Executor,
  input: { endpointId: string; status?: string; limit: number; cursor?: Cursor },
): Promise<DeliveryRow[]> {
  return executor
    .select()
    .from(webhookDeliveries)
    .where(
      and(
        eq(webhookDeliveries.endpointId, input.endpointId),
        input.status ? eq(webhookDeliveries.status, input.status) : undefined,
        afterCursor(webhookDeliveries.createdAt, webhookDeliveries.id, input.cursor),
      ),
    )
    .orderBy(desc(webhookDeliveries.createdAt), desc(webhookDeliveries.id))
    .limit(input.limit);
}

export async function findDelivery(executor: Executor, id: string): Promise<DeliveryRow | undefined> {
  const [row] = await executor.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, id));
  return row;
}

export async function findEvent(executor: Executor, id: string): Promise<EventRow | undefined> {
  const [row] = await executor.select().from(webhookEvents).where(eq(webhookEvents.id, id));
  return row;
}

/** A delivery's attempts, first to last. */
export async function listAttempts(executor: Executor, deliveryId: string): Promise<AttemptRow[]> {
  return executor
    .select()
    .from(webhookAttempts)
    .where(eq(webhookAttempts.deliveryId, deliveryId))
    .orderBy(asc(webhookAttempts.startedAt), asc(webhookAttempts.attempt), asc(webhookAttempts.id));
}

/**
 * An endpoint's deliveries of events since `since`, counted per UTC day of the event and status as
 * it stands now (days with none left out), for the console's chart.
 */
export async function countDeliveriesByDay(
  executor: Executor,
  endpointId: string,
  since: Date,
): Promise<Array<{ day: string; status: string; count: number }>> {
  const day = sql<string>`to_char(${webhookDeliveries.createdAt} at time zone 'UTC', 'YYYY-MM-DD')`;
  const rows = await executor
    .select({ day, status: webhookDeliveries.status, count: sql<number>`count(*)::int` })
    .from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.endpointId, endpointId), gte(webhookDeliveries.createdAt, since)))
    .groupBy(day, webhookDeliveries.status)
    .orderBy(day, webhookDeliveries.status);
  return rows.map((row) => ({ day: String(row.day), status: row.status, count: Number(row.count) }));
}

/**
 * Locks up to `limit` events created before `cutoff`, oldest first, that were fanned out and whose
 * deliveries are all settled (succeeded or failed); events another transaction holds are skipped.
 */
export async function lockSettledEventsBefore(tx: Transaction, cutoff: Date, limit: number): Promise<string[]> {
  const result = await tx.execute(sql`
    select event.id from webhook_events event
    where event.created_at < ${cutoff.toISOString()}::timestamptz
      and event.fanned_out_at is not null
      and not exists (
        select 1 from webhook_deliveries delivery
        where delivery.event_id = event.id and delivery.status in ('pending', 'sending')
      )
    order by event.created_at, event.id
    limit ${limit}
    for update of event skip locked`);
  return rowsOf<{ id: string }>(result).map((row) => row.id);
}

/**
 * Locks every delivery of these events and answers the events that have one not settled: a manual
 * retry may have made one pending since they were picked, and the lock reads its latest state.
 */
export async function findEventsWithUnsettledDeliveries(tx: Transaction, eventIds: readonly string[]) {
  if (eventIds.length === 0) return new Set<string>();
  const rows = await tx
    .select({ eventId: webhookDeliveries.eventId, status: webhookDeliveries.status })
    .from(webhookDeliveries)
    .where(inIds(webhookDeliveries.eventId, eventIds))
    .for('update');
  return new Set(rows.filter((row) => row.status === 'pending' || row.status === 'sending').map((row) => row.eventId));
}

/** Deletes events with their deliveries and those deliveries' attempts (the foreign keys cascade). */
export async function deleteEvents(tx: Transaction, eventIds: readonly string[]): Promise<number> {
  if (eventIds.length === 0) return 0;
  const deleted = await tx
    .delete(webhookEvents)
    .where(inIds(webhookEvents.id, eventIds))
    .returning({ id: webhookEvents.id });
  return deleted.length;
}
