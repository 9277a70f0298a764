import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pruneWebhookEvents } from '../../src/modules/webhooks/index.ts';
import { billingHelpers, DAY, expectStatus } from '../helpers/billing.ts';
import { createTestInstance, type Owner, signUpOwner, type TestInstance } from '../helpers/instance.ts';

/**
 * Retention of webhook events on the test clock (30 days by default): an event whose deliveries all
 * succeeded or failed goes with them and their attempts once it is older than the period; a recent
 * event, or one with a delivery still pending, stays with its whole delivery log.
 */

const START = '2027-01-01T00:00:00.000Z';
const T0 = Date.parse(START);
const MINUTE = 60_000;

let t: TestInstance;
let h: ReturnType<typeof billingHelpers>;
let server: Server;
let base: string;
/** What each receiver path answers. */
const statusOf: Record<string, number> = { '/ok': 200, '/down': 500, '/paused': 500 };
const endpoints: Record<string, string> = {};

beforeAll(async () => {
  t = await createTestInstance({ start: START });
  h = billingHelpers(t);
  server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      response.writeHead(statusOf[request.url ?? ''] ?? 404, { 'content-type': 'text/plain' });
      response.end('answer');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  await t?.close();
});

async function createEndpoint(path: string, events: string[]) {
  const response = await t.call('POST', '/v1/admin/webhook-endpoints', {
    cookie: await h.staff(),
    body: { url: `${base}${path}`, events },
  });
  expectStatus(response, 201);
  endpoints[path] = response.body.id;
}

/** Moves the test clock: due work, then the pass tasks (delivery, retention) as of `at`. */
async function advanceTo(at: number) {
  await h.advance(new Date(at).toISOString());
}

/** The endpoint's deliveries, as staff read them, by the org of their event and its type. */
async function deliveriesOf(path: string) {
  const response = await t.call('GET', `/v1/admin/webhook-endpoints/${endpoints[path]}/deliveries?limit=100`, {
    cookie: await h.staff(),
  });
  expectStatus(response, 200);
  return response.body.data as any[];
}

async function attemptsOf(deliveryId: string) {
  const response = await t.call('GET', `/v1/admin/webhook-deliveries/${deliveryId}`, { cookie: await h.staff() });
  expectStatus(response, 200);
  return response.body.attempts as any[];
}

async function countRows(table: 'webhook_events' | 'webhook_deliveries' | 'webhook_attempts', eventIds: string[]) {
  const column = table === 'webhook_events' ? sql`id` : table === 'webhook_deliveries' ? sql`event_id` : undefined;
  const result = column
    ? await t.deps.db.execute(
        sql`select count(*)::int as count from ${sql.identifier(table)} where ${column} in (select jsonb_array_elements_text(${JSON.stringify(eventIds)}::jsonb))`,
      )
    : await t.deps.db.execute(
        sql`select count(*)::int as count from webhook_attempts attempt join webhook_deliveries delivery on delivery.id = attempt.delivery_id where delivery.event_id in (select jsonb_array_elements_text(${JSON.stringify(eventIds)}::jsonb))`,
      );
  return Number((result as unknown as { rows: Array<{ count: number }> }).rows[0].count);
}

