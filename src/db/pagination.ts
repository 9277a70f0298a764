import { and, eq, lt, or, type SQL } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import { fail } from '../kernel/errors.ts';

/** A position in a newest-first list: the last row's (created_at, id). */
export interface Cursor {
  createdAt: Date;
  id: string;
}

/** Rows strictly after the cursor in (created_at desc, id desc) order. */
export function afterCursor(createdAt: PgColumn, id: PgColumn, cursor: Cursor | undefined): SQL | undefined {
  if (!cursor) return undefined;
  return or(lt(createdAt, cursor.createdAt), and(eq(createdAt, cursor.createdAt), lt(id, cursor.id)));
}

export function encodeCursor(row: { createdAt: Date; id: string }): string {
  return Buffer.from(`${row.createdAt.toISOString()}|${row.id}`).toString('base64url');
}

/** Decodes a cursor from a query string; a malformed one is a 400 naming `cursor`. */
export function decodeCursor(text: string | undefined): Cursor | undefined {
  if (!text) return undefined;
  const [iso, id] = Buffer.from(text, 'base64url').toString('utf8').split('|');
  const createdAt = new Date(iso ?? '');
  const year = createdAt.getUTCFullYear();
  // Only what a list can have produced: an instant PostgreSQL can hold, an id of printable ASCII.
  if (!id || !/^[\x21-\x7e]{1,200}$/.test(id) || Number.isNaN(year) || year < 1 || year > 9999) {
    throw fail.validation('cursor', 'The cursor is not valid.');
  }
  return { createdAt, id };
}

/** Builds a list answer from limit + 1 fetched rows (spec 11). */
export function toPage<Row extends { createdAt: Date; id: string }, Out>(
  rows: Row[],
  limit: number,
  present: (row: Row) => Out,
): { data: Out[]; next_cursor: string | null } {
  const hasMore = rows.length > limit;
  const pageRows = hasMore ? rows.slice(0, limit) : rows;
  const last = pageRows[pageRows.length - 1];
  return { data: pageRows.map(present), next_cursor: hasMore && last ? encodeCursor(last) : null };
}

/**
 * Pages a short list already loaded (an org's members, teams, runtimes…) with the same cursor as the
 * database lists, newest first. Without `limit` or `cursor` the whole list is one page, in its own order.
 */
export function pageInMemory<Row, Out>(
  rows: readonly Row[],
  keyOf: (row: Row) => { createdAt: Date; id: string },
  query: { limit?: number; cursor?: string },
  present: (row: Row) => Out,
): { data: Out[]; next_cursor: string | null } {
  if (query.limit === undefined && query.cursor === undefined) {
    return { data: rows.map(present), next_cursor: null };
  }
  const keyed = rows
    .map((row) => ({ row, key: keyOf(row) }))
    .sort((a, b) => b.key.createdAt.getTime() - a.key.createdAt.getTime() || (a.key.id < b.key.id ? 1 : -1));
  const cursor = decodeCursor(query.cursor);
  const after = cursor
    ? keyed.filter(
        ({ key }) =>
          key.createdAt < cursor.createdAt ||
          (key.createdAt.getTime() === cursor.createdAt.getTime() && key.id < cursor.id),
      )
    : keyed;
  const limit = query.limit ?? 20;
  const page = after.slice(0, limit);
  const last = page[page.length - 1];
  return {
    data: page.map((entry) => present(entry.row)),
    next_cursor: after.length > limit && last ? encodeCursor(last.key) : null,
  };
}
