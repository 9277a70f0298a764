import { type SQL, sql } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import type { Executor } from './client.ts';

/** A column of a bulk insert: its name and PostgreSQL type, and optionally an SQL expression over `t`. */
export type BulkColumn = [name: string, type: string] | [name: string, type: null, expression: SQL];

function jsonValue(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'bigint') return value.toString();
  return value;
}

/**
 * Inserts many rows in one statement per ten thousand, sent as a single JSON parameter and expanded
 * by jsonb_to_recordset: much cheaper for PostgreSQL to parse than thousands of bound parameters.
 * Rows are keyed by column name; `suffix` may add an ON CONFLICT clause or RETURNING, whose rows are
 * returned.
 */
export async function bulkInsert(
  executor: Executor,
  table: string,
  columns: readonly BulkColumn[],
  rows: ReadonlyArray<Record<string, unknown>>,
  suffix: SQL = sql``,
): Promise<Array<Record<string, unknown>>> {
  const returned: Array<Record<string, unknown>> = [];
  const typed = columns.filter((column): column is [string, string] => column[1] !== null);
  const recordType = sql.raw(typed.map(([name, type]) => `"${name}" ${type}`).join(', '));
  const targetColumns = sql.raw(columns.map(([name]) => `"${name}"`).join(', '));
  const selected = sql.join(
    columns.map((column) => (column[1] === null ? column[2] : sql.raw(`t."${column[0]}"`))),
    sql`, `,
  );
  for (let start = 0; start < rows.length; start += 10_000) {
    const chunk = rows.slice(start, start + 10_000).map((row) => {
      const out: Record<string, unknown> = {};
      for (const [name] of typed) out[name] = jsonValue(row[name]);
      return out;
    });
    const result = await executor.execute(sql`
      insert into ${sql.identifier(table)} (${targetColumns})
      select ${selected} from jsonb_to_recordset(${JSON.stringify(chunk)}::jsonb) as t(${recordType})
      ${suffix}`);
    returned.push(...((result as unknown as { rows?: Array<Record<string, unknown>> }).rows ?? []));
  }
  return returned;
}

/**
 * `column in (…ids)` with the ids sent as one JSON parameter: with a thousand-value IN list of bound
 * parameters PostgreSQL's planner may scan the whole table instead of using the column's index.
 */
export function inIds(column: SQL | PgColumn, ids: readonly string[]): SQL {
  return sql`${column} in (select jsonb_array_elements_text(${JSON.stringify(ids)}::jsonb))`;
}
