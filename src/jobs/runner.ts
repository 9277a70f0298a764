import { and, asc, eq, gt, inArray, isNull, lte, notInArray, or, sql } from 'drizzle-orm';
import { bulkInsert, inIds } from '../db/bulk.ts';
import type { Database, Executor, Transaction } from '../db/client.ts';
import { notifyWorkers } from '../db/notify.ts';
import { dueItems, testClock } from '../db/schema/index.ts';
import { newId } from '../kernel/ids.ts';

export type DueItem = typeof dueItems.$inferSelect;

/** Does one item's work in the given transaction, as of `now` (the item's due instant). */
export type DueHandler = (tx: Transaction, item: DueItem, now: Date) => Promise<void>;

/** Does the work of many items of one kind due at the same instant, in one transaction. */
export type DueBatchHandler = (tx: Transaction, items: DueItem[], now: Date) => Promise<void>;

/** Work due within this span of its scheduling wakes the workers at once instead of at the next pass. */
const NEAR_TERM_MS = 60_000;

/**
 * Schedules time-driven work in the caller's transaction. One row per (kind, subject, due instant):
 * scheduling an item that is pending again is a no-op, one that was cancelled is pending again, and
 * one that was done stays done unless `reviveDone` (for kinds whose handler is idempotent on its own,
 * when the subject changed since).
 */
export async function scheduleDueMany(
  executor: Executor,
  items: ReadonlyArray<{ kind: string; subjectId: string; dueAt: Date; payload?: unknown }>,
  now: Date,
  options: { reviveDone?: boolean } = {},
): Promise<void> {
  if (items.length === 0) return;
  const revivable = options.reviveDone ? sql`('cancelled', 'done')` : sql`('cancelled')`;
  await bulkInsert(
    executor,
    'due_items',
    [
      ['id', 'text'],
      ['kind', 'text'],
      ['subject_id', 'text'],
      ['due_at', 'timestamptz'],
      ['payload', 'jsonb'],
      ['status', 'text'],
      ['created_at', 'timestamptz'],
    ],
    items.map((item) => ({
      id: newId('due'),
      kind: item.kind,
      subject_id: item.subjectId,
      due_at: item.dueAt,
      payload: item.payload ?? null,
      status: 'pending',
      created_at: now,
    })),
    sql`on conflict (kind, subject_id, due_at) do update set status = 'pending', processed_at = null
      where due_items.status in ${revivable}`,
  );
  if (items.some((item) => item.dueAt.getTime() - now.getTime() <= NEAR_TERM_MS)) await notifyWorkers(executor);
}

/** Schedules one item (see scheduleDueMany). */
export async function scheduleDue(
  executor: Executor,
  item: { kind: string; subjectId: string; dueAt: Date; payload?: unknown; now: Date },
  options: { reviveDone?: boolean } = {},
): Promise<void> {
  await scheduleDueMany(executor, [item], item.now, options);
}

/** Cancels pending items of a kind for a subject (e.g. when the subject changed). */
export async function cancelDue(executor: Executor, kind: string, subjectId: string, now: Date) {
  await executor
    .update(dueItems)
    .set({ status: 'cancelled', processedAt: now })
    .where(and(eq(dueItems.kind, kind), eq(dueItems.subjectId, subjectId), eq(dueItems.status, 'pending')));
}

/**
 * Cancels the pending items of a kind for many subjects; with `after`, only those due after it (the
 * items of the pass in progress are left to be marked done by it).
 */
export async function cancelDueMany(
  executor: Executor,
  kind: string,
  subjectIds: readonly string[],
  now: Date,
  options: { after?: Date } = {},
) {
  if (subjectIds.length === 0) return;
  await executor
    .update(dueItems)
    .set({ status: 'cancelled', processedAt: now })
    .where(
      and(
        eq(dueItems.kind, kind),
        inIds(dueItems.subjectId, subjectIds),
        eq(dueItems.status, 'pending'),
        options.after ? gt(dueItems.dueAt, options.after) : undefined,
      ),
    );
}

