import { randomBytes } from 'node:crypto';
import type { ControlPlaneClient } from './control-plane-client.ts';
import type { Spool } from './spool.ts';
import {
  backoffDelay,
  buildReports,
  reportIdSequence,
  reportRequests,
  UsageCounter,
  type UsageReport,
} from './usage-counter.ts';

export interface ReporterOptions {
  spool: Spool;
  client: ControlPlaneClient;
  log(line: string): void;
  now(): Date;
  intervalMs: number;
  /** First retry delay after a failed send; doubles on each failure in a row, up to `backoffCapMs`. */
  backoffBaseMs?: number;
  backoffCapMs?: number;
  /** Whether reports are held back: a decommissioned control plane refuses them. */
  isDecommissioned(): boolean;
  /** Told when the control plane answers a report with control_plane_decommissioned. */
  onDecommissioned(message: string): void;
}

/**
 * Counts requests, closes the counts into a report every interval, spools it and sends the
 * spool to the control plane, oldest first. A report leaves the spool only once accepted (200)
 * or refused for good (400: moved to rejected/); otherwise it is sent again later, with the same
 * report id, after an exponentially growing pause.
 */
export class Reporter {
  readonly #options: ReporterOptions;
  readonly #counter = new UsageCounter();
  readonly #nextReportId: () => string;
  readonly #backoffBaseMs: number;
  readonly #backoffCapMs: number;
  #failures = 0;
  #retryAt = 0;
  // Closing and sending run one at a time, in the order asked.
  #queue: Promise<void> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;
  #isStopped = false;

  constructor(options: ReporterOptions) {
    this.#options = options;
    this.#nextReportId = reportIdSequence(options.now(), randomBytes(4).toString('hex'));
    this.#backoffBaseMs = options.backoffBaseMs ?? 1_000;
    this.#backoffCapMs = options.backoffCapMs ?? 60_000;
  }

  /** Counts one proxied request of `service`, arriving now. */
  count(service: string | undefined): void {
    this.#counter.count(service, this.#options.now());
  }

  #enqueue(work: () => Promise<void>): Promise<void> {
    const run = this.#queue.then(work);
    this.#queue = run.catch((error: unknown) => {
      this.#options.log(`reporting failed: ${error instanceof Error ? error.message : String(error)}`);
    });
    return run;
  }

  /** Closes what was counted into reports and writes them to the spool (not sent yet). */
  closeCounts(): Promise<void> {
    return this.#enqueue(() => this.#closeCounts());
  }

  async #closeCounts(): Promise<void> {
    if (this.#counter.isEmpty()) return;
    const records = this.#counter.drain();
    const reports = buildReports(records, this.#nextReportId);
    for (const [index, report] of reports.entries()) {
      try {
        await this.#options.spool.write(report);
      } catch (error) {
        // Nothing is lost: what could not be spooled is counted again and closed next time.
        for (const unsaved of reports.slice(index)) for (const record of unsaved.usage) this.#counter.add(record);
        throw error;
      }
    }
  }

  /**
   * Sends the spooled reports, oldest first, unless paused by a failure or a decommissioned
   * control plane. `ignoreBackoff` sends even during a pause; `timeoutMs` bounds each call.
   */
  flush(options: { ignoreBackoff?: boolean; timeoutMs?: number } = {}): Promise<void> {
    return this.#enqueue(() => this.#flush(options));
  }

  async #flush(options: { ignoreBackoff?: boolean; timeoutMs?: number }): Promise<void> {
    const { spool, client, log } = this.#options;
    if (this.#options.isDecommissioned()) return;
    if (!options.ignoreBackoff && Date.now() < this.#retryAt) return;
    for (const entry of await spool.list()) {
      if (entry.kind === 'unreadable') {
        const moved = await spool.reject(entry.fileId, 'the file is not a usage report');
        log(`spooled file ${entry.fileId}.json is not a usage report; moved to ${moved}`);
        continue;
      }
      const result = await client.sendReport(entry.report, options.timeoutMs);
      if (!(await this.#settle(entry.report, result))) return;
    }
  }

  /** Acts on one send's result; false when the rest of the spool must wait. */
  async #settle(report: UsageReport, result: Awaited<ReturnType<ControlPlaneClient['sendReport']>>) {
    const { spool, log } = this.#options;
    const summary = `report ${report.report_id} (${reportRequests(report)} requests)`;
    switch (result.kind) {
      case 'accepted':
        await spool.remove(report.report_id);
        this.#failures = 0;
        this.#retryAt = 0;
        log(`${summary} sent${result.duplicate ? ', already counted before' : ''}`);
        return true;
      case 'rejected': {
        const moved = await spool.reject(report.report_id, result.reason);
        log(`${summary} rejected by the control plane, ${result.reason}; moved to ${moved}`);
        return true;
      }
      case 'decommissioned':
        this.#options.onDecommissioned(result.message);
        return false;
      case 'retry': {
        this.#failures += 1;
        const delay = backoffDelay(this.#failures, this.#backoffBaseMs, this.#backoffCapMs, Math.random());
        this.#retryAt = Date.now() + delay;
        log(`${summary} not sent, ${result.reason}; kept in the spool, next try in ${Math.ceil(delay / 1000)} s`);
        return false;
      }
    }
  }

  /** Closes and sends now, then every interval until stopped; the first round sends what a previous run left. */
  start(): void {
    const round = async () => {
      await this.closeCounts().catch(() => {});
      await this.flush().catch(() => {});
      if (!this.#isStopped) this.#timer = setTimeout(round, this.#options.intervalMs);
    };
    this.#timer = setTimeout(round, 0);
  }

  /**
   * Stops the rounds, closes the last counts into the spool and tries once to send the spool,
   * each call bounded by `timeoutMs`. Whatever is not accepted stays spooled for the next run.
   */
  async shutdown(timeoutMs: number): Promise<void> {
    this.#isStopped = true;
    clearTimeout(this.#timer);
    await this.closeCounts().catch(() => {});
    await this.flush({ ignoreBackoff: true, timeoutMs }).catch(() => {});
  }
}
