/**
 * `npm run bench [-- --quick]`: every benchmark on the embedded database and, when DATABASE_URL is
 * set, on PostgreSQL. Prints a table and writes bench/results.json.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { benchBilling } from './billing.ts';
import { freshDatabase, machine, startServer } from './harness.ts';
import { benchIngest } from './ingest.ts';

const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false } } });
const quick = values.quick ?? false;

const kinds: Array<'embedded' | 'postgres'> = ['embedded'];
if (process.env.DATABASE_URL) kinds.push('postgres');

const results: Record<string, unknown> = {
  generated_at: new Date().toISOString(),
  mode: quick ? 'quick' : 'full',
  machine: machine(),
};

for (const kind of kinds) {
  const figures: Record<string, unknown> = {
    database: kind === 'embedded' ? 'embedded (PGlite)' : 'PostgreSQL server',
  };
  results[kind] = figures;
  const database = await freshDatabase(kind);
  const server = await startServer(database.env);
  try {
    console.log(`== ${kind}: usage ingestion`);
    Object.assign(
      figures,
      await benchIngest(server, { reports: quick ? 200 : kind === 'postgres' ? 4000 : 2000, concurrency: 16 }),
    );
  } finally {
    await server.stop();
    await database.drop();
  }
  const billingDatabase = await freshDatabase(kind);
  try {
    const n = quick ? 2000 : kind === 'postgres' ? 100_000 : 10_000;
    console.log(`== ${kind}: billing run of ${n} subscriptions`);
    Object.assign(figures, await benchBilling(billingDatabase.env, n));
  } finally {
    await billingDatabase.drop();
  }
}

const rows: string[][] = [['database', 'metric', 'value']];
for (const kind of kinds) {
  for (const [key, value] of Object.entries(results[kind] as Record<string, unknown>)) {
    if (key !== 'database') rows.push([kind, key, String(value)]);
  }
}
const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
for (const row of rows) console.log(row.map((cell, column) => cell.padEnd(widths[column])).join('  '));

const path = new URL('./results.json', import.meta.url);
writeFileSync(path, `${JSON.stringify(results, null, 2)}\n`);
console.log(`written to ${path.pathname}`);
