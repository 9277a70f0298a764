import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dueItems } from '../../src/db/schema/index.ts';
import { scheduleDueMany } from '../../src/jobs/runner.ts';
import { realNow } from '../../src/kernel/clock.ts';
import { createTestInstance, type TestInstance } from '../helpers/instance.ts';

// The worker on the real clock: pg-boss passes hand due items out; every item is done once however
// many workers drain side by side, and stopping lets the item in hand finish.

const onServer = Boolean(process.env.DATABASE_URL);
let first: TestInstance;
const done = new Map<string, number>();
let slowStarted: (() => void) | undefined;

function probe(instance: TestInstance, name: string, counts: Map<string, number>) {
  instance.deps.runner.register('probe', async (_tx, item) => {
    done.set(item.subjectId, (done.get(item.subjectId) ?? 0) + 1);
    counts.set(name, (counts.get(name) ?? 0) + 1);
  });
  instance.deps.runner.register('slow', async (_tx, item) => {
    slowStarted?.();
    await new Promise((resolve) => setTimeout(resolve, 800));
    done.set(item.subjectId, (done.get(item.subjectId) ?? 0) + 1);
  });
}

async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs = 30_000) {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > timeoutMs) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const byWorker = new Map<string, number>();

beforeAll(async () => {
  first = await createTestInstance({ testClock: false, env: { TIERLINE_WORKER_INTERVAL_MS: '500' } });
  probe(first, 'first', byWorker);
  await first.startWorker();
});
afterAll(async () => {
  await first?.close();
});

async function pending(kind: string) {
  return first.deps.db
    .select({ id: dueItems.id })
    .from(dueItems)
    .where(and(eq(dueItems.kind, kind), eq(dueItems.status, 'pending')));
}

describe('the due-work worker on the real clock', () => {
  it('does work that was just committed at once, without waiting for the minute pass', async () => {
    const now = realNow();
    const started = Date.now();
    await first.deps.db.transaction(async (tx) => {
      await scheduleDueMany(tx, [{ kind: 'probe', subjectId: 'soon', dueAt: new Date(now.getTime() - 1000) }], now);
    });
    await waitFor(() => done.get('soon') === 1);
    // The NOTIFY of the commit woke the worker: far sooner than the cron pass of the next minute.
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(await pending('probe')).toEqual([]);
  });

  it('wakes nobody for a write that is rolled back', async () => {
    const now = realNow();
    await first.deps.db
      .transaction(async (tx) => {
        await scheduleDueMany(tx, [{ kind: 'probe', subjectId: 'rolled-back', dueAt: now }], now);
        throw new Error('refused');
      })
      .catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(done.has('rolled-back')).toBe(false);
  });

  it.runIf(onServer)('does each of 1,200 items once with two workers on one database', async () => {
    // A second Tierline on the same PostgreSQL database: another process in all but the address space.
    const url = new URL(String(first.deps.config.databaseUrl));
    const second = await createTestInstance({
      testClock: false,
      env: { DATABASE_URL: url.toString(), TIERLINE_WORKER_INTERVAL_MS: '500' },
    });
    try {
      probe(second, 'second', byWorker);
      await second.startWorker();
      byWorker.clear();
      const now = realNow();
      const items = Array.from({ length: 1200 }, (_, index) => ({
        kind: 'probe',
        subjectId: `bulk-${index}`,
        // 30 distinct instants in the past, 40 items each.
        dueAt: new Date(now.getTime() - 60_000 - (index % 30) * 1000),
      }));
      await first.deps.db.transaction(async (tx) => {
        await scheduleDueMany(tx, items, now);
      });
      await waitFor(async () => (await pending('probe')).length === 0, 60_000);
      for (const item of items) expect(done.get(item.subjectId)).toBe(1);
      expect((byWorker.get('first') ?? 0) + (byWorker.get('second') ?? 0)).toBe(1200);
    } finally {
      await second.close();
    }
  });

  it('finishes the item in hand when stopped, and takes no other', async () => {
    const worker = await createTestInstance({ testClock: false, env: { TIERLINE_WORKER_INTERVAL_MS: '500' } });
    probe(worker, 'stopping', new Map());
    await worker.startWorker();
    const now = realNow();
    const started = new Promise<void>((resolve) => {
      slowStarted = resolve;
    });
    await worker.deps.db.transaction(async (tx) => {
      await scheduleDueMany(
        tx,
        ['slow-1', 'slow-2', 'slow-3'].map((subjectId) => ({ kind: 'slow', subjectId, dueAt: now })),
        now,
      );
    });
    await started;
    // Stopping waits for the item in hand (its effect and its done mark commit together)…
    const stopWorker = (worker as unknown as { close(): Promise<void> }).close;
    const rows = async () =>
      worker.deps.db.select({ subject: dueItems.subjectId, status: dueItems.status }).from(dueItems);
    let statuses: Array<{ subject: string; status: string }> = [];
    const originalClose = worker.database.close;
    worker.database.close = async () => {
      statuses = await rows();
      await originalClose();
    };
    await stopWorker();
    // …and leaves the others pending for the next worker.
    const doneSlow = statuses.filter((row) => row.subject.startsWith('slow-') && row.status === 'done');
    expect(doneSlow.length).toBeGreaterThanOrEqual(1);
    expect(doneSlow.length).toBeLessThan(3);
    for (const row of doneSlow) expect(done.get(row.subject)).toBe(1);
    for (const row of statuses.filter((entry) => entry.subject.startsWith('slow-') && entry.status !== 'done')) {
      expect(row.status).toBe('pending');
      expect(done.has(row.subject)).toBe(false);
    }
  });
});
