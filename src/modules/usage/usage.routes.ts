import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { Deps } from '../../deps.ts';
import { requireOrgAccess, requireRuntime, runtimeTokenOf } from '../../http/auth.ts';
import { errors, OrgParams } from '../../http/schemas.ts';
import { parseInstant } from '../../kernel/calendar.ts';
import { fail } from '../../kernel/errors.ts';
import { hashSecret } from '../../kernel/ids.ts';
import { IngestMemory, ingestUsageReport } from './ingest-usage-report.ts';
import { usageTotals } from './usage.repo.ts';
import { buildSeries, type Granularity, MAX_SERIES_POINTS, seriesLength } from './usage.ts';

const UsageReport = Type.Object({
  report_id: Type.String({
    minLength: 1,
    maxLength: 200,
    description: 'Unique per runtime; a repeat is counted once.',
  }),
  usage: Type.Array(
    Type.Object({
      timestamp: Type.String({ maxLength: 40, description: 'When the requests happened (RFC 3339).' }),
      requests: Type.Integer({ minimum: 0, maximum: 1_000_000_000, description: 'How many requests.' }),
      service: Type.Optional(Type.String({ maxLength: 100, description: 'The service they went to.' })),
    }),
    { maxItems: 10_000, description: 'Usage records; the report is accepted or refused whole.' },
  ),
});

const UsageQuery = Type.Object({
  start: Type.Optional(
    Type.String({ maxLength: 40, description: 'First instant (RFC 3339); default: end − 30 days.' }),
  ),
  end: Type.Optional(Type.String({ maxLength: 40, description: 'Instant after the last (RFC 3339); default: now.' })),
  granularity: Type.Optional(Type.Union([Type.Literal('hour'), Type.Literal('day')], { default: 'day' })),
});

function instantParam(text: string | undefined, field: string, fallback: Date): Date {
  if (text === undefined) return fallback;
  const value = parseInstant(text);
  if (!value) throw fail.validation(field, `${field} must be an RFC 3339 instant.`);
  return value;
}

/** Usage reports from runtimes and usage totals for charts. */
export function usageRoutes(deps: Deps) {
  return async (base: FastifyInstance) => {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();
    const memory = new IngestMemory();

    app.post(
      '/runtime/usage',
      {
        bodyLimit: 4 * 1024 * 1024,
        // Usage changes no cached read but the estimate, which this route forgets itself.
        config: { skipReadCacheSync: true },
        schema: { tags: ['runtime'], body: UsageReport, response: errors(400, 401, 403) },
        // Any 4xx answer (invalid body, unknown token, decommissioned control plane) is a refused report.
        onResponse: async (_request, reply) => {
          if (reply.statusCode >= 400 && reply.statusCode < 500) base.metrics.countUsageReport('refused');
        },
      },
      async (request) => {
        // A known token skips the lookup: the write itself checks the runtime and its control plane.
        const tokenHash = hashSecret(runtimeTokenOf(request));
        let runtime = memory.runtime(tokenHash);
        if (!runtime) {
          const found = await requireRuntime(deps.db, request);
          runtime = { runtimeId: found.runtime.id, orgId: found.runtime.orgId };
          memory.rememberRuntime(tokenHash, runtime);
        }
        const result = await ingestUsageReport(deps.db, memory, request.now, {
          orgId: runtime.orgId,
          runtimeId: runtime.runtimeId,
          reportId: request.body.report_id,
          usage: request.body.usage,
        });
        // This process shows its own accepted usage at once; other processes within seconds.
        if (!result.duplicate) deps.readCache.usageAccepted(runtime.orgId);
        base.metrics.countUsageReport(result.duplicate ? 'duplicate' : 'accepted', result);
        return {
          accepted: true,
          duplicate: result.duplicate,
          report_id: request.body.report_id,
          records: result.records,
          requests: Number(result.requests),
        };
      },
    );

    app.get(
      '/orgs/:org_id/usage',
      { schema: { tags: ['usage'], params: OrgParams, querystring: UsageQuery, response: errors(400, 401, 404) } },
      async (request) => {
        requireOrgAccess(request, request.params.org_id, 'read');
        const granularity: Granularity = request.query.granularity ?? 'day';
        const end = instantParam(request.query.end, 'end', request.now);
        const start = instantParam(request.query.start, 'start', new Date(end.getTime() - 30 * 86_400_000));
        if (start >= end) throw fail.validation('start', 'start must be before end.');
        if (seriesLength(start, end, granularity) > MAX_SERIES_POINTS) {
          throw fail.validation(
            'start',
            `At most ${MAX_SERIES_POINTS} points: shorten the range or use granularity=day.`,
          );
        }
        const totals = await usageTotals(deps.db, request.params.org_id, start, end, granularity);
        const series = buildSeries(totals, start, end, granularity);
        const total = totals.reduce((sum, row) => sum + row.requests, 0n);
        return {
          start: start.toISOString(),
          end: end.toISOString(),
          granularity,
          total: Number(total),
          series,
        };
      },
    );
  };
}
