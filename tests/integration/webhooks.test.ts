import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordAudit, recordAudits } from '../../src/modules/audit/index.ts';
import { deliverDueWebhooks, verifySignature } from '../../src/modules/webhooks/index.ts';
import { billingHelpers, DAY, expectError, expectStatus, HOUR } from '../helpers/billing.ts';
import { createTestInstance, type Owner, signUpOwner, type TestInstance } from '../helpers/instance.ts';

/**
 * Webhooks for operators, through the real HTTP stack and a real receiver on 127.0.0.1: endpoints
 * managed by admin staff, events of real changes, signatures a receiver can verify, the retry
 * schedule over three days, the delivery log, manual retries, and exactly one send per attempt.
 */

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  event: any;
}

interface Answer {
  status: number;
  body?: string;
  headers?: Record<string, string>;
  /** The receiver holds its answer until this settles. */
  hold?: Promise<void>;
}

const START = '2027-01-01T00:00:00.000Z';
const MINUTE = 60_000;

let t: TestInstance;
let h: ReturnType<typeof billingHelpers>;
let server: Server;
let base: string;
const received: Received[] = [];
const answers = new Map<string, Answer>();
const endpoints: Record<string, { id: string; secret: string }> = {};

beforeAll(async () => {
  // The delivery log is read back after the clock moved months on: retention (its own test) is off here.
  t = await createTestInstance({ start: START, env: { TIERLINE_WEBHOOK_RETENTION_DAYS: '3650' } });
  h = billingHelpers(t);
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', async () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const path = request.url ?? '/';
      received.push({ path, headers: request.headers, body, event: JSON.parse(body) });
      const answer = answers.get(path) ?? { status: 200 };
      await answer.hold;
      response.writeHead(answer.status, { 'content-type': 'text/plain', ...answer.headers });
      response.end(answer.body ?? 'ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // Endpoints that watch the whole run: every event, two types only, and one disabled.
  endpoints.all = await createEndpoint('/all', {});
  endpoints.subset = await createEndpoint('/subset', { events: ['invoice.paid', 'org.deactivated'] });
  endpoints.disabled = await createEndpoint('/disabled', { enabled: false });
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  await t?.close();
});

async function createEndpoint(path: string, body: Record<string, unknown>) {
  const response = await t.call('POST', '/v1/admin/webhook-endpoints', {
    cookie: await h.staff(),
    body: { url: `${base}${path}`, ...body },
  });
  expectStatus(response, 201);
  return { id: response.body.id as string, secret: response.body.secret as string };
}

/** One pass of the dispatcher as the worker runs it, as of the test clock or a given instant. */
async function deliver(at?: string | number, timeoutMs = 5_000) {
  const now = at === undefined ? new Date(await h.now()) : new Date(at);
  return deliverDueWebhooks(t.deps.db, now, { timeoutMs });
}

function receivedAt(path: string, orgId?: string) {
  return received.filter((entry) => entry.path === path && (orgId === undefined || entry.event.org_id === orgId));
}

/** Event types received, in the order they happened (events of one instant in type order). */
function typesOf(entries: Received[]) {
  return [...entries]
    .sort((a, b) => a.event.created_at.localeCompare(b.event.created_at) || a.event.type.localeCompare(b.event.type))
    .map((entry) => entry.event.type);
}

/** What a receiver does with node:crypto alone: recompute the HMAC of "t.body" and compare. */
function receiverVerifies(entry: { headers: IncomingHttpHeaders; body: string }, secret: string) {
  const header = String(entry.headers['tierline-signature']);
  const timestamp = /(?:^|,)t=(\d+)/.exec(header)?.[1];
  const signatures = [...header.matchAll(/(?:^|,)v1=([0-9a-f]{64})/g)].map((match) => match[1]);
  const expected = createHmac('sha256', secret).update(`${timestamp}.${entry.body}`).digest('hex');
  return timestamp !== undefined && signatures.includes(expected);
}

async function deliveriesOf(endpointId: string, query = 'limit=100') {
  const response = await t.call('GET', `/v1/admin/webhook-endpoints/${endpointId}/deliveries?${query}`, {
    cookie: await h.staff(),
  });
  expectStatus(response, 200);
  return response.body.data as any[];
}

async function deliveryOf(endpointId: string, eventId: string) {
  const found = (await deliveriesOf(endpointId)).find((delivery) => delivery.event_id === eventId);
  expect(found, `a delivery of ${eventId}`).toBeDefined();
  const detail = await t.call('GET', `/v1/admin/webhook-deliveries/${found.id}`, { cookie: await h.staff() });
  expectStatus(detail, 200);
  return detail.body;
}

async function createStaff(role: string) {
  const email = `${role}-${randomBytes(4).toString('hex')}@tierline.test`;
  const created = await t.call('POST', '/v1/admin/staff', {
    cookie: await h.staff(),
    body: { email, password: 'staff-password-1', full_name: `Staff ${role}`, roles: [role] },
  });
  expectStatus(created, 201);
  const login = await t.call('POST', '/v1/auth/login', { body: { email, password: 'staff-password-1' } });
  expectStatus(login, 200);
  return login.cookie as string;
}

describe('webhook endpoints', () => {
  it('are managed by admin staff only: support, sales, org users and anonymous callers are refused', async () => {
    const support = await createStaff('support');
    const sales = await createStaff('sales');
    const owner = await signUpOwner(t);
    const body = { url: `${base}/refused` };
    for (const cookie of [support, sales]) {
      for (const [method, url] of [
        ['POST', '/v1/admin/webhook-endpoints'],
        ['GET', '/v1/admin/webhook-endpoints'],
        ['GET', `/v1/admin/webhook-endpoints/${endpoints.all.id}`],
        ['GET', `/v1/admin/webhook-endpoints/${endpoints.all.id}/deliveries`],
        ['GET', '/v1/admin/webhook-event-types'],
      ]) {
        const response = await t.call(method, url, { cookie, body: method === 'POST' ? body : undefined });
        expectError(response, 403, 'insufficient_staff_role');
      }
    }
    expectError(
      await t.call('POST', '/v1/admin/webhook-endpoints', { cookie: owner.cookie, body }),
      403,
      'staff_required',
    );
    expectError(
      await t.call('GET', `/v1/admin/webhook-endpoints/${endpoints.all.id}`, { cookie: owner.cookie }),
      403,
      'staff_required',
    );
    expectError(await t.call('POST', '/v1/admin/webhook-endpoints', { body }), 401, 'unauthenticated');
    const list = await t.call('GET', '/v1/admin/webhook-endpoints?limit=100', { cookie: await h.staff() });
    expect(list.body.data.map((endpoint: any) => endpoint.url)).not.toContain(`${base}/refused`);
  });

  it('are created with a whsec_ secret shown to admins, listed newest first without it, and validated', async () => {
    const admin = await h.staff();
    const created = await t.call('POST', '/v1/admin/webhook-endpoints', {
      cookie: admin,
      body: { url: `${base}/listed`, description: 'Ops receiver', events: ['org.created', 'invoice.paid'] },
    });
    expectStatus(created, 201);
    expect(created.body).toMatchObject({
      url: `${base}/listed`,
      description: 'Ops receiver',
      events: ['org.created', 'invoice.paid'],
      enabled: true,
    });
    expect(created.body.secret).toMatch(/^whsec_[0-9A-Za-z]{40}$/);
    const shown = await t.call('GET', `/v1/admin/webhook-endpoints/${created.body.id}`, { cookie: admin });
    expect(shown.body.secret).toBe(created.body.secret);

    const whole = await t.call('GET', '/v1/admin/webhook-endpoints?limit=100', { cookie: admin });
    expectStatus(whole, 200);
    expect(whole.body.next_cursor).toBeNull();
    const keys = whole.body.data.map((endpoint: any) => `${endpoint.created_at} ${endpoint.id}`);
    expect(keys).toEqual([...keys].sort().reverse());
    expect(whole.body.data.map((endpoint: any) => endpoint.id)).toEqual(
      expect.arrayContaining([created.body.id, endpoints.all.id, endpoints.subset.id, endpoints.disabled.id]),
    );
    for (const endpoint of whole.body.data) expect(endpoint).not.toHaveProperty('secret');
    const paged: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
      const page = await t.call('GET', `/v1/admin/webhook-endpoints?limit=2${query}`, { cookie: admin });
      expectStatus(page, 200);
      expect(page.body.data.length).toBeLessThanOrEqual(2);
      paged.push(...page.body.data.map((endpoint: any) => endpoint.id));
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(paged).toEqual(whole.body.data.map((endpoint: any) => endpoint.id));

    const types = await t.call('GET', '/v1/admin/webhook-event-types', { cookie: admin });
    expect(types.body.data.map((entry: any) => entry.type)).toEqual(
      expect.arrayContaining([
        'org.created',
        'subscription.started',
        'invoice.created',
        'invoice.paid',
        'org.deactivated',
      ]),
    );

    for (const url of [
      'ftp://example.com/in',
      'https://user:secret@example.com/in',
      'https://example.com/#x',
      'nope',
    ]) {
      const refused = await t.call('POST', '/v1/admin/webhook-endpoints', { cookie: admin, body: { url } });
      expectError(refused, 400, 'validation_failed', 'url');
    }
    const unknownType = await t.call('POST', '/v1/admin/webhook-endpoints', {
      cookie: admin,
      body: { url: `${base}/x`, events: ['invoice.exploded'] },
    });
    expectStatus(unknownType, 400);
    expect(unknownType.body.error.field).toMatch(/^events/);

    const patched = await t.call('PATCH', `/v1/admin/webhook-endpoints/${created.body.id}`, {
      cookie: admin,
      body: { events: ['*'], description: '' },
    });
    expectStatus(patched, 200);
    expect(patched.body).toMatchObject({ events: ['*'], description: null });
    expectStatus(await t.call('DELETE', `/v1/admin/webhook-endpoints/${created.body.id}`, { cookie: admin }), 204);
    expectError(
      await t.call('GET', `/v1/admin/webhook-endpoints/${created.body.id}`, { cookie: admin }),
      404,
      'not_found',
    );
  });
});

describe('events of real changes', () => {
  let owner: Owner;
  const seen = new Set<string>();

  /** The events of the owner's org that arrived at /all since the last look. */
  function newAtAll() {
    const fresh = receivedAt('/all', owner.orgId).filter((entry) => !seen.has(entry.event.id));
    for (const entry of fresh) seen.add(entry.event.id);
    return fresh;
  }

  it('sign-up: org.created, signed so that the receiver can verify it with the secret', async () => {
    owner = await signUpOwner(t);
    const now = await h.now();
    await deliver();
    const fresh = newAtAll();
    expect(typesOf(fresh)).toEqual(['org.created']);
    const [entry] = fresh;
    expect(entry.event).toMatchObject({
      type: 'org.created',
      org_id: owner.orgId,
      created_at: now,
      data: { object: { object: 'org', id: owner.orgId, email: owner.email, owner_user_id: owner.userId } },
    });
    expect(entry.event.id).toMatch(/^evt_/);
    expect(entry.headers['tierline-event-id']).toBe(entry.event.id);
    expect(entry.headers['tierline-event-type']).toBe('org.created');
    expect(entry.headers['content-type']).toMatch(/^application\/json/);
    expect(entry.headers['user-agent']).toMatch(/^Tierline-Webhooks\//);
    expect(entry.headers['tierline-signature']).toBe(
      `t=${Date.parse(now) / 1000},v1=${createHmac('sha256', endpoints.all.secret)
        .update(`${Date.parse(now) / 1000}.${entry.body}`)
        .digest('hex')}`,
    );

    expect(receiverVerifies(entry, endpoints.all.secret)).toBe(true);
    expect(verifySignature(String(entry.headers['tierline-signature']), entry.body, endpoints.all.secret)).toBe(true);
    const tampered = entry.body.replace(owner.orgId, 'org_someoneelse');
    expect(receiverVerifies({ headers: entry.headers, body: tampered }, endpoints.all.secret)).toBe(false);
    expect(verifySignature(String(entry.headers['tierline-signature']), tampered, endpoints.all.secret)).toBe(false);
    expect(receiverVerifies(entry, endpoints.subset.secret)).toBe(false);
    expect(verifySignature(String(entry.headers['tierline-signature']), entry.body, endpoints.subset.secret)).toBe(
      false,
    );
  });

  it('upgrade to Plus: subscription.started', async () => {
    const { subscription } = await h.subscribePlus(owner);
    await deliver();
    const fresh = newAtAll();
    expect(typesOf(fresh)).toEqual(['subscription.started']);
    expect(fresh[0].event.data.object).toMatchObject({ object: 'subscription', id: subscription.id, plan: 'plus' });
    expect(fresh[0].event.data.previous_attributes).toEqual({ plan: 'free' });
  });

  it('the test clock past C_1 and B_1: invoice.created at C_1, then invoice.paid at B_1', async () => {
    await h.advance('2027-02-01T01:00:00.000Z', owner);
    await deliver();
    const fresh = newAtAll();
    expect(typesOf(fresh)).toEqual(['invoice.created', 'invoice.paid']);
    const [invoice] = await h.invoices(owner);
    const created = fresh.find((entry) => entry.event.type === 'invoice.created') as Received;
    const paid = fresh.find((entry) => entry.event.type === 'invoice.paid') as Received;
    expect(created.event.created_at).toBe('2027-01-29T00:00:00.000Z');
    expect(created.event.data.object).toMatchObject({ object: 'invoice', id: invoice.id, number: invoice.number });
    expect(paid.event.created_at).toBe('2027-02-01T00:00:00.000Z');
    expect(paid.event.data.object).toMatchObject({ id: invoice.id, status: 'paid' });
  });

  it('downgrade: the final invoice created and paid, subscription.ended', async () => {
    const downgraded = await h.downgrade(owner);
    expectStatus(downgraded, 200);
    await deliver();
    const fresh = newAtAll();
    expect(typesOf(fresh)).toEqual(['invoice.created', 'invoice.paid', 'subscription.ended']);
    const ended = fresh.find((entry) => entry.event.type === 'subscription.ended') as Received;
    const created = fresh.find((entry) => entry.event.type === 'invoice.created') as Received;
    const paid = fresh.find((entry) => entry.event.type === 'invoice.paid') as Received;
    expect(paid.event.data.object.id).toBe(ended.event.data.object.final_invoice_id);
    expect(created.event.data.object).toMatchObject({
      id: downgraded.body.final_invoice.id,
      kind: 'final',
      total: String(downgraded.body.final_invoice.total),
    });
  });

  it('staff deactivation: org.deactivated with the reason and the staff member', async () => {
    await h.advance(new Date(Date.parse(await h.now()) + MINUTE).toISOString());
    const deactivated = await t.call('POST', `/v1/admin/orgs/${owner.orgId}/deactivate`, {
      cookie: await h.staff(),
      body: { reason: 'abuse' },
    });
    expectStatus(deactivated, 200);
    await deliver();
    const fresh = newAtAll();
    expect(typesOf(fresh)).toEqual(['org.deactivated']);
    expect(fresh[0].event.data).toMatchObject({
      object: { object: 'org', id: owner.orgId, status: 'deactivated' },
      actor: { type: 'staff' },
      reason: 'abuse',
    });
    expect(fresh[0].event.data.previous_attributes).not.toHaveProperty('access');
  });

  it('delivered each event once, in order, logged as succeeded; subsets and disabled endpoints as configured', async () => {
    const again = await deliver();
    expect(again.attempted).toBe(0);
    const all = receivedAt('/all', owner.orgId);
    expect(all.map((entry) => entry.event.id).length).toBe(new Set(all.map((entry) => entry.event.id)).size);
    expect(typesOf(all)).toEqual([
      'org.created',
      'subscription.started',
      'invoice.created',
      'invoice.paid',
      'invoice.created',
      'invoice.paid',
      'subscription.ended',
      'org.deactivated',
    ]);
    for (const entry of all) expect(receiverVerifies(entry, endpoints.all.secret)).toBe(true);

    expect(typesOf(receivedAt('/subset', owner.orgId))).toEqual(['invoice.paid', 'invoice.paid', 'org.deactivated']);
    for (const entry of receivedAt('/subset')) expect(['invoice.paid', 'org.deactivated']).toContain(entry.event.type);
    expect(receivedAt('/disabled')).toEqual([]);
    expect(await deliveriesOf(endpoints.disabled.id)).toEqual([]);

    const log = (await deliveriesOf(endpoints.all.id)).filter((delivery) => delivery.org_id === owner.orgId);
    expect(log).toHaveLength(8);
    for (const delivery of log) {
      expect(delivery).toMatchObject({
        status: 'succeeded',
        attempt_count: 1,
        last_response_status: 200,
        next_attempt_at: null,
      });
    }
    const instants = log.map((delivery) => delivery.created_at);
    expect(instants).toEqual([...instants].sort().reverse());
    const detail = await deliveryOf(endpoints.all.id, all[0].event.id);
    expect(detail.event).toEqual(all[0].event);
    expect(detail.attempts).toHaveLength(1);
    expect(detail.attempts[0]).toMatchObject({
      attempt: 1,
      succeeded: true,
      response_status: 200,
      response_body: 'ok',
    });
  });

  it('an idle free org: org.deactivation_upcoming 7 days and 1 day before, then org.deactivated', async () => {
    const idle = await signUpOwner(t);
    const signedUp = Date.parse(await h.now());
    await h.advance(new Date(signedUp + 31 * DAY).toISOString());
    await deliver();
    const events = receivedAt('/all', idle.orgId);
    expect(typesOf(events)).toEqual([
      'org.created',
      'org.deactivation_upcoming',
      'org.deactivation_upcoming',
      'org.deactivated',
    ]);
    const sorted = [...events].sort((a, b) => a.event.created_at.localeCompare(b.event.created_at));
    const deactivatesAt = new Date(signedUp + 30 * DAY).toISOString();
    expect(sorted[1].event.data.object).toMatchObject({
      id: idle.orgId,
      deactivates_at: deactivatesAt,
      days_before: 7,
    });
    expect(sorted[2].event.data.object).toMatchObject({ deactivates_at: deactivatesAt, days_before: 1 });
    expect(sorted[1].event.created_at).toBe(new Date(signedUp + 23 * DAY).toISOString());
    expect(sorted[3].event).toMatchObject({
      created_at: deactivatesAt,
      data: { reason: 'inactivity', actor: { type: 'system' } },
    });
  });
});

describe('retries', () => {
  it('retries a receiver answering 500 on the backoff schedule for 3 days, then fails; a manual retry delivers', async () => {
    answers.set('/fail', { status: 500, body: 'boom' });
    const failing = await createEndpoint('/fail', { events: ['org.created'] });
    const owner = await signUpOwner(t);
    const start = Date.parse(await h.now());
    const offsets = [0, 1, 6, 36, 156, 456, 1056, 1776, 2496, 3216, 3936, 4320].map((minutes) => minutes * MINUTE);
    const attemptsSoFar = () => receivedAt('/fail', owner.orgId).length;
    let eventId = '';
    for (const [index, offset] of offsets.entries()) {
      if (offset > 0) {
        await deliver(start + offset - 1000);
        expect(attemptsSoFar(), `nothing before the attempt at +${offset / MINUTE} min`).toBe(index);
      }
      await deliver(start + offset);
      expect(attemptsSoFar(), `attempt ${index + 1} at +${offset / MINUTE} min`).toBe(index + 1);
      eventId = receivedAt('/fail', owner.orgId)[0].event.id;
      const delivery = await deliveryOf(failing.id, eventId);
      if (index < offsets.length - 1) {
        expect(delivery).toMatchObject({ status: 'pending', attempt_count: index + 1, last_response_status: 500 });
        expect(delivery.next_attempt_at).toBe(new Date(start + offsets[index + 1]).toISOString());
      }
    }
    await deliver(start + 5 * DAY);
    expect(attemptsSoFar()).toBe(12);
    const failed = await deliveryOf(failing.id, eventId);
    expect(failed).toMatchObject({
      status: 'failed',
      attempt_count: 12,
      next_attempt_at: null,
      retry_until: new Date(start + 3 * DAY).toISOString(),
      last_error: 'HTTP 500',
    });
    expect(failed.attempts.map((attempt: any) => attempt.started_at)).toEqual(
      offsets.map((offset) => new Date(start + offset).toISOString()),
    );
    for (const attempt of failed.attempts) {
      expect(attempt).toMatchObject({ succeeded: false, response_status: 500, response_body: 'boom', error: null });
    }
    // Every attempt sent the same bytes, signed anew.
    const bodies = new Set(receivedAt('/fail', owner.orgId).map((entry) => entry.body));
    expect(bodies.size).toBe(1);
    for (const entry of receivedAt('/fail', owner.orgId)) expect(receiverVerifies(entry, failing.secret)).toBe(true);

    const support = await createStaff('support');
    expectError(
      await t.call('POST', `/v1/admin/webhook-deliveries/${failed.id}/retry`, { cookie: support }),
      403,
      'insufficient_staff_role',
    );
    expectError(
      await t.call('POST', '/v1/admin/webhook-deliveries/whd_unknown/retry', { cookie: await h.staff() }),
      404,
      'not_found',
    );
    answers.set('/fail', { status: 204 });
    const retried = await t.call('POST', `/v1/admin/webhook-deliveries/${failed.id}/retry`, {
      cookie: await h.staff(),
    });
    expectStatus(retried, 200);
    expect(retried.body).toMatchObject({ status: 'pending', next_attempt_at: await h.now() });
    await deliver();
    expect(attemptsSoFar()).toBe(13);
    const delivered = await deliveryOf(failing.id, eventId);
    expect(delivered).toMatchObject({
      status: 'succeeded',
      attempt_count: 13,
      last_response_status: 204,
      last_error: null,
    });
    expect(delivered.attempts).toHaveLength(13);
    await deliver(start + 10 * DAY);
    expect(attemptsSoFar()).toBe(13);
    expectStatus(await t.call('DELETE', `/v1/admin/webhook-endpoints/${failing.id}`, { cookie: await h.staff() }), 204);
    expectError(
      await t.call('GET', `/v1/admin/webhook-deliveries/${delivered.id}`, { cookie: await h.staff() }),
      404,
      'not_found',
    );
  });

  it('logs a refused connection, a timeout and a redirect (not followed) as failed attempts', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    let release = () => {};
    answers.set('/hang', { status: 200, hold: new Promise<void>((resolve) => (release = resolve)) });
    answers.set('/redirect', { status: 302, headers: { location: `${base}/redirected` } });
    const admin = await h.staff();
    const failing: Record<string, string> = {};
    for (const [name, url] of [
      ['refused', `http://127.0.0.1:${closedPort}/in`],
      ['hang', `${base}/hang`],
      ['redirect', `${base}/redirect`],
    ]) {
      const created = await t.call('POST', '/v1/admin/webhook-endpoints', {
        cookie: admin,
        body: { url, events: ['org.created'] },
      });
      expectStatus(created, 201);
      failing[name] = created.body.id;
    }
    const owner = await signUpOwner(t);
    await deliver(undefined, 300);
    release();
    const eventId = receivedAt('/all', owner.orgId)[0].event.id;
    const [refused, hang, redirect] = await Promise.all(
      [failing.refused, failing.hang, failing.redirect].map((id) => deliveryOf(id, eventId)),
    );
    expect(refused).toMatchObject({ status: 'pending', attempt_count: 1, last_response_status: null });
    expect(refused.last_error).toMatch(/ECONNREFUSED/);
    expect(refused.attempts[0]).toMatchObject({ succeeded: false, response_status: null, response_body: null });
    expect(hang).toMatchObject({
      status: 'pending',
      last_response_status: null,
      last_error: 'No answer within 300 ms.',
    });
    expect(hang.attempts[0].duration_ms).toBeGreaterThanOrEqual(250);
    expect(redirect).toMatchObject({ status: 'pending', last_response_status: 302, last_error: 'HTTP 302' });
    expect(receivedAt('/redirected')).toEqual([]);
    for (const id of Object.values(failing)) {
      expectStatus(await t.call('DELETE', `/v1/admin/webhook-endpoints/${id}`, { cookie: admin }), 204);
    }
  });

  it('refuses a manual retry while the delivery is being sent, and holds no transaction over the HTTP call', async () => {
    let release = () => {};
    answers.set('/slow', { status: 200, hold: new Promise<void>((resolve) => (release = resolve)) });
    const slow = await createEndpoint('/slow', { events: ['org.created'] });
    const owner = await signUpOwner(t);
    const pass = deliver();
    while (receivedAt('/slow', owner.orgId).length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    const eventId = receivedAt('/slow', owner.orgId)[0].event.id;
    // The request is in flight: the database answers (on the embedded one, its only connection is free).
    const sending = await deliveryOf(slow.id, eventId);
    expect(sending).toMatchObject({ status: 'sending', next_attempt_at: null });
    expectError(
      await t.call('POST', `/v1/admin/webhook-deliveries/${sending.id}/retry`, { cookie: await h.staff() }),
      409,
      'delivery_in_flight',
    );
    release();
    await pass;
    expect(await deliveryOf(slow.id, eventId)).toMatchObject({ status: 'succeeded', attempt_count: 1 });
    expectStatus(await t.call('DELETE', `/v1/admin/webhook-endpoints/${slow.id}`, { cookie: await h.staff() }), 204);
  });
});

describe('delivery guarantees', () => {
  it('two dispatchers at once send each delivery once', async () => {
    // First attempts fail, so that six deliveries are due at the same instant when both dispatchers run.
    answers.set('/concurrent', { status: 503 });
    const concurrent = await createEndpoint('/concurrent', { events: ['org.created'] });
    const owners = [];
    for (let i = 0; i < 6; i++) owners.push(await signUpOwner(t));
    const ids = new Set(owners.map((owner) => owner.orgId));
    const atConcurrent = () => receivedAt('/concurrent').filter((entry) => ids.has(entry.event.org_id));
    const now = Date.parse(await h.now());
    expect((await deliver(now)).attempted).toBe(12);
    expect(atConcurrent()).toHaveLength(6);

    let release = () => {};
    answers.set('/concurrent', { status: 200, hold: new Promise<void>((resolve) => (release = resolve)) });
    const running = Promise.all([deliver(now + MINUTE), deliver(now + MINUTE)]);
    while (atConcurrent().length === 6) await new Promise((resolve) => setTimeout(resolve, 5));
    // While those requests are in flight, a third dispatcher finds every due delivery leased.
    expect((await deliver(now + MINUTE)).attempted).toBe(0);
    release();
    const passes = await running;
    expect(atConcurrent()).toHaveLength(12);
    const second = atConcurrent().slice(6);
    expect(second.map((entry) => entry.event.org_id).sort()).toEqual([...ids].sort());
    expect(passes[0].attempted + passes[1].attempted).toBe(6);
    expect((await deliver(now + 2 * MINUTE)).attempted).toBe(0);
    expect(receivedAt('/all').filter((entry) => ids.has(entry.event.org_id))).toHaveLength(6);
    for (const delivery of await deliveriesOf(concurrent.id)) {
      expect(delivery).toMatchObject({ status: 'succeeded', attempt_count: 2 });
    }
    expectStatus(
      await t.call('DELETE', `/v1/admin/webhook-endpoints/${concurrent.id}`, { cookie: await h.staff() }),
      204,
    );
  });

  it('writes no event for a change rolled back or refused, and one for the same change committed', async () => {
    const owner = await signUpOwner(t);
    await deliver();
    const before = receivedAt('/all', owner.orgId).length;
    const now = new Date(await h.now());
    const change = {
      orgId: owner.orgId,
      actor: { type: 'system' as const, id: null },
      action: 'org.owner_transferred',
      targetType: 'org',
      targetId: owner.orgId,
      before: { owner_user_id: owner.userId },
      after: { owner_user_id: owner.userId },
    };
    await expect(
      t.deps.db.transaction(async (tx) => {
        await recordAudit(tx, now, change);
        await recordAudits(tx, now, [change, change]);
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    // Refused requests: a downgrade on Free, a transfer to a non-member.
    expectError(await h.downgrade(owner), 409, 'no_subscription');
    const transfer = await t.call('POST', `/v1/orgs/${owner.orgId}/owner-transfer`, {
      cookie: owner.cookie,
      body: { user_id: 'usr_nobody' },
    });
    expectError(transfer, 404, 'not_found');
    await deliver();
    expect(receivedAt('/all', owner.orgId)).toHaveLength(before);

    await t.deps.db.transaction(async (tx) => {
      await recordAudits(tx, now, [change]);
    });
    await deliver();
    expect(typesOf(receivedAt('/all', owner.orgId).slice(before))).toEqual(['org.owner_transferred']);
  });

  it('a disabled endpoint gets nothing meanwhile; enabled again, it gets what happens from then on', async () => {
    const toggled = await createEndpoint('/toggled', { events: ['org.created'] });
    const disable = await t.call('PATCH', `/v1/admin/webhook-endpoints/${toggled.id}`, {
      cookie: await h.staff(),
      body: { enabled: false },
    });
    expect(disable.body.enabled).toBe(false);
    const whileDisabled = await signUpOwner(t);
    await deliver();
    expectStatus(
      await t.call('PATCH', `/v1/admin/webhook-endpoints/${toggled.id}`, {
        cookie: await h.staff(),
        body: { enabled: true },
      }),
      200,
    );
    const afterwards = await signUpOwner(t);
    await deliver();
    expect(receivedAt('/toggled').map((entry) => entry.event.org_id)).toEqual([afterwards.orgId]);
    expect(receivedAt('/all', whileDisabled.orgId)).toHaveLength(1);
    expectStatus(await t.call('DELETE', `/v1/admin/webhook-endpoints/${toggled.id}`, { cookie: await h.staff() }), 204);
  });

  it('a rotated secret signs at once; with an overlap the old one signs too until it expires', async () => {
    const rotating = await createEndpoint('/rotating', { events: ['org.created'] });
    const rotated = await t.call('POST', `/v1/admin/webhook-endpoints/${rotating.id}/rotate-secret`, {
      cookie: await h.staff(),
      body: { overlap_hours: 1 },
    });
    expectStatus(rotated, 200);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(rotating.secret);
    const first = await signUpOwner(t);
    await deliver();
    const [during] = receivedAt('/rotating', first.orgId);
    expect(receiverVerifies(during, rotated.body.secret)).toBe(true);
    expect(receiverVerifies(during, rotating.secret)).toBe(true);

    const second = await signUpOwner(t);
    await deliver(Date.parse(await h.now()) + 2 * HOUR);
    const [after] = receivedAt('/rotating', second.orgId);
    expect(receiverVerifies(after, rotated.body.secret)).toBe(true);
    expect(receiverVerifies(after, rotating.secret)).toBe(false);

    const again = await t.call('POST', `/v1/admin/webhook-endpoints/${rotating.id}/rotate-secret`, {
      cookie: await h.staff(),
    });
    expectStatus(again, 200);
    expect(again.body.previous_secret_expires_at).toBeNull();
    expectStatus(
      await t.call('DELETE', `/v1/admin/webhook-endpoints/${rotating.id}`, { cookie: await h.staff() }),
      204,
    );
  });
});

describe('deliveries per day', () => {
  it('counts an endpoint’s deliveries per UTC day of the event and status as it stands, for admins only', async () => {
    const counting = await createEndpoint('/counting', { events: ['org.created'] });
    const daily = async (query = '') => {
      const response = await t.call('GET', `/v1/admin/webhook-endpoints/${counting.id}/deliveries/daily${query}`, {
        cookie: await h.staff(),
      });
      expectStatus(response, 200);
      return response.body;
    };
    const dayOf = (iso: string) => iso.slice(0, 10);
    // Nothing yet: no day is listed.
    expect((await daily()).days).toEqual([]);

    await signUpOwner(t);
    await deliver();
    answers.set('/counting', { status: 500 });
    await signUpOwner(t);
    await deliver();
    const first = dayOf(await h.now());
    await h.advance(new Date(Date.parse(await h.now()) + DAY).toISOString());
    await signUpOwner(t);
    await deliver();
    const second = dayOf(await h.now());
    const now = await h.now();

    const twoDays = await daily('?days=2');
    expect(twoDays).toMatchObject({
      as_of: now,
      since: `${first}T00:00:00.000Z`,
      days: [
        { day: first, pending: 1, sending: 0, succeeded: 1, failed: 0 },
        { day: second, pending: 1, sending: 0, succeeded: 0, failed: 0 },
      ],
    });
    // Today only; the default is 14 days.
    expect((await daily('?days=1')).days).toEqual([{ day: second, pending: 1, sending: 0, succeeded: 0, failed: 0 }]);
    expect((await daily()).days).toEqual(twoDays.days);

    // The clock moved a day: a fresh session.
    const admin = await h.staff();
    for (const days of ['0', '91', 'x']) {
      expectError(
        await t.call('GET', `/v1/admin/webhook-endpoints/${counting.id}/deliveries/daily?days=${days}`, {
          cookie: admin,
        }),
        400,
        'validation_failed',
      );
    }
    expectError(
      await t.call('GET', '/v1/admin/webhook-endpoints/we_unknown/deliveries/daily', { cookie: admin }),
      404,
      'not_found',
    );
    expectError(
      await t.call('GET', `/v1/admin/webhook-endpoints/${counting.id}/deliveries/daily`, {
        cookie: await createStaff('support'),
      }),
      403,
      'insufficient_staff_role',
    );
    answers.delete('/counting');
    expectStatus(await t.call('DELETE', `/v1/admin/webhook-endpoints/${counting.id}`, { cookie: admin }), 204);
  });
});
