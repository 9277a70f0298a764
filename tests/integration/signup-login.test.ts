import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emailLocks } from '../../src/db/schema/index.ts';
import { createTestInstance, logInAdmin, signUpOwner, type TestInstance } from '../helpers/instance.ts';

let t: TestInstance;
beforeAll(async () => {
  t = await createTestInstance();
});
afterAll(async () => {
  await t.close();
});

describe('sign-up', () => {
  it('creates the user, the org with its owner, a control plane, and logs in', async () => {
    const response = await t.call('POST', '/v1/signup', {
      body: {
        email: '  Ada@Example.COM ',
        password: 'correct-horse-battery',
        full_name: 'Ada',
        org_name: 'Analytical',
      },
    });
    expect(response.status).toBe(201);
    expect(response.body.user.email).toBe('ada@example.com');
    expect(response.body.org).toMatchObject({
      name: 'Analytical',
      email: 'ada@example.com',
      status: 'active',
      plan: 'free',
    });
    expect(response.body.org.id).toMatch(/^org_/);
    expect(response.body.user.id).toMatch(/^usr_/);
    expect(response.body.org.last_login_at).toBe(response.body.org.created_at);
    const cookie = response.headers['set-cookie'] as string;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    expect(cookie).toMatch(/Secure/);
    const me = await t.call('GET', '/v1/me', { cookie: response.cookie });
    expect(me.status).toBe(200);
    expect(me.body.roles).toEqual(['owner']);
    expect(me.body.org.id).toBe(response.body.org.id);
  });

  it('opens another org for an existing user who gives the right password', async () => {
    const owner = await signUpOwner(t);
    const again = await t.call('POST', '/v1/signup', {
      body: { email: owner.email.toUpperCase(), password: owner.password, full_name: 'x', org_name: 'Second' },
    });
    expect(again.status).toBe(201);
    expect(again.body.user.id).toBe(owner.userId);
    expect(again.body.org.id).not.toBe(owner.orgId);
    const me = await t.call('GET', '/v1/me', { cookie: again.cookie });
    expect(me.body.orgs.map((o: { id: string }) => o.id).sort()).toEqual([owner.orgId, again.body.org.id].sort());
  });

  it('answers 409 email_taken with a wrong password, creating nothing', async () => {
    const owner = await signUpOwner(t);
    const again = await t.call('POST', '/v1/signup', {
      body: { email: owner.email, password: 'wrong-password-1', full_name: 'x', org_name: 'Nope' },
    });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('email_taken');
    const search = await t.call('GET', '/v1/admin/orgs?query=Nope', { cookie: await logInAdmin(t) });
    expect(search.body.data).toHaveLength(0);
  });

  it('answers 409 email_locked for a locked email before anything else is checked', async () => {
    const owner = await signUpOwner(t);
    await t.deps.db
      .insert(emailLocks)
      .values({ id: 'elk_test', email: owner.email, orgId: owner.orgId, reason: 'inactivity', createdAt: new Date() });
    for (const password of [owner.password, 'wrong-password-1', 'short']) {
      const response = await t.call('POST', '/v1/signup', {
        body: { email: owner.email.toUpperCase(), password, full_name: 'x', org_name: 'Locked' },
      });
      expect(response.status).toBe(409);
      expect(response.body.error.code).toBe('email_locked');
    }
  });

  it('refuses bad fields with a 400 naming the field', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ password: 'correct-horse', full_name: 'a', org_name: 'b' }, 'email'],
      [{ email: 'not-an-email', password: 'correct-horse', full_name: 'a', org_name: 'b' }, 'email'],
      [{ email: 'short@example.com', password: 'short', full_name: 'a', org_name: 'b' }, 'password'],
      [{ email: 'long@example.com', password: 'x'.repeat(129), full_name: 'a', org_name: 'b' }, 'password'],
      [{ email: 'name@example.com', password: 'correct-horse', full_name: 'a' }, 'org_name'],
      [{ email: 'num@example.com', password: 'correct-horse', full_name: 'a', org_name: 42 }, 'org_name'],
    ];
    for (const [body, field] of cases) {
      const response = await t.call('POST', '/v1/signup', { body });
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body.error.code).toBe('validation_failed');
      expect(response.body.error.field).toBe(field);
    }
  });

  it('answers 400 invalid_json for a body that is not JSON', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/v1/signup',
      headers: { 'content-type': 'application/json' },
      payload: '{"email":',
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.code).toBe('invalid_json');
  });
});

