/**
 * Loaded into the benchmark's server process (`node --import ./bench/query-count.ts src/main.ts`):
 * counts the SQL statements the process sends, by text, through node-postgres and PGlite, so that
 * the benchmark can tell how many statements, and which, one request costs; and the process's
 * garbage-collection pauses. SIGUSR2 starts a count (and writes an empty one to the file named by
 * TIERLINE_BENCH_QUERY_COUNTS); the next one stops it and writes
 * `{ statements: { text: count }, gcPausesMs: [...], gcKinds: { minor: [...], ... } }` there. Outside a count the wrapper costs one
 * test per statement.
 */
import { writeFileSync } from 'node:fs';
import { PerformanceObserver } from 'node:perf_hooks';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';

const counts = new Map<string, number>();
const gcPausesMs: number[] = [];
/** Pauses by kind: minor (scavenge), major (mark-compact), incremental, weak callbacks. */
const gcKinds: Record<string, number[]> = {};
const GC_KINDS: Record<number, string> = { 1: 'minor', 2: 'major', 4: 'incremental', 8: 'weakcb' };
let counting = false;
const file = process.env.TIERLINE_BENCH_QUERY_COUNTS;

function count(statement: unknown) {
  const text =
    typeof statement === 'string' ? statement : ((statement as { text?: string } | null)?.text ?? '(prepared)');
  counts.set(text, (counts.get(text) ?? 0) + 1);
}

/** Wraps `query` on the first prototype in the chain that defines it. */
function wrapQuery(prototype: object) {
  let owner: object | null = prototype;
  while (owner && !Object.hasOwn(owner, 'query')) owner = Object.getPrototypeOf(owner);
  if (!owner) throw new Error('no query method to count');
  const target = owner as { query: (...args: unknown[]) => unknown };
  const original = target.query;
  target.query = function (this: unknown, ...args: unknown[]) {
    if (counting) count(args[0]);
    return original.apply(this, args);
  };
}

wrapQuery(pg.Client.prototype);
wrapQuery(PGlite.prototype);

new PerformanceObserver((list) => {
  if (!counting) return;
  for (const entry of list.getEntries()) {
    gcPausesMs.push(entry.duration);
    const kind = GC_KINDS[(entry as { detail?: { kind?: number } }).detail?.kind ?? 0] ?? 'other';
    const pauses = gcKinds[kind] ?? [];
    pauses.push(Math.round(entry.duration * 10) / 10);
    gcKinds[kind] = pauses;
  }
}).observe({ entryTypes: ['gc'] });

process.on('SIGUSR2', () => {
  if (!counting) {
    counts.clear();
    gcPausesMs.length = 0;
    for (const kind of Object.keys(gcKinds)) delete gcKinds[kind];
  }
  counting = !counting;
  if (file) writeFileSync(file, JSON.stringify({ statements: Object.fromEntries(counts), gcPausesMs, gcKinds }));
});
