import { sql } from 'drizzle-orm';
import type { TestInstance } from '../helpers/instance.ts';

/**
 * Tables a refused request may legitimately write, left out of "nothing changes":
 * - login_attempts: every failed login is recorded, so that failures can be rate limited (spec 9).
 * - idempotency_keys: a POST with an Idempotency-Key keeps its first answer for 24 hours, refusals
 *   (401, 403, 404, 413, 415, 422) included, so that a retry gets the same answer (spec 11).
 * Sessions and runtimes stay in: their last-seen instants only move when the clock does, and the
 * test clock stands still while the fuzzer runs.
 */
export const TABLES_ALLOWED_TO_CHANGE = ['login_attempts', 'idempotency_keys'];

/** Rows a refused request may add to a watched table: failed logins are audited (log-in.ts), like login_attempts. */
export const ROWS_ALLOWED_TO_CHANGE: Record<string, string> = {
  audit_events: "action = 'auth.login_failed'",
};

/** Row count and checksum of each table, by "schema.table". */
export type Snapshot = Map<string, { rows: number; checksum: string }>;

function rowsOf(result: unknown): Array<Record<string, unknown>> {
  return (result as { rows: Array<Record<string, unknown>> }).rows;
}

/** One query that counts and checksums every table but the allowed ones. */
export async function snapshotQuery(t: TestInstance) {
  const tables = rowsOf(
    await t.database.db.execute(sql`
      select table_schema, table_name from information_schema.tables
      where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema')
      order by table_schema, table_name`),
  )
    .map((row) => ({ schema: String(row.table_schema), name: String(row.table_name) }))
    .filter((table) => !TABLES_ALLOWED_TO_CHANGE.includes(table.name));
  if (tables.length < 10) throw new Error(`expected Tierline's tables, found ${tables.length}`);
  const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;
  const text = tables
    .map(
      ({ schema, name }) =>
        `select '${schema}.${name}' as name, count(*)::int as rows, ` +
        `coalesce(md5(string_agg(t::text, '|' order by t::text)), '') as checksum ` +
        `from ${quote(schema)}.${quote(name)} t` +
        (ROWS_ALLOWED_TO_CHANGE[name] ? ` where not (${ROWS_ALLOWED_TO_CHANGE[name]})` : ''),
    )
    .join(' union all ');
  return {
    tables: tables.map((table) => `${table.schema}.${table.name}`),
    async take(): Promise<Snapshot> {
      const rows = rowsOf(await t.database.db.execute(sql.raw(text)));
      return new Map(rows.map((row) => [String(row.name), { rows: Number(row.rows), checksum: String(row.checksum) }]));
    },
  };
}

/** The tables whose rows differ between two snapshots, with their row counts. */
export function differences(before: Snapshot, after: Snapshot): string[] {
  const changed: string[] = [];
  for (const [name, was] of before) {
    const now = after.get(name);
    if (!now || now.checksum !== was.checksum || now.rows !== was.rows) {
      changed.push(`${name} (${was.rows} rows before, ${now?.rows ?? 'missing'} after)`);
    }
  }
  return changed;
}