describe('webhook retention', () => {
  let early: Owner;
  let late: Owner;
  const ids: Record<string, string> = {};

  it('keeps settled events until they are 30 days old, and an event with a pending delivery whatever its age', async () => {
    await createEndpoint('/ok', ['org.created']);
    await createEndpoint('/down', ['org.created']);
    await createEndpoint('/paused', ['org.deactivated']);
    early = await signUpOwner(t);
    const paused = await signUpOwner(t);
    expectStatus(
      await t.call('POST', `/v1/admin/orgs/${paused.orgId}/deactivate`, {
        cookie: await h.staff(),
        body: { reason: 'support_request' },
      }),
      200,
    );
    await advanceTo(T0 + MINUTE);
    // The paused receiver failed once; disabled, its delivery waits, pending, however long.
    expectStatus(
      await t.call('PATCH', `/v1/admin/webhook-endpoints/${endpoints['/paused']}`, {
        cookie: await h.staff(),
        body: { enabled: false },
      }),
      200,
    );
    // Four days on, the down receiver's deliveries have failed for good: those events are settled.
    await advanceTo(T0 + 4 * DAY);
    const [pausedDelivery] = await deliveriesOf('/paused');
    expect(pausedDelivery).toMatchObject({ org_id: paused.orgId, status: 'pending', attempt_count: 1 });
    const downEarly = (await deliveriesOf('/down')).find((delivery) => delivery.org_id === early.orgId);
    expect(downEarly).toMatchObject({ status: 'failed' });
    ids.early = downEarly.event_id;
    ids.paused = pausedDelivery.event_id;
    ids.pausedCreated = (await deliveriesOf('/ok')).find((delivery) => delivery.org_id === paused.orgId).event_id;

    await advanceTo(T0 + 20 * DAY);
    late = await signUpOwner(t);
    await advanceTo(T0 + 20 * DAY + MINUTE);
    ids.late = (await deliveriesOf('/ok')).find((delivery) => delivery.org_id === late.orgId).event_id;

    // Exactly 30 days after the first events: not older than the period yet.
    await advanceTo(T0 + 30 * DAY);
    expect(await countRows('webhook_events', [ids.early, ids.pausedCreated])).toBe(2);
    expect((await deliveriesOf('/ok')).map((delivery) => delivery.org_id)).toEqual(
      expect.arrayContaining([early.orgId, paused.orgId, late.orgId]),
    );
  });

  it('then deletes them with their deliveries and attempts; the kept events’ delivery logs stay whole', async () => {
    const settled = [ids.early, ids.pausedCreated];
    expect(await countRows('webhook_deliveries', settled)).toBe(4);
    expect(await countRows('webhook_attempts', settled)).toBeGreaterThanOrEqual(4);
    await advanceTo(T0 + 30 * DAY + MINUTE);

    expect(await countRows('webhook_events', settled)).toBe(0);
    expect(await countRows('webhook_deliveries', settled)).toBe(0);
    expect(await countRows('webhook_attempts', settled)).toBe(0);
    // Staff see only what is kept: the recent event on both endpoints, the pending one on the paused.
    const ok = await deliveriesOf('/ok');
    expect(ok.map((delivery) => delivery.event_id)).toEqual([ids.late]);
    expect(ok[0]).toMatchObject({ status: 'succeeded', attempt_count: 1 });
    expect(await attemptsOf(ok[0].id)).toMatchObject([{ attempt: 1, succeeded: true, response_status: 200 }]);
    const down = await deliveriesOf('/down');
    expect(down.map((delivery) => delivery.event_id)).toEqual([ids.late]);
    // The late event's down delivery failed for good at its last attempt; both attempts are logged.
    expect(down[0]).toMatchObject({ status: 'failed', attempt_count: 2 });
    expect((await attemptsOf(down[0].id)).map((attempt) => attempt.response_status)).toEqual([500, 500]);
    const [paused] = await deliveriesOf('/paused');
    expect(paused).toMatchObject({ event_id: ids.paused, status: 'pending', attempt_count: 1 });
    expect(await attemptsOf(paused.id)).toMatchObject([{ attempt: 1, succeeded: false, response_status: 500 }]);
  });

  it('deletes an old event once its last delivery settles, and the recent one after its own 30 days', async () => {
    statusOf['/paused'] = 200;
    expectStatus(
      await t.call('PATCH', `/v1/admin/webhook-endpoints/${endpoints['/paused']}`, {
        cookie: await h.staff(),
        body: { enabled: true },
      }),
      200,
    );
    // The pass delivers it, then retention finds the 31-day-old event settled.
    await advanceTo(T0 + 31 * DAY);
    expect(await countRows('webhook_events', [ids.paused])).toBe(0);
    expect(await deliveriesOf('/paused')).toEqual([]);
    expect(await countRows('webhook_events', [ids.late])).toBe(1);

    await advanceTo(T0 + 50 * DAY + 2 * MINUTE);
    expect(await countRows('webhook_events', [ids.late])).toBe(0);
    expect(await deliveriesOf('/ok')).toEqual([]);
    expect(await deliveriesOf('/down')).toEqual([]);
  });

  it('works in bounded batches: a call deletes at most batch size × batches events', async () => {
    for (let index = 0; index < 5; index++) await signUpOwner(t);
    await advanceTo(Date.parse(await h.now()) + 4 * DAY);
    // Every settled event: the far `later` below puts them all past the period.
    const settledCount = async () => {
      const result = await t.deps.db.execute(sql`
        select count(*)::int as count from webhook_events event
        where event.fanned_out_at is not null
          and not exists (select 1 from webhook_deliveries delivery
            where delivery.event_id = event.id and delivery.status in ('pending', 'sending'))`);
      return Number((result as unknown as { rows: Array<{ count: number }> }).rows[0].count);
    };
    const before = await settledCount();
    expect(before).toBeGreaterThanOrEqual(5);
    // Far ahead, so that every settled event is past the period; the clock itself stays.
    const later = new Date(Date.parse(await h.now()) + 200 * DAY);
    expect(await pruneWebhookEvents(t.deps.db, later, { retentionDays: 29, batchSize: 2, maxBatches: 2 })).toEqual({
      events: 4,
    });
    expect(await settledCount()).toBe(before - 4);
    expect(await pruneWebhookEvents(t.deps.db, later, { retentionDays: 29, batchSize: 1000 })).toEqual({
      events: before - 4,
    });
    expect(await settledCount()).toBe(0);
  });
});
