import type { Database, Executor } from '../../db/client.ts';
import { AppError, fail } from '../../kernel/errors.ts';
import { getOrg, nextTrafficCycle, noteOrgTraffic, trafficFloor } from '../organizations/index.ts';
import { findLiveRuntime } from '../runtimes/index.ts';
import { type IngestOutcome, isKnownReport, loadOpenWindow, writeReport } from './usage.repo.ts';
import { aggregateReport, type OpenWindow, type UsageRecord } from './usage.ts';

/**
 * What one process remembers between reports: which runtime and org each token hash belongs to
 * (never changes), and each org's open billing window as last seen. Every write checks the runtime
 * is still live and the window still current, so a stale entry costs a retry, never a wrong count.
 */
export class IngestMemory {
  private readonly windows = new Map<string, OpenWindow | null>();
  private readonly runtimes = new Map<string, { runtimeId: string; orgId: string }>();
  private readonly trafficCycles = new Map<string, Date>();

  runtime(tokenHash: string) {
    return this.runtimes.get(tokenHash);
  }

  rememberRuntime(tokenHash: string, identity: { runtimeId: string; orgId: string }) {
    if (this.runtimes.size >= 100_000) this.runtimes.clear();
    this.runtimes.set(tokenHash, identity);
  }

  window(orgId: string): OpenWindow | null | undefined {
    return this.windows.get(orgId);
  }

  remember(orgId: string, window: OpenWindow | null) {
    if (this.windows.size >= 100_000) this.windows.clear();
    this.windows.set(orgId, window);
  }

  /**
   * Whether a request at `latest` may move the org's inactivity t*: it may unless this process saw a
   * request of the same free-plan cycle already. Never wrong the other way: the threshold only
   * grows and is never past the truth, so at worst an update that changes nothing is sent.
   */
  mayMoveInactivity(orgId: string, latest: Date): boolean {
    const threshold = this.trafficCycles.get(orgId);
    return !threshold || latest >= threshold;
  }

  rememberTraffic(orgId: string, nextCycle: Date) {
    if (this.trafficCycles.size >= 100_000) this.trafficCycles.clear();
    const known = this.trafficCycles.get(orgId);
    if (!known || nextCycle > known) this.trafficCycles.set(orgId, nextCycle);
  }
}

/** PostgreSQL's answer when it broke a deadlock by rolling this transaction back. */
function isDeadlock(error: unknown): boolean {
  for (
    let cause = error as { code?: string; cause?: unknown } | undefined;
    cause;
    cause = cause.cause as typeof cause
  ) {
    if (cause.code === '40P01') return true;
  }
  return false;
}

/**
 * Runs a report's write again when PostgreSQL chose it as a deadlock's victim (a report adds to
 * minutes that a billing run or another report holds): the write is all or nothing, so it is safe.
 */
async function retryOnDeadlock<T>(write: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (error) {
      if (attempt >= 5 || !isDeadlock(error)) throw error;
    }
  }
}

class Refused extends Error {
  readonly outcome: IngestOutcome;
  constructor(outcome: IngestOutcome) {
    super(outcome);
    this.outcome = outcome;
  }
}

/**
 * Writes a report whose requests reach a later free-plan cycle than the org's t* accounts for: t*
 * moves in the same transaction. The org row is locked before the usage state, the order every
 * plan change and deactivation takes too.
 */
async function writeReportMovingInactivity(
  db: Database,
  memory: IngestMemory,
  latest: Date,
  values: Parameters<typeof writeReport>[1],
): Promise<IngestOutcome> {
  try {
    return await db.transaction(async (tx: Executor) => {
      const org = await getOrg(tx, values.orgId);
      await noteOrgTraffic(tx, values.orgId, trafficFloor(org.createdAt, latest) as Date, values.now);
      const outcome = await writeReport(tx, values);
      if (outcome !== 'accepted') throw new Refused(outcome);
      memory.rememberTraffic(values.orgId, nextTrafficCycle(org.createdAt, latest));
      return outcome;
    });
  } catch (error) {
    if (error instanceof Refused) return error.outcome;
    throw error;
  }
}

/**
 * Accepts a runtime's usage report (spec 6): all or nothing, counted once per report id, durable
 * when this returns. A repeated report is accepted again without counting. When a plan change moved
 * the billing window while the report arrived, it is classified again against the new one.
 */
export async function ingestUsageReport(
  db: Database,
  memory: IngestMemory,
  now: Date,
  input: { orgId: string; runtimeId: string; reportId: string; usage: readonly UsageRecord[] },
) {
  for (let attempt = 0; attempt < 5; attempt++) {
    let window = memory.window(input.orgId);
    if (window === undefined || attempt > 0) {
      window = await loadOpenWindow(db, input.orgId);
      memory.remember(input.orgId, window);
    }
    const aggregated = aggregateReport(input.usage, now, window);
    if ('code' in aggregated) {
      // The write checks the runtime; a refused report never gets there, so check it here: a deleted
      // runtime or a decommissioned control plane is answered as such whatever the report holds.
      const found = await findLiveRuntime(db, input.runtimeId);
      if (!found) throw fail.unauthenticated('The runtime token is not valid.');
      if (found.controlPlane.status !== 'active') {
        throw fail.forbidden('control_plane_decommissioned', 'This runtime’s control plane is decommissioned.');
      }
      if (await isKnownReport(db, input.orgId, input.runtimeId, input.reportId)) {
        return { duplicate: true, records: input.usage.length, requests: 0n };
      }
      throw new AppError(400, aggregated.code, aggregated.message, { field: aggregated.field });
    }
    const values = {
      orgId: input.orgId,
      runtimeId: input.runtimeId,
      reportId: input.reportId,
      records: input.usage.length,
      requests: aggregated.requests,
      window,
      buckets: aggregated.buckets,
      now,
    };
    const latest = aggregated.latest;
    const outcome = await retryOnDeadlock(() =>
      latest && memory.mayMoveInactivity(input.orgId, latest)
        ? writeReportMovingInactivity(db, memory, latest, values)
        : writeReport(db, values),
    );
    if (outcome === 'runtime_gone') throw fail.unauthenticated('The runtime token is not valid.');
    if (outcome === 'decommissioned') {
      throw fail.forbidden('control_plane_decommissioned', 'This runtime’s control plane is decommissioned.');
    }
    if (outcome !== 'stale_window') {
      return { duplicate: outcome === 'duplicate', records: input.usage.length, requests: aggregated.requests };
    }
  }
  throw new AppError(409, 'try_again', 'The plan changed while the report arrived. Send it again.');
}
