import { type Config, ConfigError } from './config.ts';
import { type DatabaseHandle, openDatabase } from './db/client.ts';
import type { Deps } from './deps.ts';
import { type App, buildApp } from './http/app.ts';
import { registerDueWork } from './jobs/handlers.ts';
import { DueWorkRunner } from './jobs/runner.ts';
import { type Clock, realNow, systemClock } from './kernel/clock.ts';
import { openTestClock } from './modules/clock/test-clock.ts';
import { ensureAdminStaff } from './modules/identity/staff.ts';
import { createTestProvider } from './modules/payments/index.ts';
import { type Catalog, loadCatalog } from './modules/plans/index.ts';

export interface Tierline {
  app: App;
  deps: Deps;
  database: DatabaseHandle;
  /** Starts the periodic due-work pass (real clock only; the test clock runs work on advance). */
  startWorker(): void;
  close(): Promise<void>;
}

/** Composes Tierline: database and migrations, clock, due-work runner, HTTP app. */
export async function createTierline(config: Config, options: { logger?: boolean } = {}): Promise<Tierline> {
  let catalog: Catalog;
  try {
    catalog = loadCatalog(config.catalogFile);
  } catch (error) {
    throw new ConfigError(`TIERLINE_CATALOG_FILE: ${(error as Error).message}`);
  }
  const database = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
  await database.migrate();
  const clock: Clock = config.testClock
    ? await openTestClock(database.db, config.testClockStart ?? realNow())
    : systemClock;
  const runner = new DueWorkRunner(database.db, { testClock: config.testClock });
  const deps: Deps = { config, db: database.db, clock, runner, catalog, payments: createTestProvider() };
  registerDueWork(runner, deps);
  if (config.adminEmail && config.adminPassword) {
    await ensureAdminStaff(database.db, await clock.now(), config.adminEmail, config.adminPassword);
  }
  const app = await buildApp(deps, { logLevel: options.logger ? config.logLevel : undefined });
  let timer: NodeJS.Timeout | undefined;
  let pass: Promise<unknown> = Promise.resolve();
  return {
    app,
    deps,
    database,
    startWorker() {
      if (config.testClock || timer) return;
      timer = setInterval(() => {
        pass = pass
          .then(async () => runner.runDue(await clock.now()))
          .catch((error) => app.log.error({ err: error }, 'due work pass failed'));
      }, config.workerIntervalMs);
    },
    async close() {
      if (timer) clearInterval(timer);
      await pass;
      await app.close();
      await database.close();
    },
  };
}