// A failed item is tried again after these waits (about a day and a half in all), then left `failed`
// for an operator (`tierline catch-up --retry-failed`): a payment provider's outage does not use up
// an invoice's collection in a few seconds.
const RETRY_WAITS_MS = [60_000, 5 * 60_000, 30 * 60_000, 2 * 3_600_000, 6 * 3_600_000, 12 * 3_600_000, 12 * 3_600_000];
const MAX_ATTEMPTS = RETRY_WAITS_MS.length + 1;

/** Items whose last failed attempt's wait is over by `upTo` (or that never failed). */
const readyBy = (upTo: Date) => or(isNull(dueItems.notBefore), lte(dueItems.notBefore, upTo));

interface Pass {
  cursor: { dueAt: Date; id: string } | null;
}

/**
 * Processes due items in due-time order, each in its own transaction together with its done mark,
 * so a crash between two items loses and repeats nothing. Rows are claimed with SKIP LOCKED:
 * several processes never do the same item.
 */
export class DueWorkRunner {
  private readonly handlers = new Map<string, DueHandler>();
  private readonly batchHandlers = new Map<string, { handler: DueBatchHandler; size: number }>();
  private readonly db: Database;
  private readonly useTestClock: boolean;

  constructor(db: Database, options: { testClock: boolean }) {
    this.db = db;
    this.useTestClock = options.testClock;
  }

  /** Registers the handler for one kind of work. */
  register(kind: string, handler: DueHandler): void {
    this.handlers.set(kind, handler);
  }

  /**
   * Registers a handler that takes up to `size` items of the kind due at the same instant together.
   * A batch that fails is taken apart: its items are then done one at a time.
   */
  registerBatch(kind: string, handler: DueBatchHandler, size = 500): void {
    this.batchHandlers.set(kind, { handler, size });
    this.handlers.set(kind, (tx, item, now) => handler(tx, [item], now));
  }

