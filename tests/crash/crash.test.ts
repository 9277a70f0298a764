/**
 * The crash suite (issue 8). A real server process runs usage ingestion, billing runs and the
 * inactivity sweep on the test clock while it is killed with SIGKILL at random moments, one or two
 * kills a round, and restarted on the same database. Runtimes resend unanswered reports with the same
 * report_id (as the reference runtime does) and an interrupted advance is repeated to its target.
 * At the end, read through the API and with SQL: every acknowledged usage record counted exactly once,
 * no invoice or charge made twice, every due item done exactly once with single effects, and no org
 * half-deactivated (checks.ts lists every check).
 *
 *   npm run test:crash                                   5 rounds, small world (CI)
 *   CRASH_ROUNDS=24 npm run test:crash                   full size: 24 rounds, full world
 *   CRASH_SEED=123 CRASH_ROUNDS=24 npm run test:crash    replay a run (the seed is printed at start and on failure)
 *   CRASH_SIZE=small|full                                the world's size (default: full from 20 rounds on)
 *   CRASH_KEEP=1                                         keep the database (or data dir) to look into
 *
 * Each run writes its figures (requests, reports, kills and where they landed, invoices, charges, due
 * items, deactivations, problems) to test-output/crash-<seed>.json and prints them. found-races.test.ts
 * holds the races this suite found, forced into their interleaving so that they fail every time.
 *
 * With DATABASE_URL it runs on a fresh database on that PostgreSQL server; without, on the embedded
 * database in a temporary data dir (PGlite), which must survive SIGKILL just the same.
 * The seed fixes every choice (world, timestamps, requests, round lengths, kill modes and delays);
 * where exactly a kill lands also depends on timing, which is why each kill's landing is printed.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanUpProcesses } from '../helpers/server-process.ts';
import { Checks, type Figures } from './checks.ts';
import { Random } from './random.ts';
import { Rounds, roundSteps } from './rounds.ts';
import { CrashServer } from './server.ts';
import { SIZES, seedWorld } from './world.ts';

const ROUNDS = Number(process.env.CRASH_ROUNDS ?? 5);
const SIZE = (process.env.CRASH_SIZE ?? (ROUNDS >= 20 ? 'full' : 'small')) as keyof typeof SIZES;
const SEED = process.env.CRASH_SEED ? Number(process.env.CRASH_SEED) : Math.floor(Math.random() * 2 ** 31);
/** Anchors at month ends and a leap year, so billing dates clamp (Jan 31 → Feb 28 → Mar 31 …). */
const STARTS = [
  '2027-01-31T09:30:00.000Z',
  '2028-01-30T23:59:59.999Z',
  '2027-03-15T00:00:00.000Z',
  '2027-10-31T12:00:00.000Z',
];

if (!Number.isInteger(ROUNDS) || ROUNDS < 1)
  throw new Error(`CRASH_ROUNDS must be a positive integer, got ${process.env.CRASH_ROUNDS}`);
if (!SIZES[SIZE]) throw new Error(`CRASH_SIZE must be small or full, got ${SIZE}`);
if (!Number.isInteger(SEED)) throw new Error(`CRASH_SEED must be an integer, got ${process.env.CRASH_SEED}`);

const replay = `CRASH_SEED=${SEED} CRASH_ROUNDS=${ROUNDS} CRASH_SIZE=${SIZE}`;

/** CRASH_KEEP=1 keeps the database (PostgreSQL) or data dir (embedded) to look into after a failure. */
const KEEP = process.env.CRASH_KEEP === '1';

afterAll(async () => {
  if (!KEEP) await cleanUpProcesses();
});

function tally(labels: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const label of labels) counts[label] = (counts[label] ?? 0) + 1;
  return counts;
}

