import type { Config } from '../config.ts';
import { createTierline } from '../tierline.ts';
import { startProgress } from './progress.ts';

/**
 * Does every item of due work that is due now, with a progress bar, then exits: after downtime, or to
 * see a backlog go down; with `retryFailed`, items that used up their attempts are tried again first.
 * Safe beside running workers: items are claimed with SKIP LOCKED.
 */
export async function catchUpCommand(config: Config, options: { retryFailed: boolean }): Promise<void> {
  const tierline = await createTierline(config);
  const progress = startProgress('due work');
  try {
    const now = await tierline.deps.clock.now();
    const runner = tierline.deps.runner;
    if (options.retryFailed) {
      const revived = await runner.retryFailed();
      console.log(`${revived} failed item(s) put back in the queue.`);
    }
    let total = await runner.countDue(now);
    progress.update(0, total);
    const result = await runner.runDue(now, {
      concurrency: tierline.database.kind === 'postgres' ? config.workerConcurrency : 1,
      onProgress: (done) => {
        total = Math.max(total, done);
        progress.update(done, total);
      },
    });
    for (const task of tierline.deps.passTasks) await task.run(now);
    progress.update(result.processed, Math.max(total, result.processed));
    progress.stop();
    console.log(
      `Done ${result.processed} item(s) due by ${now.toISOString()}${result.failed ? `; ${result.failed} failed and will be tried again` : ''}.`,
    );
  } finally {
    progress.stop();
    await tierline.close();
  }
}
