/**
 * Fuzzing every operation of /openapi.json (issue 8). Requests are generated from the served
 * document: wrong types, missing and extra fields, out-of-range values, huge and deeply nested
 * bodies, invalid JSON and UTF-8, odd content types and headers, unknown ids, wrong credentials and
 * cross-site cookies, on top of a valid baseline with real ids and working credentials (world.ts).
 *
 * Properties, checked on every request:
 * - never a 5xx, and every 4xx has the error shape {error: {code, message}} (spec 11);
 * - a malformed request is refused, and no table changes (database.ts names the rows a refusal may
 *   write); reads, valid or not, change nothing either;
 * - the app answers /healthz and /readyz after every 25 requests, and nothing escapes uncaught.
 * A second property sends valid requests with unusual text values to the operations that only add
 * things: they may be accepted, never with a 5xx.
 *
 * FUZZ_RUNS is the number of malformed requests, spread evenly over the operations; the second
 * property adds half as many per operation for its 15 operations (FUZZ_RUNS=10000: 11,172 requests).
 *
 *   npx vitest run tests/fuzz                     default size, FUZZ_RUNS=1000
 *   FUZZ_RUNS=10000 npx vitest run tests/fuzz     the full size
 *   FUZZ_SEED=123 FUZZ_PATH=45 npx vitest run tests/fuzz -t 'POST /v1/signup$'
 *                                                 replay a counterexample (seed and path as printed)
 *   FUZZ_SURVEY=1 …                               go on past failures; list every kind, with its cause and replay
 *   FUZZ_STATS=1 …                                statuses by operation in the summary
 *   FUZZ_SHRINK=0 …                               report the first counterexample without shrinking it
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestInstance } from '../helpers/instance.ts';
import {
  differences,
  ROWS_ALLOWED_TO_CHANGE,
  type Snapshot,
  snapshotQuery,
  TABLES_ALLOWED_TO_CHANGE,
} from './database.ts';
import { type FuzzRequest, summarize } from './draft.ts';
import { operationsOf, routeMatcher } from './openapi.ts';
import { ADDITIVE_OPERATIONS, malformedRequests, unusualValidRequests } from './requests.ts';
import { seedWorld, type World } from './world.ts';

const TOTAL_RUNS = Number(process.env.FUZZ_RUNS ?? 1000);
const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const PATH = process.env.FUZZ_PATH;
const SURVEY = process.env.FUZZ_SURVEY === '1';
const HEALTH_EVERY = 25;

const t = await createTestInstance();
const document = (await t.call('GET', '/openapi.json')).body;
const operations = operationsOf(document);
const matches = routeMatcher(operations);
const runsPerOperation = Math.max(5, Math.ceil(TOTAL_RUNS / operations.length));
const unusualRuns = Math.max(5, Math.ceil(runsPerOperation / 2));

let world: World;
let snapshots: Awaited<ReturnType<typeof snapshotQuery>>;
let initial: Snapshot;
let last: Snapshot;

const escaped: unknown[] = [];
const onEscape = (error: unknown) => escaped.push(error);

const stats = {
  requests: 0,
  byOperation: new Map<string, number>(),
  byStatus: new Map<number, number>(),
  byOperationStatus: new Map<string, Map<number, number>>(),
  serverErrors: 0,
  malformed: 0,
  healthChecks: 0,
  started: Date.now(),
};
/** The causes of 5xx answers, as the app logged them, with the operations they came from. */
const causes = new Map<string, { count: number; operations: Set<string> }>();
/** Failures seen in survey mode, by operation and kind, with how to replay the first of each. */
const survey = new Map<string, { count: number; example: string; replay: string }>();

/**
 * What the app logged as a fault while answering the last request. With logging off, the app and
 * every request share one no-op logger: replacing its error method lets the suite name the cause.
 */
let logged: unknown[] = [];
(t.app.log as unknown as { error: (...args: unknown[]) => void }).error = (entry: unknown) => logged.push(entry);

/** The cause of a logged fault in one line: error, database message, table, and the first frame in src/. */
function causeOf(entry: unknown): string {
  const error = (entry as { err?: any } | undefined)?.err;
  if (!error) return 'nothing logged';
  const root = error.cause ?? error;
  const message = String(root.message ?? error.message).split('\n')[0];
  const table = /(?:from|into|update) "(\w+)"/.exec(String(error.message))?.[1];
  // The first frame in src/ that names a function, else the first in src/ at all.
  const frames = String(error.stack ?? '')
    .split('\n')
    .filter((line) => line.includes('/src/'));
  const frame = (frames.find((line) => /at [\w.<>]+ \(/.test(line)) ?? frames[0])
    ?.trim()
    .replace(/^at /, '')
    .replace(/\/[^ ]*\/(src\/[^:)]+):\d+:\d+/, '$1');
  return `${root.name ?? error.name}: ${message}${table ? ` (table ${table})` : ''}${frame ? ` at ${frame}` : ''}`;
}

