import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureAdminStaff } from '../../src/modules/identity/staff.ts';
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

/** Moves the test clock forward by some milliseconds, so that rows get distinct instants. */
async function advanceBy(ms: number) {
  const clock = await t.call('GET', '/v1/test-clock');
  const to = new Date(Date.parse(clock.body.now) + ms).toISOString();
  const advance = await t.call('POST', '/v1/test-clock/advance', { body: { to } });
  expect(advance.status).toBe(200);
  return to;
}

async function createStaff(roles: string[], cookie = admin) {
  const email = `${unique(roles.join('-'))}@tierline.test`;
  const response = await t.call('POST', '/v1/admin/staff', {
    cookie,
    body: { email, password: 'staff-password-1', full_name: `Staff ${roles.join(' ')}`, roles },
  });
  return { response, email, password: 'staff-password-1' };
}

async function logInStaff(email: string, password: string) {
  const login = await t.call('POST', '/v1/auth/login', { body: { email, password } });
  expect(login.status).toBe(200);
  return login;
}

describe('staff sessions and staff management', () => {
  it('logs the admin in without an org: GET /v1/me shows the staff roles', async () => {
    const login = await t.call('POST', '/v1/auth/login', {
      body: { email: 'admin@tierline.test', password: 'admin-password-1' },
    });
    expect(login.status).toBe(200);
    expect(login.body.org).toBeNull();
    expect(login.body.staff_roles).toEqual(['admin']);
    expect(login.cookie).toBeDefined();
    const me = await t.call('GET', '/v1/me', { cookie: login.cookie });
    expect(me.status).toBe(200);
    expect(me.body.user.email).toBe('admin@tierline.test');
    expect(me.body.staff_roles).toEqual(['admin']);
    expect(me.body).not.toHaveProperty('org');
  });

  it('lets an admin create support and sales staff, who can log in', async () => {
    for (const role of ['support', 'sales']) {
      const { response, email, password } = await createStaff([role]);
      expect(response.status).toBe(201);
      expect(response.body.user.email).toBe(email.toLowerCase());
      expect(response.body.user.id).toMatch(/^usr_/);
      expect(response.body.user).not.toHaveProperty('password_hash');
      expect(response.body.staff_roles).toEqual([role]);
      const login = await logInStaff(email, password);
      expect(login.body.staff_roles).toEqual([role]);
      const me = await t.call('GET', '/v1/me', { cookie: login.cookie });
      expect(me.body).toMatchObject({ user: { id: response.body.user.id }, staff_roles: [role] });
    }
  });

  it('lists staff for an admin', async () => {
    const { response } = await createStaff(['support', 'sales']);
    const list = await t.call('GET', '/v1/admin/staff', { cookie: admin });
    expect(list.status).toBe(200);
    expect(list.body.next_cursor).toBeNull();
    const emails = list.body.data.map((entry: { user: { email: string } }) => entry.user.email);
    expect(emails).toContain('admin@tierline.test');
    expect(emails).toContain(response.body.user.email);
    const created = list.body.data.find((entry: { user: { id: string } }) => entry.user.id === response.body.user.id);
    expect(created.staff_roles).toEqual(['support', 'sales']);
    const owner = await signUpOwner(t);
    expect(emails).not.toContain(owner.email);
    const after = await t.call('GET', '/v1/admin/staff', { cookie: admin });
    expect(after.body.data.map((entry: { user: { email: string } }) => entry.user.email)).not.toContain(owner.email);
  });

  it('refuses to create staff for support staff, org users and anonymous callers', async () => {
    const support = await createStaff(['support']);
    const supportLogin = await logInStaff(support.email, support.password);
    const bySupport = await createStaff(['sales'], supportLogin.cookie as string);
    expect(bySupport.response.status).toBe(403);
    expect(bySupport.response.body.error.code).toBe('insufficient_staff_role');
    const listBySupport = await t.call('GET', '/v1/admin/staff', { cookie: supportLogin.cookie });
    expect(listBySupport.status).toBe(403);
    expect(listBySupport.body.error.code).toBe('insufficient_staff_role');
    const owner = await signUpOwner(t);
    const byOwner = await createStaff(['admin'], owner.cookie);
    expect(byOwner.response.status).toBe(403);
    expect(byOwner.response.body.error.code).toBe('staff_required');
    const anonymous = await t.call('POST', '/v1/admin/staff', {
      body: { email: 'x@tierline.test', password: 'staff-password-1', full_name: 'X', roles: ['admin'] },
    });
    expect(anonymous.status).toBe(401);
  });

  it('refuses bad staff fields and a taken email', async () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ password: 'staff-password-1', full_name: 'A', roles: ['support'] }, /^email$/],
      [{ email: 'not-an-email', password: 'staff-password-1', full_name: 'A', roles: ['support'] }, /^email$/],
      [{ email: 'a1@tierline.test', password: 'short', full_name: 'A', roles: ['support'] }, /^password$/],
      [{ email: 'a2@tierline.test', password: 'staff-password-1', full_name: 'A', roles: [] }, /^roles$/],
      [{ email: 'a3@tierline.test', password: 'staff-password-1', full_name: 'A', roles: ['owner'] }, /^roles/],
      [{ email: 'a4@tierline.test', password: 'staff-password-1', full_name: 'A' }, /^roles$/],
      [{ email: 'a5@tierline.test', password: 'staff-password-1', roles: ['sales'] }, /^full_name$/],
    ];
    for (const [body, field] of cases) {
      const response = await t.call('POST', '/v1/admin/staff', { cookie: admin, body });
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body.error.code).toBe('validation_failed');
      expect(response.body.error.field, JSON.stringify(body)).toMatch(field);
    }
    const owner = await signUpOwner(t);
    const taken = await t.call('POST', '/v1/admin/staff', {
      cookie: admin,
      body: { email: owner.email, password: 'staff-password-1', full_name: 'Dup', roles: ['support'] },
    });
    expect(taken.status).toBe(409);
    expect(taken.body.error.code).toBe('email_taken');
  });

  it('keeps org users and anonymous callers out of /v1/admin/*', async () => {
    const owner = await signUpOwner(t);
    const created = await t.call('POST', '/v1/me/tokens', { cookie: owner.cookie, body: { name: 'ci' } });
    for (const path of ['/v1/admin/orgs?query=x', '/v1/admin/outbox', '/v1/admin/staff']) {
      const bySession = await t.call('GET', path, { cookie: owner.cookie });
      expect(bySession.status, path).toBe(403);
      expect(bySession.body.error.code).toBe('staff_required');
      const byToken = await t.call('GET', path, { token: created.body.token });
      expect(byToken.status, path).toBe(403);
      expect(byToken.body.error.code).toBe('staff_required');
      const anonymous = await t.call('GET', path);
      expect(anonymous.status, path).toBe(401);
      expect(anonymous.body.error.code).toBe('unauthenticated');
    }
  });
});

