import type { Config } from './config.ts';
import type { Database } from './db/client.ts';
import type { OrgReadCache } from './db/read-cache.ts';
import type { DueWorkRunner } from './jobs/runner.ts';
import type { PassTask } from './jobs/worker.ts';
import type { Clock } from './kernel/clock.ts';
import type { Mailer } from './modules/notifications/index.ts';
import type { PaymentProvider } from './modules/payments/index.ts';
import type { Catalog } from './modules/plans/index.ts';

/** What the HTTP layer and the jobs are given: built once by main.ts or the test helper. */
export interface Deps {
  config: Config;
  db: Database;
  clock: Clock;
  runner: DueWorkRunner;
  catalog: Catalog;
  payments: PaymentProvider;
  /** Sends the outbox over SMTP; absent when TIERLINE_SMTP_URL is unset (emails stay queued). */
  mailer?: Mailer;
  /** Work done on every worker pass and after each test-clock advance (emails, webhooks). */
  passTasks: PassTask[];
  /** Callers and billing snapshots kept in memory until their org changes (src/db/read-cache.ts). */
  readCache: OrgReadCache;
}
