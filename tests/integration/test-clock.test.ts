import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestInstance, signUpOwner, type TestInstance } from '../helpers/instance.ts';

const START = '2027-05-10T08:30:00.000Z';

describe('the test clock', () => {
  let t: TestInstance;
  beforeAll(async () => {
    t = await createTestInstance({ start: START });
  });
  afterAll(async () => {
    await t.close();
  });

  it('starts at the given instant and stands still between requests', async () => {
    const first = await t.call('GET', '/v1/test-clock');
    expect(first.status).toBe(200);
    expect(first.body.now).toBe(START);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const owner = await signUpOwner(t);
    const second = await t.call('GET', '/v1/test-clock');
    expect(second.body.now).toBe(START);
    const org = await t.call('GET', `/v1/orgs/${owner.orgId}`, { cookie: owner.cookie });
    expect(org.body.created_at).toBe(START);
  });

  it('moves forward on advance, and everything after happens at the new instant', async () => {
    const to = '2027-05-11T09:00:00.000Z';
    const advance = await t.call('POST', '/v1/test-clock/advance', { body: { to } });
    expect(advance.status).toBe(200);
    expect(advance.body.now).toBe(to);
    expect(advance.body).toHaveProperty('processed');
    const now = await t.call('GET', '/v1/test-clock');
    expect(now.body.now).toBe(to);
    const owner = await signUpOwner(t);
    const org = await t.call('GET', `/v1/orgs/${owner.orgId}`, { cookie: owner.cookie });
    expect(org.body.created_at).toBe(to);
    // Advancing to the instant it is already at is allowed and changes nothing.
    const same = await t.call('POST', '/v1/test-clock/advance', { body: { to } });
    expect(same.status).toBe(200);
    expect(same.body.now).toBe(to);
    const offset = await t.call('POST', '/v1/test-clock/advance', { body: { to: '2027-05-11T11:00:00+02:00' } });
    expect(offset.status).toBe(200);
    expect(offset.body.now).toBe(to);
  });

  it('refuses to move backwards with a 400 naming to', async () => {
    const before = await t.call('GET', '/v1/test-clock');
    const back = await t.call('POST', '/v1/test-clock/advance', { body: { to: START } });
    expect(back.status).toBe(400);
    expect(back.body.error.code).toBe('validation_failed');
    expect(back.body.error.field).toBe('to');
    expect((await t.call('GET', '/v1/test-clock')).body.now).toBe(before.body.now);
  });

  it('refuses an instant that is not RFC 3339 with a 400 naming to', async () => {
    const before = await t.call('GET', '/v1/test-clock');
    for (const to of ['tomorrow', '2028-01-01', '2028-01-01 00:00:00', '2028-13-01T00:00:00Z', '', 1893456000000]) {
      const response = await t.call('POST', '/v1/test-clock/advance', { body: { to } });
      expect(response.status, String(to)).toBe(400);
      expect(response.body.error.code).toBe('validation_failed');
      expect(response.body.error.field, String(to)).toBe('to');
    }
    const missing = await t.call('POST', '/v1/test-clock/advance', { body: {} });
    expect(missing.status).toBe(400);
    expect(missing.body.error.field).toBe('to');
    expect((await t.call('GET', '/v1/test-clock')).body.now).toBe(before.body.now);
  });
});

describe('without the test clock', () => {
  let t: TestInstance;
  beforeAll(async () => {
    t = await createTestInstance({ testClock: false });
  });
  afterAll(async () => {
    await t.close();
  });

  it('answers 404 on both endpoints and runs on the real time', async () => {
    const get = await t.call('GET', '/v1/test-clock');
    expect(get.status).toBe(404);
    expect(get.body.error.code).toBe('not_found');
    const advance = await t.call('POST', '/v1/test-clock/advance', { body: { to: '2099-01-01T00:00:00.000Z' } });
    expect(advance.status).toBe(404);
    expect(advance.body.error.code).toBe('not_found');
    const before = Date.now();
    const owner = await signUpOwner(t);
    const org = await t.call('GET', `/v1/orgs/${owner.orgId}`, { cookie: owner.cookie });
    const createdAt = Date.parse(org.body.created_at);
    expect(createdAt).toBeGreaterThanOrEqual(before - 1000);
    expect(createdAt).toBeLessThanOrEqual(Date.now() + 1000);
  });
});
