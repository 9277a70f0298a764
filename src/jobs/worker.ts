import { fromPglite, PgBoss } from 'pg-boss';
import type { DatabaseHandle } from '../db/client.ts';
import { WORK_CHANNEL } from '../db/notify.ts';
import type { Clock } from '../kernel/clock.ts';
import type { DueWorkRunner } from './runner.ts';

/** Work done on every pass besides the due items (sending emails, delivering webhooks), as of `now`. */
export type PassTask = { name: string; run: (now: Date) => Promise<unknown> };

/** What the worker writes to the log. */
export interface WorkerLog {
  info(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export interface DueWorker {
  /** Asks for a pass now (what a NOTIFY from a committed write does). */
  nudge(): Promise<void>;
  /** Stops taking work, lets the work in hand finish (up to `timeoutMs`), then closes the queue. */
  stop(timeoutMs?: number): Promise<void>;
}

export const PASS_QUEUE = 'tierline-due-pass';
export const DRAIN_QUEUE = 'tierline-due-drain';
// Items a drain job is expected to take on before another drain job is worth sending beside it.
const ITEMS_PER_DRAIN = 1000;

/**
 * Due work in production, on pg-boss. A pass (cron every minute, and at once when a committed write
 * sends a NOTIFY on `tierline_work`) counts the items due, hands them out as drain jobs to however
 * many worker processes there are, and runs the pass tasks. A drain claims batches of due items with
 * SKIP LOCKED and does each in one transaction with its done mark, so every effect happens once
 * however many processes drain side by side and whatever pg-boss delivers twice.
 */
export async function startDueWorker(options: {
  database: DatabaseHandle;
  runner: DueWorkRunner;
  clock: Clock;
  log: WorkerLog;
  tasks: readonly PassTask[];
  /** Drain jobs this process runs at once. */
  concurrency: number;
  /** Drain jobs a pass may send in all. */
  maxDrains?: number;
  /** How often an idle worker looks at the queue (a NOTIFY wakes it sooner). */
  pollingIntervalSeconds?: number;
}): Promise<DueWorker> {
  const { database, runner, clock, log, tasks, concurrency } = options;
  const maxDrains = options.maxDrains ?? 8;
  const pollingIntervalSeconds = Math.max(0.5, options.pollingIntervalSeconds ?? 2);
  const boss =
    'pglite' in database.jobs
      ? new PgBoss({ db: fromPglite(database.jobs.pglite), backend: 'pglite', useListenNotify: true })
      : new PgBoss({ connectionString: database.jobs.connectionString, max: 2 + concurrency, useListenNotify: true });
  boss.on('error', (error) => log.error({ err: error }, 'job queue error'));
  await boss.start();
  // A pass is `stately`: one waiting and one running at most, so a burst of nudges is one pass.
  // Heartbeats: a job held by a worker that died is given up after 30 s, not after its expiry.
  await boss.createQueue(PASS_QUEUE, {
    policy: 'stately',
    notify: true,
    retryLimit: 1,
    expireInSeconds: 600,
    heartbeatSeconds: 30,
  });
  await boss.createQueue(DRAIN_QUEUE, {
    notify: true,
    heartbeatSeconds: 30,
    retryLimit: 5,
    retryDelay: 5,
    retryBackoff: true,
    expireInSeconds: 3600,
  });
  await boss.schedule(PASS_QUEUE, '* * * * *');

  let stopping = false;
  await boss.work(PASS_QUEUE, { pollingIntervalSeconds }, async () => {
    const now = await clock.now();
    const due = await runner.countDue(now, ITEMS_PER_DRAIN * maxDrains);
    const drains = Math.min(maxDrains, Math.ceil(due / ITEMS_PER_DRAIN));
    for (let index = 0; index < drains; index++) {
      await boss.send(DRAIN_QUEUE, { up_to: now.toISOString() });
    }
    // Side by side: a slow webhook receiver does not hold up the email.
    await Promise.all(
      tasks.map((task) =>
        task.run(now).catch((error) => log.error({ err: error, task: task.name }, 'pass task failed')),
      ),
    );
    if (due > 0) log.info({ job: PASS_QUEUE, due, drains }, 'due work handed out');
  });
  await boss.work<{ up_to: string }>(
    DRAIN_QUEUE,
    { localConcurrency: concurrency, pollingIntervalSeconds },
    async ([job]) => {
      const upTo = new Date(job.data.up_to);
      const result = await runner.runDue(upTo, { shouldStop: () => stopping });
      if (result.processed > 0 || result.failed > 0) {
        log.info({ job: DRAIN_QUEUE, id: job.id, ...result }, 'due work done');
      }
    },
  );

  const nudge = async () => {
    if (stopping) return;
    await boss.send(PASS_QUEUE, null);
  };
  const unlisten = await database.listen(WORK_CHANNEL, () => {
    nudge().catch((error) => log.error({ err: error }, 'cannot ask for a pass'));
  });
  await nudge();

  return {
    nudge,
    async stop(timeoutMs = 30_000) {
      stopping = true;
      await unlisten();
      await boss.stop({ graceful: true, timeout: timeoutMs, close: true });
    },
  };
}
