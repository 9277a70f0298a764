import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import type { Deps } from '../deps.ts';

/** Liveness, readiness and metrics for operators. */
export function operationsRoutes(deps: Deps) {
  return async (app: FastifyInstance) => {
    app.get('/healthz', { schema: { tags: ['operations'] } }, async () => ({ status: 'ok' }));
    app.get('/readyz', { schema: { tags: ['operations'] } }, async (_request, reply) => {
      try {
        await deps.db.execute(sql`select 1`);
        return { status: 'ready' };
      } catch {
        return reply.status(503).send({ error: { code: 'not_ready', message: 'The database is not reachable.' } });
      }
    });
    // Prometheus text exposition of this app's registry (docs/operations.md lists every metric); not
    // part of the JSON API, so not in its OpenAPI document.
    app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
      const text = await app.metrics.registry.metrics();
      return reply.type(app.metrics.registry.contentType).send(text);
    });
  };
}
