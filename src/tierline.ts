import { type Config, ConfigError } from './config.ts';
import { type DatabaseHandle, type MigrationProgress, openDatabase } from './db/client.ts';
import { OrgReadCache } from './db/read-cache.ts';
import type { Deps } from './deps.ts';
import { type App, buildApp } from './http/app.ts';
import { registerDueWork } from './jobs/handlers.ts';
import { DueWorkRunner } from './jobs/runner.ts';
import { type DueWorker, type PassTask, startDueWorker } from './jobs/worker.ts';
import { type Clock, realNow, systemClock } from './kernel/clock.ts';
import { openTestClock } from './modules/clock/test-clock.ts';
import { ensureAdminStaff } from './modules/identity/staff.ts';
import { createSmtpMailer, pruneOutbox, sendQueuedEmails } from './modules/notifications/index.ts';
import { createStripeProvider, createTestProvider } from './modules/payments/index.ts';
import { type Catalog, loadCatalog } from './modules/plans/index.ts';
import { dropExpiredUsagePartitions, maintainUsagePartitions } from './modules/usage/index.ts';
import { deliverDueWebhooks, pruneWebhookEvents } from './modules/webhooks/index.ts';

export interface Tierline {
  app: App;
  deps: Deps;
  database: DatabaseHandle;
  /**
   * Starts the due-work worker on pg-boss (real clock only; the test clock runs work on advance).
   * `close()` stops it after the work in hand.
   */
  startWorker(): Promise<void>;
  close(): Promise<void>;
}

/** Composes Tierline: database and migrations, clock, due-work runner, HTTP app. */
export async function createTierline(
  config: Config,
  options: { logger?: boolean; onMigrationProgress?: MigrationProgress } = {},
): Promise<Tierline> {
  let catalog: Catalog;
  try {
    catalog = loadCatalog(config.catalogFile);
  } catch (error) {
    throw new ConfigError(`TIERLINE_CATALOG_FILE: ${(error as Error).message}`);
  }
  const database = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
  await database.migrate(options.onMigrationProgress);
  const clock: Clock = config.testClock
    ? await openTestClock(database.db, config.testClockStart ?? realNow())
    : systemClock;
  const runner = new DueWorkRunner(database.db, { testClock: config.testClock });
  const payments =
    config.payments.provider === 'stripe'
      ? createStripeProvider({ secretKey: config.payments.secretKey, apiUrl: config.payments.apiUrl })
      : createTestProvider();
  // Done on every worker pass and after each test-clock advance, as of that instant.
  const passTasks: PassTask[] = [];
  const readCache = new OrgReadCache(database, { enabled: config.readCache });
  await readCache.start();
  const deps: Deps = { config, db: database.db, clock, runner, catalog, payments, passTasks, readCache };
  if (config.smtpUrl) deps.mailer = createSmtpMailer({ url: config.smtpUrl, from: config.emailFrom });
  registerDueWork(runner, deps);
  // Monthly partitions of usage_minutes: the months usage accepted at `now` falls in, and the next two.
  passTasks.push({ name: 'usage_partitions', run: (now) => maintainUsagePartitions(deps.db, now) });
  passTasks.push({
    name: 'webhooks',
    run: (now) => deliverDueWebhooks(deps.db, now, { limit: 100, timeoutMs: 10_000 }),
  });
  passTasks.push({
    name: 'email',
    // Batches of 100 until the outbox is empty (or 50 batches: the next pass goes on).
    run: async (now) => {
      for (let batch = 0; batch < 50; batch++) {
        const result = await sendQueuedEmails(deps.db, deps.mailer, now, { limit: 100, log: app.log });
        if (result.sent + result.failed < 100) return;
      }
    },
  });
  // Retention: settled webhook events and sent or refused emails past their periods, a few bounded
  // batches per pass (a backlog goes over several passes).
  passTasks.push({
    name: 'retention',
    run: async (now) => {
      await pruneWebhookEvents(deps.db, now, { retentionDays: config.webhookRetentionDays });
      await pruneOutbox(deps.db, now, { retentionDays: config.outboxRetentionDays });
    },
  });
  // Usage retention by month: old monthly partitions of usage_minutes are dropped once billing is done
  // with them. A month kept for billing is logged when the kept months change, not on every pass.
  let keptBefore = '';
  passTasks.push({
    name: 'usage_retention',
    run: async (now) => {
      const result = await dropExpiredUsagePartitions(deps.db, now, { retentionMonths: config.usageRetentionMonths });
      const log = app.log.child({ task: 'usage_retention' });
      if (result.dropped.length > 0) log.info({ dropped: result.dropped }, 'old months of usage dropped');
      const kept = JSON.stringify(result.kept.map((month) => [month.month, month.holds.map((hold) => hold.reason)]));
      if (result.kept.length > 0 && kept !== keptBefore) {
        log.warn({ kept: result.kept }, 'old months of usage kept: billing still needs them');
      }
      keptBefore = kept;
      return result;
    },
  });
  if (config.adminEmail && config.adminPassword) {
    await ensureAdminStaff(database.db, await clock.now(), config.adminEmail, config.adminPassword);
  }
  const app = await buildApp(deps, { logLevel: options.logger ? config.logLevel : undefined });
  let worker: DueWorker | undefined;
  return {
    app,
    deps,
    database,
    async startWorker() {
      if (config.testClock || worker) return;
      worker = await startDueWorker({
        database,
        runner,
        clock,
        log: app.log.child({ job: 'due_work' }),
        tasks: passTasks,
        concurrency: config.workerConcurrency,
        pollingIntervalSeconds: config.workerIntervalMs / 1000,
      });
    },
    async close() {
      // Requests in flight and work in hand finish first; new requests are refused meanwhile.
      await Promise.all([app.close(), worker?.stop()]);
      // After the worker: a pass in hand may still be sending.
      await deps.mailer?.close();
      await readCache.close();
      await database.close();
    },
  };
}
