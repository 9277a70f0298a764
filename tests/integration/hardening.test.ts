import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEvents } from '../../src/db/schema/index.ts';
import {
  allAuditEvents,
  createTestInstance,
  expectValidation,
  signUpOwner,
  type TestInstance,
} from '../helpers/instance.ts';

const HOUR = 3_600_000;

describe('hardening', () => {
  let t: TestInstance;
  beforeAll(async () => {
    t = await createTestInstance({ start: '2027-05-03T08:00:00.000Z' });
  });
  afterAll(async () => {
    await t?.close();
  });

  async function now() {
    return Date.parse((await t.call('GET', '/v1/test-clock')).body.now);
  }
  async function advanceBy(ms: number) {
    const response = await t.call('POST', '/v1/test-clock/advance', {
      body: { to: new Date((await now()) + ms).toISOString() },
    });
    expect(response.status).toBe(200);
  }

  it('sends security headers with API answers', async () => {
    const response = await t.call('GET', '/v1/plans');
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(response.headers['referrer-policy']).toBe('no-referrer');
    expect(response.headers['strict-transport-security']).toMatch(/^max-age=\d+/);
  });

  it('refuses one of the most common passwords at sign-up, naming the field, and creates nothing', async () => {
    for (const password of ['password123', 'Password1', 'qwertyuiop', '1q2w3e4r5t']) {
      const response = await t.call('POST', '/v1/signup', {
        body: { email: `common-${password}@example.com`, password, full_name: 'Common', org_name: 'Common' },
      });
      expectValidation(response, 'password');
      expect(response.body.error.message).toMatch(/most common/);
      const login = await t.call('POST', '/v1/auth/login', {
        body: { email: `common-${password}@example.com`, password },
      });
      expect(login.status).toBe(401);
    }
  });

  it('ends a session after 24 hours idle', async () => {
    const owner = await signUpOwner(t);
    await advanceBy(24 * HOUR - 1);
    expect((await t.call('GET', '/v1/me', { cookie: owner.cookie })).status).toBe(200);
    await advanceBy(24 * HOUR);
    expect((await t.call('GET', '/v1/me', { cookie: owner.cookie })).status).toBe(401);
  });

  it('ends a session 7 days after login however active it is', async () => {
    const owner = await signUpOwner(t);
    for (let hours = 0; hours < 7 * 24 - 12; hours += 12) {
      await advanceBy(12 * HOUR);
      expect((await t.call('GET', '/v1/me', { cookie: owner.cookie })).status).toBe(200);
    }
    await advanceBy(12 * HOUR);
    expect((await t.call('GET', '/v1/me', { cookie: owner.cookie })).status).toBe(401);
  });

  it('refuses a personal access token once it expired', async () => {
    const owner = await signUpOwner(t);
    const created = await t.call('POST', '/v1/me/tokens', {
      cookie: owner.cookie,
      body: { name: 'short-lived', expires_in_days: 1 },
    });
    expect(created.status).toBe(201);
    const token = created.body.token as string;
    expect((await t.call('GET', '/v1/me', { token })).status).toBe(200);
    await advanceBy(24 * HOUR);
    const expired = await t.call('GET', '/v1/me', { token });
    expect(expired.status).toBe(401);
    expect(expired.body.error.message).toMatch(/expired/);
  });

  it('audits logins into an org and failed logins', async () => {
    const owner = await signUpOwner(t);
    const failed = await t.call('POST', '/v1/auth/login', {
      body: { email: owner.email, password: 'not-the-password' },
    });
    expect(failed.status).toBe(401);
    const login = await t.call('POST', '/v1/auth/login', {
      body: { email: owner.email, password: owner.password, org_id: owner.orgId },
    });
    expect(login.status).toBe(200);
    const events = await allAuditEvents(t, owner, login.cookie as string);
    const logins = events.filter((event) => event.action === 'auth.login');
    expect(logins).toHaveLength(1);
    expect(logins[0].actor).toMatchObject({ type: 'user', id: owner.userId });
    // A failed login belongs to no org (the password was wrong): it is kept in the platform's audit log.
    const failures = await t.deps.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.action, 'auth.login_failed'), eq(auditEvents.targetId, owner.userId)));
    expect(failures).toHaveLength(1);
    expect(failures[0].after).toMatchObject({ email: owner.email, known_user: true });
  });

  it('refuses a body over 1 MiB with a 413 in the error shape', async () => {
    const response = await t.call('POST', '/v1/signup', {
      body: { email: 'big@example.com', password: 'x'.repeat(2 * 1024 * 1024), full_name: 'Big', org_name: 'Big' },
    });
    expect(response.status).toBe(413);
    expect(response.body.error.code).toMatch(/^[a-z_]+$/);
  });
});
