import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import type { ExtractTablesWithRelations } from 'drizzle-orm';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import { drizzle as drizzleNodePg } from 'drizzle-orm/node-postgres';
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import pg from 'pg';
import * as schema from './schema/index.ts';

export type Schema = typeof schema;
export type Database = PgDatabase<PgQueryResultHKT, Schema>;
export type Transaction = PgTransaction<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;
/** Either the database or an open transaction: what repository functions take. */
export type Executor = Database | Transaction;

/** Called after each migration step with how many of the steps are done. */
export type MigrationProgress = (done: number, total: number) => void;

export interface DatabaseHandle {
  db: Database;
  kind: 'embedded' | 'postgres';
  /** Where the job queue (pg-boss) keeps its tables: the same database, through its own connections. */
  jobs: { connectionString: string } | { pglite: PGlite };
  /** Applies the pending migrations, one at a time; on a server, one process at a time. */
  migrate(onProgress?: MigrationProgress): Promise<void>;
  /**
   * Calls `onNotify` with each NOTIFY's payload on the channel, and `onLost` if the listening
   * connection is lost (no more calls then); resolves to a function that stops listening.
   */
  listen(channel: string, onNotify: (payload: string) => void, onLost?: () => void): Promise<() => Promise<void>>;
  /** Sends a NOTIFY on the channel, outside any transaction. */
  notify(channel: string, payload: string): Promise<void>;
  close(): Promise<void>;
}

const migrationsFolder = fileURLToPath(new URL('./migrations', import.meta.url));
// Any constant: the advisory lock that keeps two processes from migrating the same server at once.
const MIGRATION_LOCK = 7_310_001;

interface Migrator {
  dialect: { migrate(migrations: unknown[], session: unknown, config: { migrationsFolder: string }): Promise<void> };
  session: unknown;
}

/**
 * Drizzle's migrator applies every pending migration in one call; giving it the first k migrations,
 * k = 1…n, applies them one at a time (each in its own transaction), so progress can be shown.
 */
async function migrateStepwise(db: Database, onProgress?: MigrationProgress): Promise<void> {
  const migrations = readMigrationFiles({ migrationsFolder });
  const migrator = db as unknown as Migrator;
  for (let step = 1; step <= migrations.length; step++) {
    await migrator.dialect.migrate(migrations.slice(0, step), migrator.session, { migrationsFolder });
    onProgress?.(step, migrations.length);
  }
}

/** Opens PostgreSQL when a URL is given, else the embedded PGlite under dataDir ('memory://' for RAM). */
export async function openDatabase(options: { url?: string; dataDir: string }): Promise<DatabaseHandle> {
  if (options.url) {
    const pool = new pg.Pool({ connectionString: options.url, max: 10 });
    pool.on('error', () => {
      // An idle client lost its connection; the pool replaces it on next use.
    });
    const db = drizzleNodePg(pool, { schema }) as unknown as Database;
    return {
      db,
      kind: 'postgres',
      jobs: { connectionString: options.url },
      async migrate(onProgress) {
        const lock = await pool.connect();
        try {
          await lock.query('select pg_advisory_lock($1)', [MIGRATION_LOCK]);
          await migrateStepwise(db, onProgress);
        } finally {
          await lock.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
          lock.release();
        }
      },
      async listen(channel, onNotify, onLost) {
        const listener = new pg.Client({ connectionString: options.url });
        let stopped = false;
        const lost = () => {
          if (stopped) return;
          stopped = true;
          onLost?.();
        };
        listener.on('error', lost);
        listener.on('end', lost);
        try {
          await listener.connect();
          listener.on('notification', (message) => {
            if (message.channel === channel) onNotify(message.payload ?? '');
          });
          await listener.query(`listen ${channel}`);
        } catch (error) {
          stopped = true;
          await listener.end().catch(() => undefined);
          throw error;
        }
        return async () => {
          stopped = true;
          await listener.end().catch(() => undefined);
        };
      },
      async notify(channel, payload) {
        await pool.query('select pg_notify($1, $2)', [channel, payload]);
      },
      close: () => pool.end(),
    };
  }
  if (!options.dataDir.startsWith('memory://')) mkdirSync(options.dataDir, { recursive: true });
  const client = await PGlite.create(options.dataDir);
  const db = drizzlePglite(client, { schema }) as unknown as Database;
  return {
    db,
    kind: 'embedded',
    jobs: { pglite: client },
    migrate: (onProgress) => migrateStepwise(db, onProgress),
    // One process owns the embedded database: its listening connection cannot be lost.
    listen: async (channel, onNotify) => {
      const stop = await client.listen(channel, onNotify);
      return async () => {
        await stop();
      };
    },
    async notify(channel, payload) {
      await client.query('select pg_notify($1, $2)', [channel, payload]);
    },
    close: () => client.close(),
  };
}
