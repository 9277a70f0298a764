import type { Database } from '../../db/client.ts';
import { AppError } from '../../kernel/errors.ts';
import { addUnbilledUsage, claimReport, findOpenWindow, isKnownReport, noteLatestRequest } from './usage.repo.ts';
import { aggregateReport, type UsageRecord } from './usage.ts';

/**
 * Accepts a runtime's usage report (spec 6): all or nothing, counted once per report id, durable
 * when this returns. A repeated report is accepted again without counting.
 */
export async function ingestUsageReport(
  db: Database,
  now: Date,
  input: { orgId: string; runtimeId: string; reportId: string; usage: readonly UsageRecord[] },
) {
  return db.transaction(async (tx) => {
    const window = await findOpenWindow(tx, input.orgId);
    const aggregated = aggregateReport(input.usage, now, window);
    if ('code' in aggregated) {
      if (await isKnownReport(tx, input.orgId, input.runtimeId, input.reportId)) {
        return { duplicate: true, records: input.usage.length, requests: 0n };
      }
      throw new AppError(400, aggregated.code, aggregated.message, { field: aggregated.field });
    }
    const isNew = await claimReport(tx, {
      orgId: input.orgId,
      runtimeId: input.runtimeId,
      reportId: input.reportId,
      records: input.usage.length,
      requests: aggregated.requests,
      now,
    });
    if (!isNew) return { duplicate: true, records: input.usage.length, requests: aggregated.requests };
    await addUnbilledUsage(tx, input.orgId, aggregated.buckets);
    if (aggregated.latest) await noteLatestRequest(tx, input.orgId, aggregated.latest);
    return { duplicate: false, records: input.usage.length, requests: aggregated.requests };
  });
}
