import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestInstance, logInAdmin, signUpOwner, type TestInstance } from '../helpers/instance.ts';

let t: TestInstance;
let admin: string;
beforeAll(async () => {
  t = await createTestInstance();
  admin = await logInAdmin(t);
});
afterAll(async () => {
  await t.close();
});

const unique = (label: string) => `${label}-${randomBytes(4).toString('hex')}`;
const key = (value: string) => ({ 'idempotency-key': value });

function signUpBody(orgName: string, overrides: Record<string, unknown> = {}) {
  return {
    email: `${orgName.toLowerCase()}@example.com`,
    password: 'correct-horse-battery',
    full_name: 'Grace',
    org_name: orgName,
    ...overrides,
  };
}

/** Orgs whose name, email or id matches, as staff see them. */
async function orgsNamed(name: string) {
  const search = await t.call('GET', `/v1/admin/orgs?query=${encodeURIComponent(name)}`, { cookie: admin });
  expect(search.status).toBe(200);
  return search.body.data as Array<{ id: string; name: string }>;
}

async function tokenIds(cookie: string) {
  const list = await t.call('GET', '/v1/me/tokens', { cookie });
  expect(list.status).toBe(200);
  return (list.body.data as Array<{ id: string }>).map((token) => token.id);
}

describe('Idempotency-Key', () => {
  it('replays the first answer to a repeat with the same body, and creates one org', async () => {
    const name = unique('Replay');
    const idempotencyKey = unique('key');
    const first = await t.call('POST', '/v1/signup', { body: signUpBody(name), headers: key(idempotencyKey) });
    expect(first.status).toBe(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    const again = await t.call('POST', '/v1/signup', { body: signUpBody(name), headers: key(idempotencyKey) });
    expect(again.status).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
    // The session secret is never kept for replay.
    expect(again.cookie).toBeUndefined();
    expect(await orgsNamed(name)).toHaveLength(1);
  });

  it('answers 422 idempotency_key_reused for the same key with another body, creating nothing', async () => {
    const name = unique('Reused');
    const other = unique('Other');
    const idempotencyKey = unique('key');
    const first = await t.call('POST', '/v1/signup', { body: signUpBody(name), headers: key(idempotencyKey) });
    expect(first.status).toBe(201);
    const reused = await t.call('POST', '/v1/signup', { body: signUpBody(other), headers: key(idempotencyKey) });
    expect(reused.status).toBe(422);
    expect(reused.body.error.code).toBe('idempotency_key_reused');
    expect(reused.body.error.message).toEqual(expect.any(String));
    expect(await orgsNamed(other)).toHaveLength(0);
    expect(await orgsNamed(name)).toHaveLength(1);
  });

  it('scopes keys per caller: two users with one key each get their own token', async () => {
    const a = await signUpOwner(t);
    const b = await signUpOwner(t);
    const idempotencyKey = unique('shared');
    const forA = await t.call('POST', '/v1/me/tokens', {
      cookie: a.cookie,
      body: { name: 'ci' },
      headers: key(idempotencyKey),
    });
    const forB = await t.call('POST', '/v1/me/tokens', {
      cookie: b.cookie,
      body: { name: 'ci' },
      headers: key(idempotencyKey),
    });
    expect(forA.status).toBe(201);
    expect(forB.status).toBe(201);
    expect(forB.headers['idempotent-replayed']).toBeUndefined();
    expect(forB.body.id).not.toBe(forA.body.id);
    expect(forB.body.token).not.toBe(forA.body.token);
    expect(await tokenIds(a.cookie)).toEqual([forA.body.id]);
    expect(await tokenIds(b.cookie)).toEqual([forB.body.id]);
    const meA = await t.call('GET', '/v1/me', { token: forA.body.token });
    const meB = await t.call('GET', '/v1/me', { token: forB.body.token });
    expect(meA.body.user.id).toBe(a.userId);
    expect(meB.body.user.id).toBe(b.userId);
  });

  it('creates exactly one token from concurrent requests with one key', async () => {
    const owner = await signUpOwner(t);
    const idempotencyKey = unique('race');
    const responses = await Promise.all(
      Array.from({ length: 5 }, () =>
        t.call('POST', '/v1/me/tokens', { cookie: owner.cookie, body: { name: 'race' }, headers: key(idempotencyKey) }),
      ),
    );
    const created = responses.filter((response) => response.status === 201);
    const inProgress = responses.filter((response) => response.status === 409);
    expect(created.length + inProgress.length).toBe(5);
    expect(created.length).toBeGreaterThanOrEqual(1);
    for (const response of inProgress) expect(response.body.error.code).toBe('idempotency_request_in_progress');
    expect(new Set(created.map((response) => response.body.id)).size).toBe(1);
    expect(created.filter((response) => response.headers['idempotent-replayed'] !== 'true')).toHaveLength(1);
    expect(await tokenIds(owner.cookie)).toEqual([created[0].body.id]);
    // Once the first is done, a retry is the replay.
    const retry = await t.call('POST', '/v1/me/tokens', {
      cookie: owner.cookie,
      body: { name: 'race' },
      headers: key(idempotencyKey),
    });
    expect(retry.status).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.body.id).toBe(created[0].body.id);
    expect(await tokenIds(owner.cookie)).toHaveLength(1);
  });

  it('does not consume the key with a request that failed schema validation', async () => {
    const owner = await signUpOwner(t);
    const idempotencyKey = unique('schema');
    const invalid = await t.call('POST', '/v1/me/tokens', {
      cookie: owner.cookie,
      body: { expires_in_days: 0 },
      headers: key(idempotencyKey),
    });
    expect(invalid.status).toBe(400);
    const fixed = await t.call('POST', '/v1/me/tokens', {
      cookie: owner.cookie,
      body: { name: 'fixed' },
      headers: key(idempotencyKey),
    });
    expect(fixed.status).toBe(201);
    expect(fixed.headers['idempotent-replayed']).toBeUndefined();
    expect(await tokenIds(owner.cookie)).toEqual([fixed.body.id]);
  });

  it('does not consume the key with a request that failed a validation rule of the use case', async () => {
    const name = unique('Fixed');
    const idempotencyKey = unique('rule');
    // The schema accepts any non-empty password; the 8-character rule is checked by sign-up itself.
    const invalid = await t.call('POST', '/v1/signup', {
      body: signUpBody(name, { password: 'short' }),
      headers: key(idempotencyKey),
    });
    expect(invalid.status).toBe(400);
    expect(invalid.body.error.field).toBe('password');
    const fixed = await t.call('POST', '/v1/signup', { body: signUpBody(name), headers: key(idempotencyKey) });
    expect(fixed.status).toBe(201);
    expect(fixed.headers['idempotent-replayed']).toBeUndefined();
    expect(await orgsNamed(name)).toHaveLength(1);
  });

  it('refuses an empty or over-long key with a 400 naming the header', async () => {
    for (const bad of ['', 'k'.repeat(256)]) {
      const response = await t.call('POST', '/v1/signup', {
        body: signUpBody(unique('BadKey')),
        headers: key(bad),
      });
      expect(response.status).toBe(400);
      expect(response.body.error.field).toBe('Idempotency-Key');
    }
  });

  it('lets a key be reused once 24 hours have passed', async () => {
    const name = unique('Day');
    const later = unique('Later');
    const idempotencyKey = unique('day');
    const first = await t.call('POST', '/v1/signup', { body: signUpBody(name), headers: key(idempotencyKey) });
    expect(first.status).toBe(201);
    const clock = await t.call('GET', '/v1/test-clock');
    const almost = new Date(Date.parse(clock.body.now) + 24 * 3600 * 1000 - 1000).toISOString();
    expect((await t.call('POST', '/v1/test-clock/advance', { body: { to: almost } })).status).toBe(200);
    const tooSoon = await t.call('POST', '/v1/signup', { body: signUpBody(later), headers: key(idempotencyKey) });
    expect(tooSoon.status).toBe(422);
    const dayLater = new Date(Date.parse(clock.body.now) + 24 * 3600 * 1000).toISOString();
    expect((await t.call('POST', '/v1/test-clock/advance', { body: { to: dayLater } })).status).toBe(200);
    const sameBody = await t.call('POST', '/v1/signup', { body: signUpBody(name), headers: key(idempotencyKey) });
    expect(sameBody.status).toBe(201);
    expect(sameBody.headers['idempotent-replayed']).toBeUndefined();
    expect(sameBody.body.org.id).not.toBe(first.body.org.id);
    expect(sameBody.body.org.created_at).toBe(dayLater);
    admin = await logInAdmin(t);
    expect(await orgsNamed(name)).toHaveLength(2);
  });

  it('lets only one of concurrent requests reuse a key that is past 24 hours', async () => {
    const owner = await signUpOwner(t);
    const idempotencyKey = unique('stale');
    const first = await t.call('POST', '/v1/me/tokens', {
      cookie: owner.cookie,
      body: { name: 'stale' },
      headers: key(idempotencyKey),
    });
    expect(first.status).toBe(201);
    const clock = await t.call('GET', '/v1/test-clock');
    const dayLater = new Date(Date.parse(clock.body.now) + 24 * 3600 * 1000).toISOString();
    expect((await t.call('POST', '/v1/test-clock/advance', { body: { to: dayLater } })).status).toBe(200);
    // The session idled out over the day; a new login is the same caller.
    const login = await t.call('POST', '/v1/auth/login', {
      body: { email: owner.email, password: owner.password, org_id: owner.orgId },
    });
    const cookie = login.cookie as string;
    const responses = await Promise.all(
      Array.from({ length: 5 }, () =>
        t.call('POST', '/v1/me/tokens', { cookie, body: { name: 'stale' }, headers: key(idempotencyKey) }),
      ),
    );
    const created = responses.filter((response) => response.status === 201);
    expect(created.length + responses.filter((response) => response.status === 409).length).toBe(5);
    expect(new Set(created.map((response) => response.body.id)).size).toBe(1);
    expect(created[0].body.id).not.toBe(first.body.id);
    expect(await tokenIds(cookie)).toHaveLength(2);
  });
});