async function send(request: FuzzRequest) {
  logged = [];
  const response = await t.app.inject({
    method: request.method as 'GET',
    url: request.url,
    headers: request.headers,
    ...(request.payload !== undefined ? { payload: request.payload } : {}),
    ...(request.remoteAddress ? { remoteAddress: request.remoteAddress } : {}),
  });
  stats.requests++;
  stats.byOperation.set(request.operation, (stats.byOperation.get(request.operation) ?? 0) + 1);
  stats.byStatus.set(response.statusCode, (stats.byStatus.get(response.statusCode) ?? 0) + 1);
  const statuses = stats.byOperationStatus.get(request.operation) ?? new Map<number, number>();
  statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
  stats.byOperationStatus.set(request.operation, statuses);
  if (response.statusCode >= 500) stats.serverErrors++;
  return response;
}

/** What is wrong with the answer to one request; empty when all is well. */
function problemsWith(
  request: FuzzRequest,
  response: { statusCode: number; headers: Record<string, unknown>; body: string },
  mustBeRefused: boolean,
): string[] {
  const problems: string[] = [];
  const status = response.statusCode;
  if (status >= 500) problems.push(`answered ${status}: never a 5xx for bad input (spec 11)`);
  if (mustBeRefused && status < 400) problems.push(`answered ${status} to a malformed request: it must be refused`);
  if (status >= 400 && status < 500 && request.method !== 'HEAD') {
    const type = String(response.headers['content-type'] ?? '');
    let body: any;
    try {
      body = JSON.parse(response.body);
    } catch {
      body = undefined;
    }
    const error = body?.error;
    if (
      !type.includes('application/json') ||
      typeof error?.code !== 'string' ||
      !/^[a-z][a-z0-9_]*$/.test(error.code) ||
      typeof error.message !== 'string' ||
      error.message.length === 0
    ) {
      problems.push(`answered ${status} without the error shape {error:{code,message}} (spec 11)`);
    }
  }
  return problems;
}

async function checkHealth(where: string) {
  stats.healthChecks++;
  const health = await t.app.inject({ method: 'GET', url: '/healthz' });
  if (health.statusCode !== 200) throw new Error(`GET /healthz answered ${health.statusCode} ${where}`);
  const ready = await t.app.inject({ method: 'GET', url: '/readyz' });
  if (ready.statusCode !== 200) throw new Error(`GET /readyz answered ${ready.statusCode} ${where}`);
}

/**
 * Sends the request and checks the properties. In survey mode a failure is recorded and the run
 * goes on; otherwise it throws, and fast-check shrinks it and prints the seed and path to replay.
 */
async function exercise(
  request: FuzzRequest,
  options: { property: string; operation: string; testName: string; run: number; checkDatabase: boolean },
): Promise<void> {
  const mustBeRefused = request.defects.length > 0;
  if (mustBeRefused) stats.malformed++;
  const response = await send(request);
  const problems = problemsWith(request, response, mustBeRefused);
  if (options.checkDatabase) {
    const now = await snapshots.take();
    const changed = differences(last, now);
    last = now;
    if (changed.length > 0) problems.push(`changed the database: ${changed.join(', ')}`);
  }
  if (options.run % HEALTH_EVERY === 0) await checkHealth(`after run ${options.run} of ${options.operation}`);
  if (problems.length === 0) return;
  const cause = response.statusCode >= 500 ? causeOf(logged[0]) : undefined;
  if (cause) {
    const entry = causes.get(cause) ?? { count: 0, operations: new Set<string>() };
    entry.count++;
    entry.operations.add(options.operation);
    causes.set(cause, entry);
  }
  const report = [
    ...problems,
    `request:\n${summarize(request)}`,
    `response: ${response.statusCode} ${response.body.slice(0, 500)}`,
    ...(cause ? [`server logged: ${cause}`] : []),
  ].join('\n');
  if (!SURVEY) throw new Error(report);
  for (const problem of problems) {
    const kind = `${options.property}: ${options.operation} — ${problem.replace(/: .*/, '')}${cause && problem.includes('5xx') ? ` — ${cause}` : ''}`;
    const entry = survey.get(kind);
    if (entry) entry.count++;
    else {
      survey.set(kind, {
        count: 1,
        example: report,
        replay: `FUZZ_SEED=${SEED} FUZZ_RUNS=${TOTAL_RUNS} FUZZ_PATH=${options.run} npx vitest run tests/fuzz -t '${testPattern(options.testName)}'`,
      });
    }
  }
}