  /**
   * Processes every item due at or before `upTo`, including items that processing creates. With
   * `concurrency` above 1, that many transactions claim items side by side (SKIP LOCKED keeps them
   * apart); items are then taken in due order but may finish out of it, so the test clock uses 1.
   */
  async runDue(
    upTo: Date,
    options: {
      concurrency?: number;
      /** Asked before each claim: true stops the pass there (a worker draining for shutdown). */
      shouldStop?: () => boolean;
      /** Told after each claim how many items this pass has done so far. */
      onProgress?: (processed: number) => void;
    } = {},
  ): Promise<{ processed: number; failed: number }> {
    const failedIds: string[] = [];
    const solo = new Set<string>();
    // Where claiming resumes: past the items this pass already took, so a long pass does not step
    // over every finished row again on each claim. When nothing is left past it, one claim from the
    // start makes sure nothing behind it (a batch taken apart, work scheduled earlier) was left.
    const pass: Pass = { cursor: null };
    let processed = 0;
    const loop = async () => {
      for (;;) {
        if (options.shouldStop?.()) return;
        let outcome = await this.processNext(upTo, failedIds, solo, pass);
        if (outcome === 'none' && pass.cursor) {
          pass.cursor = null;
          outcome = await this.processNext(upTo, failedIds, solo, pass);
        }
        if (outcome === 'none') return;
        processed += outcome.done;
        options.onProgress?.(processed);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 1) }, loop));
    return { processed, failed: failedIds.length };
  }

  /** How many items are pending and due at or before `upTo` (counted up to `cap`). */
  async countDue(upTo: Date, cap = 1_000_000): Promise<number> {
    const due = this.db
      .select({ one: sql`1` })
      .from(dueItems)
      .where(and(eq(dueItems.status, 'pending'), lte(dueItems.dueAt, upTo), readyBy(upTo)))
      .limit(cap)
      .as('due');
    const [row] = await this.db.select({ count: sql<number>`count(*)::int` }).from(due);
    return Number(row.count);
  }

  /** Puts the items that used up their attempts back in the queue, from the first attempt. */
  async retryFailed(): Promise<number> {
    const rows = await this.db
      .update(dueItems)
      .set({ status: 'pending', attempts: 0, notBefore: null })
      .where(eq(dueItems.status, 'failed'))
      .returning({ id: dueItems.id });
    return rows.length;
  }

  /** The earliest pending due instant, if any: what a scheduler waits for. */
  async nextDueAt(): Promise<Date | undefined> {
    const [row] = await this.db
      .select({ dueAt: dueItems.dueAt })
      .from(dueItems)
      .where(eq(dueItems.status, 'pending'))
      .orderBy(asc(dueItems.dueAt))
      .limit(1);
    return row?.dueAt;
  }

  private async processNext(
    upTo: Date,
    failedIds: string[],
    solo: Set<string>,
    pass: Pass,
  ): Promise<'none' | { done: number }> {
    let claimed: DueItem | undefined;
    let batch: DueItem[] = [];
    try {
      await this.db.transaction(async (tx) => {
        const [item] = await tx
          .select()
          .from(dueItems)
          .where(
            and(
              eq(dueItems.status, 'pending'),
              lte(dueItems.dueAt, upTo),
              readyBy(upTo),
              failedIds.length ? notInArray(dueItems.id, failedIds) : undefined,
              pass.cursor
                ? sql`(${dueItems.dueAt}, ${dueItems.id}) > (${pass.cursor.dueAt.toISOString()}::timestamptz, ${pass.cursor.id})`
                : undefined,
            ),
          )
          .orderBy(asc(dueItems.dueAt), asc(dueItems.id))
          .limit(1)
          .for('update', { skipLocked: true });
        if (!item) return;
        claimed = item;
        batch = [item];
        const batchHandler = this.batchHandlers.get(item.kind);
        if (batchHandler && !solo.has(item.id) && batchHandler.size > 1) {
          const excluded = [...failedIds, ...solo];
          const more = await tx
            .select()
            .from(dueItems)
            .where(
              and(
                eq(dueItems.status, 'pending'),
                eq(dueItems.kind, item.kind),
                eq(dueItems.dueAt, item.dueAt),
                readyBy(upTo),
                gt(dueItems.id, item.id),
                excluded.length ? notInArray(dueItems.id, excluded) : undefined,
              ),
            )
            .orderBy(asc(dueItems.id))
            .limit(batchHandler.size - 1)
            .for('update', { skipLocked: true });
          batch.push(...more);
        }
        const last = batch[batch.length - 1];
        if (
          !pass.cursor ||
          last.dueAt > pass.cursor.dueAt ||
          (+last.dueAt === +pass.cursor.dueAt && last.id > pass.cursor.id)
        ) {
          pass.cursor = { dueAt: last.dueAt, id: last.id };
        }
        const handler = this.handlers.get(item.kind);
        if (!handler) throw new Error(`no handler for due work of kind ${item.kind}`);
        if (this.useTestClock) {
          await tx
            .update(testClock)
            .set({ now: sql`greatest(${testClock.now}, ${item.dueAt.toISOString()}::timestamptz)` });
        }
        if (batchHandler) await batchHandler.handler(tx, batch, item.dueAt);
        else await handler(tx, item, item.dueAt);
        await tx
          .update(dueItems)
          .set({ status: 'done', processedAt: item.dueAt, attempts: sql`${dueItems.attempts} + 1` })
          .where(
            inArray(
              dueItems.id,
              batch.map((entry) => entry.id),
            ),
          );
      });
    } catch (error) {
      if (!claimed) throw error;
      if (batch.length > 1) {
        for (const entry of batch) solo.add(entry.id);
        return { done: 0 };
      }
      const item = claimed as DueItem;
      failedIds.push(item.id);
      const attempts = item.attempts + 1;
      await this.db
        .update(dueItems)
        .set({
          attempts,
          lastError: error instanceof Error ? error.message.slice(0, 1000) : String(error),
          status: attempts >= MAX_ATTEMPTS ? 'failed' : 'pending',
          notBefore: new Date(upTo.getTime() + RETRY_WAITS_MS[Math.min(attempts, RETRY_WAITS_MS.length) - 1]),
        })
        .where(eq(dueItems.id, item.id));
      return { done: 0 };
    }
    return claimed ? { done: batch.length } : 'none';
  }
}
