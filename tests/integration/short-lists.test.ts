import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestInstance, logInAdmin, type Owner, signUpOwner, type TestInstance } from '../helpers/instance.ts';

let t: TestInstance;
let owner: Owner;

beforeAll(async () => {
  t = await createTestInstance();
  owner = await signUpOwner(t);
  await logInAdmin(t);
  for (let i = 0; i < 3; i++) {
    // Each at its own instant, so "newest first" has one answer.
    await t.call('POST', '/v1/test-clock/advance', { body: { to: `2027-01-01T0${i + 1}:00:00.000Z` } });
    const login = await t.call('POST', '/v1/auth/login', { body: { email: owner.email, password: owner.password } });
    owner.cookie = login.cookie as string;
    expect(
      (
        await t.call('POST', `/v1/orgs/${owner.orgId}/teams`, {
          cookie: owner.cookie,
          body: { name: `team ${i}`, roles: ['member'] },
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await t.call('POST', `/v1/orgs/${owner.orgId}/invitations`, {
          cookie: owner.cookie,
          body: { email: `p${i}@example.com`, roles: ['member'] },
        })
      ).status,
    ).toBe(201);
    expect(
      (await t.call('POST', `/v1/orgs/${owner.orgId}/runtimes`, { cookie: owner.cookie, body: { name: `rt ${i}` } }))
        .status,
    ).toBe(201);
  }
});
afterAll(async () => {
  await t.close();
});

describe('short lists page with limit and cursor', () => {
  for (const [path, field] of [
    ['teams', 'name'],
    ['invitations', 'email'],
    ['runtimes', 'name'],
  ] as const) {
    it(`${path}: newest first, two pages, nothing twice, the same items as one page`, async () => {
      const whole = await t.call('GET', `/v1/orgs/${owner.orgId}/${path}`, { cookie: owner.cookie });
      expect(whole.status).toBe(200);
      expect(whole.body.next_cursor).toBeNull();
      const first = await t.call('GET', `/v1/orgs/${owner.orgId}/${path}?limit=2`, { cookie: owner.cookie });
      expect(first.status).toBe(200);
      expect(first.body.data).toHaveLength(2);
      expect(first.body.next_cursor).toEqual(expect.any(String));
      const second = await t.call('GET', `/v1/orgs/${owner.orgId}/${path}?limit=2&cursor=${first.body.next_cursor}`, {
        cookie: owner.cookie,
      });
      expect(second.body.data).toHaveLength(1);
      expect(second.body.next_cursor).toBeNull();
      const paged = [...first.body.data, ...second.body.data].map((item: Record<string, string>) => item[field]);
      expect(paged).toEqual([...paged].sort().reverse());
      expect(new Set(paged)).toEqual(new Set(whole.body.data.map((item: Record<string, string>) => item[field])));
    });
  }

  it('refuses a bad cursor or limit with a 400 naming the field', async () => {
    const badCursor = await t.call('GET', `/v1/orgs/${owner.orgId}/teams?cursor=nonsense`, { cookie: owner.cookie });
    expect(badCursor.status).toBe(400);
    expect(badCursor.body.error.field).toBe('cursor');
    const badLimit = await t.call('GET', `/v1/orgs/${owner.orgId}/members?limit=0`, { cookie: owner.cookie });
    expect(badLimit.status).toBe(400);
    expect(badLimit.body.error.field).toBe('limit');
  });
});