describe('crash suite', () => {
  it(
    `loses and doubles nothing when the server is killed with SIGKILL (${ROUNDS} rounds, ${SIZE})`,
    async () => {
      const random = new Random(SEED);
      const start = Date.parse(random.pick(STARTS));
      const sizes = SIZES[SIZE];
      const began = performance.now();
      const server = await CrashServer.create(new Date(start).toISOString());
      console.log(
        `crash suite: seed ${SEED} (replay: ${replay}), ${server.kind} database, clock from ${new Date(start).toISOString()}`,
      );
      if (KEEP) console.log(`crash suite: keeping ${server.databaseUrl ?? server.dataDir}`);
      let figures: Figures | undefined;
      let checks: Checks | undefined;
      let rounds: Rounds | undefined;
      try {
        const world = await seedWorld(server, random.fork('world'), sizes, start, ROUNDS);
        world.seed = SEED;
        const seededMs = performance.now() - began;
        rounds = new Rounds(server, world, random.fork('rounds'), sizes);
        const steps = roundSteps(ROUNDS, random.fork('steps'));
        for (let round = 0; round < ROUNDS; round++) {
          await rounds.run(round, steps[round]);
          const log = rounds.logs[round];
          const kills = server.kills.filter((kill) => kill.round === round).map((kill) => kill.landed);
          console.log(
            `round ${round + 1}/${ROUNDS}: ${log.from.slice(0, 16)} → ${log.to.slice(0, 16)}, ${log.reports} reports, ` +
              `${log.processed} due items, killed ${kills.length}× (${kills.join('; ')}), ${log.ms} ms`,
          );
        }
        checks = new Checks(server, world, rounds.clock);
        await checks.throughApi();
        await server.stop();
        figures = await checks.throughSql(server.sql);
        await server.close();

        const summary = {
          seed: SEED,
          replay,
          database: server.kind,
          rounds: ROUNDS,
          size: SIZE,
          orgs: world.orgs.length,
          clock: { from: new Date(world.seededAt).toISOString(), to: new Date(rounds.clock).toISOString() },
          httpRequests: server.requests,
          usageReports: {
            sent: figures.reportsSent,
            sends: rounds.reportSends,
            resent: rounds.resends,
            acknowledged: figures.reportsAcked,
            refused: figures.reportsRefused,
            interrupted: figures.reportsInterrupted,
            unacknowledgedButStored: figures.unacknowledgedButStored,
            resentFoundStored: rounds.duplicatesFound,
            tryAgain: rounds.tryAgain,
          },
          recordsAcknowledged: figures.recordsAcked,
          requestsCounted: figures.requestsCounted.toString(),
          advances: rounds.advanceCalls,
          dueItemsProcessed: rounds.processed,
          kills: server.kills.length,
          killsLanded: tally(server.kills.map((kill) => kill.landed)),
          // A kill counts for every phase it hit: ingestion, billing (calculation, collection), sweep, …
          killsByPhase: tally(
            server.kills.flatMap((kill) => kill.landed.split(' + ').map((part) => part.split(':')[0])),
          ),
          meanRestartMs: Math.round(server.kills.reduce((sum, kill) => sum + kill.restartMs, 0) / server.kills.length),
          invoices: figures.invoices,
          charges: figures.charges,
          dueItems: figures.dueItems,
          deactivated: figures.deactivated,
          problems: [...rounds.problems.map((p) => `round ${p.round + 1}: ${p.what}`), ...checks.problems],
          serverErrors: server.errorLogs,
          seconds: Math.round((performance.now() - began) / 100) / 10,
          seedingSeconds: Math.round(seededMs / 100) / 10,
          killLog: server.kills,
        };
        const out = fileURLToPath(new URL(`../../test-output/crash-${SEED}.json`, import.meta.url));
        await mkdir(fileURLToPath(new URL('../../test-output/', import.meta.url)), { recursive: true });
        await writeFile(out, `${JSON.stringify(summary, null, 2)}\n`);
        const { killLog: _, serverErrors: __, ...shown } = summary;
        console.log(`crash suite summary (${out}):\n${JSON.stringify(shown, null, 2)}`);

        expect(rounds.problems, `seen during the rounds (${replay})`).toEqual([]);
        expect(checks.problems, `found at the end (${replay})`).toEqual([]);
        expect(server.kills.length, `kills (${replay})`).toBeGreaterThanOrEqual(ROUNDS);
      } catch (error) {
        console.error(`crash suite failed: replay with ${replay}`);
        throw error;
      } finally {
        await server.close();
      }
    },
    120_000 + ROUNDS * 90_000,
  );
});
