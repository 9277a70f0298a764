import { createHash } from 'node:crypto';
import { and, eq, lte } from 'drizzle-orm';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Database } from '../db/client.ts';
import { idempotencyKeys } from '../db/schema/index.ts';
import { AppError, fail } from '../kernel/errors.ts';
import type { Caller } from './caller.ts';

const HEADER = 'idempotency-key';
const RETENTION_MS = 24 * 3600 * 1000;
/**
 * Answers that are not kept: the client should be able to retry them with the same key. A 400 is a
 * request that failed validation (in the schema or the use case): nothing ran, so the key stays free.
 */
const NOT_KEPT = new Set([400, 409, 429]);

declare module 'fastify' {
  interface FastifyRequest {
    idempotency?: { scope: string; key: string };
  }
}

function scopeOf(caller: Caller, request: FastifyRequest): string {
  const who =
    caller.kind === 'member'
      ? `${caller.orgId}:${caller.userId ?? caller.systemAccountId}`
      : caller.kind === 'staff'
        ? `staff:${caller.userId}`
        : caller.kind === 'anonymous' && request.headers.authorization
          ? `bearer:${createHash('sha256').update(request.headers.authorization).digest('hex').slice(0, 32)}`
          : 'anonymous';
  return `${who}:${request.routeOptions.url ?? request.url}`;
}

function stable(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stable).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stable(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * Idempotency-Key on every POST (spec 11): the first answer is kept for 24 hours and replayed for a
 * repeat with the same body; the same key with another body is a 422. Session cookies are never kept.
 */
export function registerIdempotency(app: FastifyInstance, db: Database) {
  app.addHook('preHandler', async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.method !== 'POST') return;
    const raw = request.headers[HEADER];
    if (raw === undefined) return;
    const key = Array.isArray(raw) ? raw[0] : raw;
    if (!key || key.length > 255)
      throw fail.validation('Idempotency-Key', 'The Idempotency-Key header must have 1 to 255 characters.');
    const scope = scopeOf(request.caller, request);
    const requestHash = createHash('sha256')
      .update(`${request.method} ${request.url}\n${stable(request.body ?? null)}`)
      .digest('hex');
    const now = request.now;
    const inserted = await db
      .insert(idempotencyKeys)
      .values({ scope, key, requestHash, state: 'pending', createdAt: now })
      .onConflictDoNothing()
      .returning({ key: idempotencyKeys.key });
    if (inserted.length === 0) {
      const [existing] = await db
        .select()
        .from(idempotencyKeys)
        .where(and(eq(idempotencyKeys.scope, scope), eq(idempotencyKeys.key, key)));
      if (!existing)
        throw fail.conflict('idempotency_request_in_progress', 'A request with this Idempotency-Key is in progress.');
      if (now.getTime() - existing.createdAt.getTime() >= RETENTION_MS) {
        // Only one of concurrent requests may take over an expired key: the others see it renewed.
        const renewed = await db
          .update(idempotencyKeys)
          .set({
            requestHash,
            state: 'pending',
            responseStatus: null,
            responseBody: null,
            responseHeaders: null,
            createdAt: now,
          })
          .where(
            and(
              eq(idempotencyKeys.scope, scope),
              eq(idempotencyKeys.key, key),
              lte(idempotencyKeys.createdAt, new Date(now.getTime() - RETENTION_MS)),
            ),
          )
          .returning({ key: idempotencyKeys.key });
        if (renewed.length === 0)
          throw fail.conflict('idempotency_request_in_progress', 'A request with this Idempotency-Key is in progress.');
      } else if (existing.requestHash !== requestHash) {
        throw new AppError(422, 'idempotency_key_reused', 'This Idempotency-Key was used with a different request.');
      } else if (existing.state !== 'done') {
        throw fail.conflict('idempotency_request_in_progress', 'A request with this Idempotency-Key is in progress.');
      } else {
        reply.header('idempotent-replayed', 'true');
        reply.header('content-type', 'application/json; charset=utf-8');
        const headers = (existing.responseHeaders ?? {}) as Record<string, string>;
        for (const [name, value] of Object.entries(headers)) reply.header(name, value);
        return reply.status(existing.responseStatus ?? 200).send(existing.responseBody ?? '');
      }
    }
    request.idempotency = { scope, key };
  });

  app.addHook('onSend', async (request, reply, payload) => {
    const record = request.idempotency;
    if (!record) return payload;
    request.idempotency = undefined;
    const where = and(eq(idempotencyKeys.scope, record.scope), eq(idempotencyKeys.key, record.key));
    if (
      reply.statusCode >= 500 ||
      NOT_KEPT.has(reply.statusCode) ||
      (payload !== null && typeof payload !== 'string')
    ) {
      await db.delete(idempotencyKeys).where(where);
      return payload;
    }
    const location = reply.getHeader('location');
    await db
      .update(idempotencyKeys)
      .set({
        state: 'done',
        responseStatus: reply.statusCode,
        responseBody: (payload as string | null) ?? '',
        responseHeaders: location ? { location: String(location) } : {},
      })
      .where(where);
    return payload;
  });
}
