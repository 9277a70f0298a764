import { fromPglite, PgBoss } from 'pg-boss';
import type { Config } from '../config.ts';
import { openDatabase } from '../db/client.ts';
import { startProgress } from './progress.ts';

/** Applies the schema migrations, then installs or upgrades the job queue's own tables. */
export async function migrateCommand(config: Config): Promise<void> {
  const database = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
  const progress = startProgress('migrations');
  try {
    let total = 0;
    await database.migrate((done, steps) => {
      total = steps + 1;
      progress.update(done, total);
    });
    const boss =
      'pglite' in database.jobs
        ? new PgBoss({ db: fromPglite(database.jobs.pglite), backend: 'pglite', supervise: false, schedule: false })
        : new PgBoss({ connectionString: database.jobs.connectionString, supervise: false, schedule: false });
    await boss.start();
    await boss.stop({ graceful: false });
    progress.update(total, total);
  } finally {
    progress.stop();
    await database.close();
  }
  console.log(`The ${database.kind} database is up to date.`);
}