describe('login', () => {
  it('logs into the named org and records the login', async () => {
    const owner = await signUpOwner(t);
    await t.call('POST', '/v1/test-clock/advance', { body: { to: '2027-01-02T00:00:00.000Z' } });
    const login = await t.call('POST', '/v1/auth/login', {
      body: { email: owner.email, password: owner.password, org_id: owner.orgId },
    });
    expect(login.status).toBe(200);
    expect(login.body.org.id).toBe(owner.orgId);
    expect(login.body.org.last_login_at).toBe('2027-01-02T00:00:00.000Z');
    expect(login.body.roles).toEqual(['owner']);
  });

  it('answers 401 invalid_credentials for a wrong password or unknown email', async () => {
    const owner = await signUpOwner(t);
    const wrong = await t.call('POST', '/v1/auth/login', { body: { email: owner.email, password: 'nope-nope-nope' } });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe('invalid_credentials');
    const unknown = await t.call('POST', '/v1/auth/login', {
      body: { email: 'nobody@example.com', password: 'nope-nope-nope' },
    });
    expect(unknown.status).toBe(401);
  });

  it('answers 404 for an org the user is not in', async () => {
    const a = await signUpOwner(t);
    const b = await signUpOwner(t);
    const login = await t.call('POST', '/v1/auth/login', {
      body: { email: a.email, password: a.password, org_id: b.orgId },
    });
    expect(login.status).toBe(404);
  });

  it('rate limits failures per account with 429 and Retry-After', async () => {
    const owner = await signUpOwner(t);
    for (let i = 0; i < 5; i++) {
      const r = await t.call('POST', '/v1/auth/login', { body: { email: owner.email, password: 'bad-password-x' } });
      expect(r.status).toBe(401);
    }
    const limited = await t.call('POST', '/v1/auth/login', { body: { email: owner.email, password: owner.password } });
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe('rate_limited');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('rate limits failures per address across accounts', async () => {
    const headers = { 'x-forwarded-for': '203.0.113.9' };
    const instance = t;
    let limited = 0;
    for (let i = 0; i < 52; i++) {
      const r = await instance.app.inject({
        method: 'POST',
        url: '/v1/auth/login',
        remoteAddress: '203.0.113.9',
        headers,
        payload: { email: `spray${i}@example.com`, password: 'bad-password-x' },
      });
      if (r.statusCode === 429) limited++;
    }
    expect(limited).toBeGreaterThan(0);
  });

  it('behind a trusted proxy, limits each client address, not the proxy', async () => {
    const proxied = await createTestInstance({ env: { TIERLINE_TRUST_PROXY: '10.0.0.0/8' } });
    try {
      const attempt = (client: string, i: number) =>
        proxied.app.inject({
          method: 'POST',
          url: '/v1/auth/login',
          remoteAddress: '10.1.2.3',
          headers: { 'x-forwarded-for': client },
          payload: { email: `spray${i}@example.com`, password: 'bad-password-x' },
        });
      let limited = 0;
      for (let i = 0; i < 52; i++) if ((await attempt('198.51.100.7', i)).statusCode === 429) limited++;
      expect(limited).toBeGreaterThan(0);
      // Another client behind the same proxy is not limited by the first one's failures.
      expect((await attempt('198.51.100.8', 99)).statusCode).toBe(401);
      // An address the proxy did not vouch for is ignored: a client cannot pick its own address.
      const direct = await proxied.app.inject({
        method: 'POST',
        url: '/v1/auth/login',
        remoteAddress: '198.51.100.7',
        headers: { 'x-forwarded-for': '198.51.100.9' },
        payload: { email: 'spray-direct@example.com', password: 'bad-password-x' },
      });
      expect(direct.statusCode).toBe(429);
    } finally {
      await proxied.close();
    }
  });

  it('logs out: the session no longer works', async () => {
    const owner = await signUpOwner(t);
    const out = await t.call('POST', '/v1/auth/logout', { cookie: owner.cookie });
    expect(out.status).toBe(204);
    const me = await t.call('GET', '/v1/me', { cookie: owner.cookie });
    expect(me.status).toBe(401);
  });

  it('refuses a cookie-authenticated POST from another site', async () => {
    const owner = await signUpOwner(t);
    const response = await t.call('POST', '/v1/me/tokens', {
      cookie: owner.cookie,
      body: { name: 'ci' },
      headers: { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
    });
    expect(response.status).toBe(403);
    expect(response.body.error.code).toBe('cross_site_request');
    const sameSite = await t.call('POST', '/v1/me/tokens', {
      cookie: owner.cookie,
      body: { name: 'ci' },
      headers: { 'sec-fetch-site': 'same-origin' },
    });
    expect(sameSite.status).toBe(201);
  });
});