/** A -t pattern that selects exactly one test: vitest reads it as a regular expression. */
function testPattern(name: string) {
  return `${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`;
}

function assertOptions() {
  return {
    seed: SEED,
    numRuns: runsPerOperation,
    ...(PATH ? { path: PATH } : {}),
    endOnFailure: process.env.FUZZ_SHRINK === '0',
  };
}

beforeAll(async () => {
  process.on('uncaughtException', onEscape);
  process.on('unhandledRejection', onEscape);
  world = await seedWorld(t);
  snapshots = await snapshotQuery(t);
  initial = await snapshots.take();
  last = initial;
  console.log(
    `fuzz: seed ${SEED} (FUZZ_SEED), ${operations.length} operations × ${runsPerOperation} runs` +
      ` (FUZZ_RUNS=${TOTAL_RUNS}), ${snapshots.tables.length} tables watched; allowed to change: ${TABLES_ALLOWED_TO_CHANGE.join(', ')}, ` +
      Object.entries(ROWS_ALLOWED_TO_CHANGE)
        .map(([table, rows]) => `${table} where ${rows}`)
        .join(', '),
  );
}, 120_000);

afterAll(async () => {
  process.off('uncaughtException', onEscape);
  process.off('unhandledRejection', onEscape);
  const seconds = ((Date.now() - stats.started) / 1000).toFixed(1);
  const statusList = (counts: Map<number, number>) =>
    [...counts.entries()]
      .sort(([a], [b]) => a - b)
      .map(([status, count]) => `${status}×${count}`)
      .join(' ');
  const statuses = statusList(stats.byStatus);
  const perOperation = [...stats.byOperationStatus.entries()].map(
    ([operation, counts]) => `  ${operation}: ${statusList(counts)}`,
  );
  console.log(
    [
      `fuzz summary (seed ${SEED}): ${stats.requests} requests (${stats.malformed} malformed) to ` +
        `${stats.byOperation.size} of ${operations.length} operations in ${seconds} s; ` +
        `${stats.serverErrors} answered 5xx; ${stats.healthChecks} health checks`,
      `statuses: ${statuses}`,
      ...(process.env.FUZZ_STATS === '1' || SURVEY ? ['by operation:', ...perOperation] : []),
      ...(causes.size > 0
        ? [
            'causes of the 5xx answers:',
            ...[...causes.entries()].map(
              ([cause, entry]) => `  ×${entry.count} ${cause}\n      in ${[...entry.operations].join(', ')}`,
            ),
          ]
        : []),
      ...(survey.size > 0
        ? [
            `${survey.size} kinds of failure:`,
            ...[...survey.entries()].map(
              ([kind, entry]) => `\n## ${kind} (×${entry.count})\nreplay: ${entry.replay}\n${entry.example}`,
            ),
          ]
        : []),
    ].join('\n'),
  );
  await t.close();
});

describe('malformed requests to every operation of /openapi.json', () => {
  it('covers every operation of the document', () => {
    expect(operations.length).toBeGreaterThan(50);
    for (const operation of operations) expect(operation.audience, operation.key).toBeDefined();
  });

  for (const operation of operations) {
    it(operation.key, async () => {
      let run = 0;
      await fc.assert(
        fc.asyncProperty(malformedRequests(operation, world, matches), async (request) => {
          await exercise(request, {
            property: 'malformed',
            operation: operation.key,
            testName: operation.key,
            run: run++,
            checkDatabase: true,
          });
        }),
        assertOptions(),
      );
      await checkHealth(`after fuzzing ${operation.key}`);
    }, 600_000);
  }

  it('left every table but the allowed ones as it was, and the process up', async () => {
    await checkHealth('at the end');
    const changed = differences(initial, await snapshots.take());
    expect(changed, `tables changed by refused requests (seed ${SEED})`).toEqual([]);
    expect(escaped, 'uncaught errors or unhandled rejections while fuzzing').toEqual([]);
    expect([...stats.byOperation.keys()].sort()).toEqual(operations.map((operation) => operation.key).sort());
  });
});

describe('valid requests with unusual text values', () => {
  for (const key of ADDITIVE_OPERATIONS) {
    it(`${key} (unusual values)`, async () => {
      const operation = operations.find((candidate) => candidate.key === key);
      expect(operation, `${key} is in /openapi.json`).toBeDefined();
      let run = 0;
      await fc.assert(
        fc.asyncProperty(unusualValidRequests(operation!, world), async (request) => {
          await exercise(request, {
            property: 'unusual',
            operation: key,
            testName: `${key} (unusual values)`,
            run: run++,
            checkDatabase: false,
          });
        }),
        { ...assertOptions(), numRuns: unusualRuns },
      );
      await checkHealth(`after ${key} with unusual values`);
    }, 600_000);
  }
});