describe('staff search', () => {
  it('finds orgs by name (case-insensitive), by email and by exact id', async () => {
    const name = unique('Searchable');
    const owner = await signUpOwner(t, { org_name: name });
    const decoy = await signUpOwner(t);
    const byName = await t.call('GET', `/v1/admin/orgs?query=${encodeURIComponent(name.toUpperCase())}`, {
      cookie: admin,
    });
    expect(byName.status).toBe(200);
    expect(byName.body.data.map((org: { id: string }) => org.id)).toEqual([owner.orgId]);
    expect(byName.body.data[0]).toMatchObject({ name, email: owner.email, status: 'active', plan: 'free' });
    const byEmail = await t.call('GET', `/v1/admin/orgs?query=${encodeURIComponent(owner.email)}`, { cookie: admin });
    expect(byEmail.body.data.map((org: { id: string }) => org.id)).toEqual([owner.orgId]);
    const byId = await t.call('GET', `/v1/admin/orgs?query=${owner.orgId}`, { cookie: admin });
    expect(byId.body.data.map((org: { id: string }) => org.id)).toEqual([owner.orgId]);
    const byPartialId = await t.call('GET', `/v1/admin/orgs?query=${decoy.orgId.slice(0, -1).toLowerCase()}x`, {
      cookie: admin,
    });
    expect(byPartialId.body.data).toHaveLength(0);
    const nothing = await t.call('GET', `/v1/admin/orgs?query=${unique('nothing')}`, { cookie: admin });
    expect(nothing.body).toEqual({ data: [], next_cursor: null });
    const wildcard = await t.call('GET', `/v1/admin/orgs?query=${encodeURIComponent('%')}`, { cookie: admin });
    expect(wildcard.body.data).toHaveLength(0);
  });

  it('paginates with limit and cursor, newest first', async () => {
    const prefix = unique('Paged');
    const created: string[] = [];
    for (let i = 0; i < 5; i++) {
      await advanceBy(60_000);
      created.push((await signUpOwner(t, { org_name: `${prefix} ${i}` })).orgId);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const url: string = `/v1/admin/orgs?query=${encodeURIComponent(prefix)}&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const page = await t.call('GET', url, { cookie: admin });
      expect(page.status).toBe(200);
      expect(page.body.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.data.map((org: { id: string }) => org.id));
      cursor = page.body.next_cursor;
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(cursor).toBeNull();
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual([...created].reverse());
  });

  it('orders orgs created at the same instant stably across pages', async () => {
    const prefix = unique('Same');
    for (let i = 0; i < 5; i++) await signUpOwner(t, { org_name: `${prefix} ${i}` });
    const all = await t.call('GET', `/v1/admin/orgs?query=${prefix}&limit=100`, { cookie: admin });
    expect(all.body.data).toHaveLength(5);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const url: string = `/v1/admin/orgs?query=${prefix}&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const page = await t.call('GET', url, { cookie: admin });
      seen.push(...page.body.data.map((org: { id: string }) => org.id));
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(seen).toEqual(all.body.data.map((org: { id: string }) => org.id));
  });

  it('answers 400 naming cursor or limit for bad paging', async () => {
    for (const cursor of ['not-a-cursor', Buffer.from('yesterday|org_x').toString('base64url')]) {
      const response = await t.call('GET', `/v1/admin/orgs?cursor=${cursor}`, { cookie: admin });
      expect(response.status).toBe(400);
      expect(response.body.error.code).toBe('validation_failed');
      expect(response.body.error.field).toBe('cursor');
    }
    for (const limit of ['0', '101', 'ten']) {
      const response = await t.call('GET', `/v1/admin/orgs?limit=${limit}`, { cookie: admin });
      expect(response.status, limit).toBe(400);
      expect(response.body.error.field).toBe('limit');
    }
  });
});

describe('staff outbox', () => {
  it('lists the emails sent to an address', async () => {
    const owner = await signUpOwner(t);
    const invitee = `${unique('invitee')}@example.com`;
    const clock = await t.call('GET', '/v1/test-clock');
    const invitation = await t.call('POST', `/v1/orgs/${owner.orgId}/invitations`, {
      cookie: owner.cookie,
      body: { email: invitee.toUpperCase(), roles: ['member'] },
    });
    expect(invitation.status).toBe(201);
    const outbox = await t.call('GET', `/v1/admin/outbox?to=${encodeURIComponent(invitee)}`, { cookie: admin });
    expect(outbox.status).toBe(200);
    expect(outbox.body.next_cursor).toBeNull();
    expect(outbox.body.data).toHaveLength(1);
    expect(outbox.body.data[0]).toMatchObject({ to: invitee, kind: 'invitation', created_at: clock.body.now });
    expect(outbox.body.data[0].subject).toEqual(expect.any(String));
    const upperCase = await t.call('GET', `/v1/admin/outbox?to=${encodeURIComponent(invitee.toUpperCase())}`, {
      cookie: admin,
    });
    expect(upperCase.body.data).toHaveLength(1);
    const other = await t.call('GET', `/v1/admin/outbox?to=${encodeURIComponent(owner.email)}`, { cookie: admin });
    expect(other.body.data).toHaveLength(0);
  });
});

describe('the org', () => {
  it('is shown to its members with the spec fields', async () => {
    const owner = await signUpOwner(t);
    const response = await t.call('GET', `/v1/orgs/${owner.orgId}`, { cookie: owner.cookie });
    expect(response.status).toBe(200);
    for (const field of [
      'id',
      'name',
      'email',
      'status',
      'plan',
      'created_at',
      'last_login_at',
      'deactivated_at',
      'deactivation_reason',
      'projected_deactivation_at',
    ]) {
      expect(response.body, field).toHaveProperty(field);
    }
    expect(response.body).toMatchObject({
      id: owner.orgId,
      email: owner.email,
      status: 'active',
      plan: 'free',
      deactivated_at: null,
      deactivation_reason: null,
    });
  });

  it('is a 404 for another org’s member, and a 401 without a session', async () => {
    const owner = await signUpOwner(t);
    const stranger = await signUpOwner(t);
    const response = await t.call('GET', `/v1/orgs/${owner.orgId}`, { cookie: stranger.cookie });
    expect(response.status).toBe(404);
    expect(response.body.error.code).toBe('not_found');
    expect(JSON.stringify(response.body)).not.toContain(owner.email);
    expect((await t.call('GET', '/v1/orgs/org_doesnotexist', { cookie: stranger.cookie })).status).toBe(404);
    expect((await t.call('GET', `/v1/orgs/${owner.orgId}`)).status).toBe(401);
  });

  it('has an audit log that starts with org.created and paginates newest first', async () => {
    const owner = await signUpOwner(t);
    const first = await t.call('GET', `/v1/orgs/${owner.orgId}/audit-events`, { cookie: owner.cookie });
    expect(first.status).toBe(200);
    const created = first.body.data.find((event: { action: string }) => event.action === 'org.created');
    expect(created).toMatchObject({
      actor: { type: 'user', id: owner.userId },
      target: { type: 'org', id: owner.orgId },
    });
    expect(Date.parse(created.created_at)).not.toBeNaN();
    for (let i = 0; i < 3; i++) {
      await advanceBy(1000);
      const token = await t.call('POST', '/v1/me/tokens', { cookie: owner.cookie, body: { name: `t${i}` } });
      expect(token.status).toBe(201);
    }
    const all = await t.call('GET', `/v1/orgs/${owner.orgId}/audit-events?limit=100`, { cookie: owner.cookie });
    const times = all.body.data.map((event: { created_at: string }) => Date.parse(event.created_at));
    expect(times).toEqual([...times].sort((a, b) => b - a));
    expect(all.body.data[0].action).toBe('token.created');
    expect(all.body.data.at(-1).created_at).toBe(created.created_at);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const url: string = `/v1/orgs/${owner.orgId}/audit-events?limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const page = await t.call('GET', url, { cookie: owner.cookie });
      expect(page.status).toBe(200);
      expect(page.body.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.data.map((event: { id: string }) => event.id));
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(seen).toEqual(all.body.data.map((event: { id: string }) => event.id));
    const stranger = await signUpOwner(t);
    const foreign = await t.call('GET', `/v1/orgs/${owner.orgId}/audit-events`, { cookie: stranger.cookie });
    expect(foreign.status).toBe(404);
    const badCursor = await t.call('GET', `/v1/orgs/${owner.orgId}/audit-events?cursor=zzz`, { cookie: owner.cookie });
    expect(badCursor.status).toBe(400);
    expect(badCursor.body.error.field).toBe('cursor');
  });
});

describe('switching org', () => {
  it('moves the session to another org of the same user and records a login', async () => {
    const owner = await signUpOwner(t);
    const second = await t.call('POST', '/v1/signup', {
      body: { email: owner.email, password: owner.password, full_name: 'Owner', org_name: unique('Second') },
    });
    expect(second.status).toBe(201);
    const secondOrgId = second.body.org.id as string;
    const later = await advanceBy(3600_000);
    const switched = await t.call('POST', '/v1/auth/switch-org', {
      cookie: owner.cookie,
      body: { org_id: secondOrgId },
    });
    expect(switched.status).toBe(200);
    expect(switched.body.org.id).toBe(secondOrgId);
    expect(switched.body.roles).toEqual(['owner']);
    expect(switched.body.org.last_login_at).toBe(later);
    expect(switched.cookie).toBeDefined();
    const me = await t.call('GET', '/v1/me', { cookie: switched.cookie });
    expect(me.body.org.id).toBe(secondOrgId);
    const org = await t.call('GET', `/v1/orgs/${secondOrgId}`, { cookie: switched.cookie });
    expect(org.body.last_login_at).toBe(later);
    // The session of the first org was ended by the switch.
    expect((await t.call('GET', '/v1/me', { cookie: owner.cookie })).status).toBe(401);
  });

  it('answers 404 for an org the user is not in', async () => {
    const owner = await signUpOwner(t);
    const stranger = await signUpOwner(t);
    const switched = await t.call('POST', '/v1/auth/switch-org', {
      cookie: owner.cookie,
      body: { org_id: stranger.orgId },
    });
    expect(switched.status).toBe(404);
    expect(switched.body.error.code).toBe('not_found');
    const me = await t.call('GET', '/v1/me', { cookie: owner.cookie });
    expect(me.body.org.id).toBe(owner.orgId);
    const missing = await t.call('POST', '/v1/auth/switch-org', { cookie: owner.cookie, body: {} });
    expect(missing.status).toBe(400);
    expect(missing.body.error.field).toBe('org_id');
  });
});

describe('the admin from the environment', () => {
  it('is created once when several processes start together, and can log in', async () => {
    const email = `${unique('ops')}@example.com`;
    const now = await t.deps.clock.now();
    const ids = await Promise.all(
      Array.from({ length: 4 }, () => ensureAdminStaff(t.deps.db, now, email.toUpperCase(), 'a-long-password-1')),
    );
    expect(new Set(ids).size).toBe(1);
    const login = await t.call('POST', '/v1/auth/login', { body: { email, password: 'a-long-password-1' } });
    expect(login.status).toBe(200);
    const me = await t.call('GET', '/v1/me', { cookie: login.cookie });
    expect(me.body.staff_roles).toEqual(['admin']);
  });

  it('adds the admin role to an existing user once, keeping their password', async () => {
    const owner = await signUpOwner(t);
    const now = await t.deps.clock.now();
    await ensureAdminStaff(t.deps.db, now, owner.email, 'another-password-2');
    await ensureAdminStaff(t.deps.db, now, owner.email, 'another-password-2');
    const login = await t.call('POST', '/v1/auth/login', { body: { email: owner.email, password: owner.password } });
    expect(login.status).toBe(200);
    const me = await t.call('GET', '/v1/me', { cookie: login.cookie });
    expect(me.body.staff_roles).toEqual(['admin']);
  });
});
