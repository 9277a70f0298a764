import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dueItems, testClock } from '../../src/db/schema/index.ts';
import { scheduleDue } from '../../src/jobs/runner.ts';
import { createTestInstance, type TestInstance } from '../helpers/instance.ts';

let t: TestInstance;
const seen: Array<{ subject: string; now: string; clock: string }> = [];
let failuresLeft = 0;

beforeAll(async () => {
  t = await createTestInstance({ start: '2027-03-01T00:00:00.000Z' });
  // Kinds of work exercised only here: each records when it ran and what the clock said then.
  t.deps.runner.register('probe', async (tx, item, now) => {
    // The clock as any other request would read it, inside the item's transaction.
    const [clock] = await tx.select().from(testClock);
    seen.push({ subject: item.subjectId, now: now.toISOString(), clock: clock.now.toISOString() });
    const follow = (item.payload as { follow?: string } | null)?.follow;
    if (follow) {
      await scheduleDue(tx, { kind: 'probe', subjectId: `${item.subjectId}-child`, dueAt: new Date(follow), now });
    }
  });
  t.deps.runner.register('flaky', async () => {
    if (failuresLeft > 0) {
      failuresLeft--;
      throw new Error('temporary failure');
    }
    seen.push({ subject: 'flaky', now: '', clock: '' });
  });
});
afterAll(async () => {
  await t.close();
});

async function schedule(kind: string, subjectId: string, dueAt: string, payload?: unknown) {
  await scheduleDue(t.deps.db, {
    kind,
    subjectId,
    dueAt: new Date(dueAt),
    payload,
    now: new Date('2027-03-01T00:00:00.000Z'),
  });
}

describe('due work on the test clock', () => {
  it('runs due items in due-time order, each with the clock at its own due instant', async () => {
    seen.length = 0;
    await schedule('probe', 'c', '2027-03-03T00:00:00.000Z');
    await schedule('probe', 'a', '2027-03-01T12:00:00.000Z');
    await schedule('probe', 'b', '2027-03-02T00:00:00.000Z', { follow: '2027-03-02T06:00:00.000Z' });
    await schedule('probe', 'later', '2027-03-10T00:00:00.000Z');
    const advance = await t.call('POST', '/v1/test-clock/advance', { body: { to: '2027-03-05T00:00:00.000Z' } });
    expect(advance.status).toBe(200);
    expect(advance.body.now).toBe('2027-03-05T00:00:00.000Z');
    expect(seen.map((entry) => entry.subject)).toEqual(['a', 'b', 'b-child', 'c']);
    for (const entry of seen) expect(entry.clock).toBe(entry.now);
    expect(seen.map((entry) => entry.now)).toEqual([
      '2027-03-01T12:00:00.000Z',
      '2027-03-02T00:00:00.000Z',
      '2027-03-02T06:00:00.000Z',
      '2027-03-03T00:00:00.000Z',
    ]);
    const clock = await t.call('GET', '/v1/test-clock');
    expect(clock.body.now).toBe('2027-03-05T00:00:00.000Z');
    expect(clock.body.next_due_at).toBe('2027-03-10T00:00:00.000Z');
  });

  it('never runs an item twice, even when asked again for the same instant', async () => {
    seen.length = 0;
    await schedule('probe', 'a', '2027-03-01T12:00:00.000Z');
    const again = await t.deps.runner.runDue(new Date('2027-03-05T00:00:00.000Z'));
    expect(again.processed).toBe(0);
    expect(seen).toEqual([]);
  });

  it('keeps a failing item pending for a later pass without blocking the others', async () => {
    seen.length = 0;
    failuresLeft = 1;
    await schedule('flaky', 'f', '2027-03-06T00:00:00.000Z');
    await schedule('probe', 'after-flaky', '2027-03-06T01:00:00.000Z');
    const first = await t.call('POST', '/v1/test-clock/advance', { body: { to: '2027-03-07T00:00:00.000Z' } });
    expect(first.body).toMatchObject({ processed: 1, failed: 1 });
    expect(seen.map((entry) => entry.subject)).toEqual(['after-flaky']);
    const [row] = await t.deps.db.select().from(dueItems).where(eq(dueItems.kind, 'flaky'));
    // Tried again after a wait (a minute after the failed pass), not on every pass meanwhile.
    expect(row).toMatchObject({
      status: 'pending',
      attempts: 1,
      lastError: 'temporary failure',
      notBefore: new Date('2027-03-07T00:01:00.000Z'),
    });
    await t.call('POST', '/v1/test-clock/advance', { body: { to: '2027-03-07T00:00:59.000Z' } });
    expect(seen.map((entry) => entry.subject)).toEqual(['after-flaky']);
    await t.call('POST', '/v1/test-clock/advance', { body: { to: '2027-03-07T00:01:00.000Z' } });
    expect(seen.map((entry) => entry.subject)).toEqual(['after-flaky', 'flaky']);
  });

  it('processes each item once when several runners race', async () => {
    seen.length = 0;
    for (let i = 0; i < 30; i++) {
      await schedule('probe', `race-${i}`, new Date(Date.parse('2027-03-08T00:00:00.000Z') + i * 1000).toISOString());
    }
    const upTo = new Date('2027-03-08T01:00:00.000Z');
    const results = await Promise.all([
      t.deps.runner.runDue(upTo),
      t.deps.runner.runDue(upTo),
      t.deps.runner.runDue(upTo),
    ]);
    expect(results.reduce((sum, r) => sum + r.processed, 0)).toBe(30);
    const subjects = seen.map((entry) => entry.subject);
    expect(new Set(subjects).size).toBe(30);
    expect(subjects).toHaveLength(30);
  });
});
