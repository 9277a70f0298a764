import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  billingHelpers,
  CARD_FAILS,
  DAY,
  expectError,
  expectStatus,
  HOUR,
  iso,
  line,
  ms,
  PLUS,
  plusMonths,
  prorated,
} from '../helpers/billing.ts';
import {
  createTestInstance,
  expectValidation,
  joinOrg,
  type Owner,
  signUpOwner,
  type TestInstance,
} from '../helpers/instance.ts';

// Spec 8: staff deactivation with each of its effects, reactivation, email locks and the staff view,
// all checked through the API as the people involved would check them.

const MEMBER_PASSWORD = 'member-password-1';

let t: TestInstance;
let h: ReturnType<typeof billingHelpers>;

/** Moves the test clock forward by some milliseconds (no login on the way). */
async function advanceBy(delta: number) {
  const now = await h.now();
  const response = await t.call('POST', '/v1/test-clock/advance', { body: { to: iso(ms(now) + delta) } });
  expectStatus(response, 200);
  return response.body.now as string;
}

async function logIn(person: { email: string; password?: string }, orgId?: string) {
  return t.call('POST', '/v1/auth/login', {
    body: { email: person.email, password: person.password ?? MEMBER_PASSWORD, ...(orgId ? { org_id: orgId } : {}) },
  });
}

/** Creates staff with the roles and logs them in; returns their id and session. */
async function staffWith(roles: string[]) {
  const email = `staff-${roles.join('-')}-${Math.random().toString(36).slice(2, 8)}@tierline.test`;
  const created = await t.call('POST', '/v1/admin/staff', {
    cookie: await h.staff(),
    body: { email, password: 'staff-password-1', full_name: `Staff ${roles.join(' ')}`, roles },
  });
  expectStatus(created, 201);
  const login = await t.call('POST', '/v1/auth/login', { body: { email, password: 'staff-password-1' } });
  expectStatus(login, 200);
  return { userId: created.body.user.id as string, cookie: login.cookie as string };
}

/**
 * An org with everything deactivation touches: an org_admin, a plain member who is also in a team,
 * a system account with a token, the owner's personal token and a registered runtime.
 */
async function orgWithEverything() {
  const owner = await signUpOwner(t);
  const staff = await h.staff();
  const admin = await joinOrg(t, owner, ['org_admin'], staff);
  const member = await joinOrg(t, owner, ['member'], staff);
  const team = await t.call('POST', `/v1/orgs/${owner.orgId}/teams`, {
    cookie: owner.cookie,
    body: { name: 'Readers', roles: ['org_admin_read_only'] },
  });
  expectStatus(team, 201);
  expectStatus(
    await t.call('PUT', `/v1/orgs/${owner.orgId}/teams/${team.body.id}/members/${member.userId}`, {
      cookie: owner.cookie,
    }),
    200,
  );
  const account = await t.call('POST', `/v1/orgs/${owner.orgId}/system-accounts`, {
    cookie: owner.cookie,
    body: { name: 'Deploy bot', roles: ['org_admin'] },
  });
  expectStatus(account, 201);
  const accountToken = await t.call('POST', `/v1/orgs/${owner.orgId}/system-accounts/${account.body.id}/tokens`, {
    cookie: owner.cookie,
    body: { name: 'ci' },
  });
  expectStatus(accountToken, 201);
  const personalToken = await t.call('POST', '/v1/me/tokens', { cookie: owner.cookie, body: { name: 'cli' } });
  expectStatus(personalToken, 201);
  const gateway = await h.runtime(owner);
  const controlPlane = await t.call('GET', `/v1/orgs/${owner.orgId}/control-plane`, { cookie: owner.cookie });
  expectStatus(controlPlane, 200);
  return {
    owner,
    admin,
    member,
    teamId: team.body.id as string,
    accountId: account.body.id as string,
    accountToken: accountToken.body.token as string,
    personalToken: personalToken.body.token as string,
    gateway,
    controlPlaneId: controlPlane.body.id as string,
  };
}

async function deactivate(orgId: string, body: unknown = { reason: 'support_request' }, cookie?: string) {
  return t.call('POST', `/v1/admin/orgs/${orgId}/deactivate`, { cookie: cookie ?? (await h.staff()), body });
}

async function reactivate(orgId: string, body?: unknown, cookie?: string) {
  return t.call('POST', `/v1/admin/orgs/${orgId}/reactivate`, { cookie: cookie ?? (await h.staff()), body });
}

async function detail(orgId: string) {
  const response = await t.call('GET', `/v1/admin/orgs/${orgId}`, { cookie: await h.staff() });
  expectStatus(response, 200);
  return response.body;
}

/** The org's latest audit event of an action, read by support. */
async function latestEvent(orgId: string, action: string) {
  return (await detail(orgId)).audit_events.find((event: any) => event.action === action);
}

async function members(owner: Owner) {
  const response = await t.call('GET', `/v1/orgs/${owner.orgId}/members`, { cookie: owner.cookie });
  expectStatus(response, 200);
  return response.body.data as any[];
}

const rolesOf = async (owner: Owner, person: { userId: string }) =>
  (await members(owner)).find((entry) => entry.user_id === person.userId)?.effective_roles;

async function signUpWith(email: string, password: string) {
  return t.call('POST', '/v1/signup', {
    body: { email, password, full_name: 'Someone', org_name: `New ${Math.random().toString(36).slice(2, 8)}` },
  });
}

async function emailLocks() {
  const response = await t.call('GET', '/v1/admin/email-locks?limit=100', { cookie: await h.staff() });
  expectStatus(response, 200);
  return response.body.data as any[];
}

describe('staff deactivation (spec 8)', () => {
  beforeAll(async () => {
    t = await createTestInstance({ start: '2027-06-01T08:00:00.000Z' });
    h = billingHelpers(t);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('answers the deactivated org with its status, reason and instant', async () => {
    const owner = await signUpOwner(t);
    const now = await advanceBy(HOUR);
    const response = await deactivate(owner.orgId);
    expectStatus(response, 200);
    expect(response.body).toMatchObject({
      id: owner.orgId,
      status: 'deactivated',
      plan: 'free',
      deactivated_at: now,
      deactivation_reason: 'support_request',
      projected_deactivation_at: null,
    });
    expect((await detail(owner.orgId)).org).toMatchObject({ status: 'deactivated', deactivated_at: now });
  });

  it('refuses every login into the org with 403 org_deactivated and ends its sessions', async () => {
    const { owner, admin, member } = await orgWithEverything();
    expectStatus(await deactivate(owner.orgId), 200);
    for (const person of [owner, admin, member]) {
      expect((await t.call('GET', '/v1/me', { cookie: person.cookie })).status).toBe(401);
      expectError(await logIn(person, owner.orgId), 403, 'org_deactivated');
      // Their only org is deactivated: a login without an org is refused the same way.
      expectError(await logIn(person), 403, 'org_deactivated');
    }
    expect((await t.call('GET', `/v1/orgs/${owner.orgId}`, { cookie: owner.cookie })).status).toBe(401);
  });

  it('refuses personal and system-account tokens with 403 org_deactivated', async () => {
    const { owner, personalToken, accountToken } = await orgWithEverything();
    expectStatus(await t.call('GET', '/v1/me', { token: personalToken }), 200);
    expectStatus(await t.call('GET', `/v1/orgs/${owner.orgId}`, { token: accountToken }), 200);
    expectStatus(await deactivate(owner.orgId), 200);
    for (const token of [personalToken, accountToken]) {
      expectError(await t.call('GET', '/v1/me', { token }), 403, 'org_deactivated');
      expectError(await t.call('GET', `/v1/orgs/${owner.orgId}`, { token }), 403, 'org_deactivated');
      expectError(await t.call('GET', `/v1/orgs/${owner.orgId}/members`, { token }), 403, 'org_deactivated');
    }
  });

  it('decommissions the control plane: its runtimes get 403 control_plane_decommissioned', async () => {
    const { owner, gateway, controlPlaneId } = await orgWithEverything();
    expectStatus(await t.call('GET', '/v1/runtime/config', { token: gateway.token }), 200);
    const now = await h.now();
    expectStatus(await deactivate(owner.orgId), 200);
    expectError(
      await t.call('GET', '/v1/runtime/config', { token: gateway.token }),
      403,
      'control_plane_decommissioned',
    );
    expectError(await gateway.send({ [now]: 5 }), 403, 'control_plane_decommissioned');
    expect((await detail(owner.orgId)).control_plane).toMatchObject({
      id: controlPlaneId,
      status: 'decommissioned',
      decommissioned_at: now,
    });
  });

  it('removes every role and team membership, keeping a snapshot in the org.deactivated audit event', async () => {
    const { owner, admin, member, teamId, accountId } = await orgWithEverything();
    const support = await staffWith(['support']);
    const now = await h.now();
    expectStatus(await deactivate(owner.orgId, { reason: 'abuse' }, support.cookie), 200);
    const staffView = await detail(owner.orgId);
    for (const entry of staffView.members) {
      expect(entry, entry.email).toMatchObject({ roles: [], team_roles: [], effective_roles: [], teams: [] });
    }
    expect(staffView.members.map((entry: any) => entry.user_id).sort()).toEqual(
      [owner.userId, admin.userId, member.userId].sort(),
    );
    const event = await latestEvent(owner.orgId, 'org.deactivated');
    expect(event).toMatchObject({
      actor: { type: 'staff', id: support.userId },
      target: { type: 'org', id: owner.orgId },
      reason: 'abuse',
      created_at: now,
    });
    expect(event.before.access.roles).toEqual(
      expect.arrayContaining([
        { user_id: owner.userId, role: 'owner' },
        { user_id: admin.userId, role: 'org_admin' },
        { user_id: member.userId, role: 'member' },
      ]),
    );
    expect(event.before.access.roles).toHaveLength(3);
    expect(event.before.access.teams).toEqual([{ team_id: teamId, user_id: member.userId }]);
    expect(event.before.access.system_accounts).toEqual([{ id: accountId, roles: ['org_admin'] }]);
  });

  it('leaves the people’s other orgs and their own login working', async () => {
    const { owner, member } = await orgWithEverything();
    const other = await signUpOwner(t);
    const staff = await h.staff();
    // The same person is a member of another org, and the owner opened a second org of their own.
    // (A second later, so that this invitation is the newest email to them.)
    await advanceBy(1000);
    const invitation = await t.call('POST', `/v1/orgs/${other.orgId}/invitations`, {
      cookie: other.cookie,
      body: { email: member.email, roles: ['org_admin'] },
    });
    expectStatus(invitation, 201);
    const mail = (await t.call('GET', `/v1/admin/outbox?to=${encodeURIComponent(member.email)}`, { cookie: staff }))
      .body.data[0];
    const accepted = await t.call('POST', '/v1/invitations/accept', {
      body: { token: /token=(\S+)/.exec(mail.body)?.[1], password: MEMBER_PASSWORD },
    });
    expectStatus(accepted, 200);
    const second = await signUpWith(owner.email, owner.password);
    expectStatus(second, 201);

    expectStatus(await deactivate(owner.orgId), 200);
    const memberLogin = await logIn(member, other.orgId);
    expectStatus(memberLogin, 200);
    expect(memberLogin.body.roles).toEqual(['org_admin']);
    const memberDefault = await logIn(member);
    expectStatus(memberDefault, 200);
    expect(memberDefault.body.org.id).toBe(other.orgId);
    expectError(await logIn(member, owner.orgId), 403, 'org_deactivated');
    const ownerLogin = await logIn(owner, second.body.org.id);
    expectStatus(ownerLogin, 200);
    expect(ownerLogin.body.roles).toEqual(['owner']);
    expectStatus(await t.call('GET', '/v1/me', { cookie: second.cookie }), 200);
  });

  it('locks the org’s email: signing up with it answers 409 email_locked, in any case', async () => {
    const owner = await signUpOwner(t);
    expectStatus(await deactivate(owner.orgId), 200);
    for (const email of [owner.email, owner.email.toUpperCase(), `  ${owner.email}  `]) {
      expectError(await signUpWith(email, owner.password), 409, 'email_locked');
      expectError(await signUpWith(email, 'another-password-1'), 409, 'email_locked');
    }
    expect((await emailLocks()).filter((lock) => lock.org_id === owner.orgId)).toEqual([
      expect.objectContaining({ email: owner.email, reason: 'support_request' }),
    ]);
  });

  it('notifies the org’s email', async () => {
    const owner = await signUpOwner(t);
    const now = await h.now();
    expectStatus(await deactivate(owner.orgId, { reason: 'owner_request' }), 200);
    const notices = (await h.outbox(owner.email)).filter((email) => email.kind === 'org_deactivated');
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatchObject({ to: owner.email, created_at: now });
  });

  it('requires a reason (400 naming reason)', async () => {
    const owner = await signUpOwner(t);
    expectValidation(await deactivate(owner.orgId, {}), 'reason');
    expectValidation(await deactivate(owner.orgId, { reason: '   ' }), 'reason');
    expectValidation(await deactivate(owner.orgId, { reason: 'x'.repeat(501) }), 'reason');
    expectValidation(await deactivate(owner.orgId, { reason: 42 }), 'reason');
    expect((await detail(owner.orgId)).org.status).toBe('active');
  });

  it('needs the support role: sales-only staff and org people are refused', async () => {
    const owner = await signUpOwner(t);
    const sales = await staffWith(['sales']);
    expectError(await deactivate(owner.orgId, undefined, sales.cookie), 403, 'insufficient_staff_role');
    expectError(await deactivate(owner.orgId, undefined, owner.cookie), 403, 'staff_required');
    expectError(
      await t.call('POST', `/v1/admin/orgs/${owner.orgId}/deactivate`, { body: { reason: 'support_request' } }),
      401,
      'unauthenticated',
    );
    expect((await detail(owner.orgId)).org.status).toBe('active');
    const support = await staffWith(['support']);
    expectStatus(await deactivate(owner.orgId, undefined, support.cookie), 200);
    expectError(await reactivate(owner.orgId, {}, sales.cookie), 403, 'insufficient_staff_role');
    expectError(await t.call('GET', '/v1/admin/email-locks', { cookie: sales.cookie }), 403, 'insufficient_staff_role');
    expectError(
      await t.call('DELETE', `/v1/admin/email-locks/${encodeURIComponent(owner.email)}`, { cookie: sales.cookie }),
      403,
      'insufficient_staff_role',
    );
  });

  it('answers 409 for an org already deactivated and 404 for an unknown org', async () => {
    const owner = await signUpOwner(t);
    expectStatus(await deactivate(owner.orgId), 200);
    const again = await deactivate(owner.orgId, { reason: 'abuse' });
    expectError(again, 409, 'already_deactivated');
    expect((await detail(owner.orgId)).org.deactivation_reason).toBe('support_request');
    expectError(await deactivate('org_doesnotexist'), 404, 'not_found');
    expectError(await reactivate('org_doesnotexist', {}), 404, 'not_found');
  });
});

describe('reactivation (spec 8)', () => {
  beforeAll(async () => {
    t = await createTestInstance({ start: '2027-06-01T08:00:00.000Z' });
    h = billingHelpers(t);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('makes the org active on Free with a new control plane; only the owner gets a role back', async () => {
    const org = await orgWithEverything();
    const { owner, admin, member } = org;
    expectStatus(await deactivate(owner.orgId), 200);
    const now = await advanceBy(5 * HOUR);
    const response = await reactivate(owner.orgId, {});
    expectStatus(response, 200);
    expect(response.body).toMatchObject({
      id: owner.orgId,
      status: 'active',
      plan: 'free',
      deactivated_at: null,
      deactivation_reason: null,
      last_login_at: now,
      projected_deactivation_at: iso(ms(now) + 30 * DAY),
    });

    const login = await logIn(owner, owner.orgId);
    expectStatus(login, 200);
    expect(login.body.roles).toEqual(['owner']);
    owner.cookie = login.cookie as string;
    const controlPlane = await t.call('GET', `/v1/orgs/${owner.orgId}/control-plane`, { cookie: owner.cookie });
    expectStatus(controlPlane, 200);
    expect(controlPlane.body).toMatchObject({ status: 'active', created_at: now, decommissioned_at: null });
    expect(controlPlane.body.id).not.toBe(org.controlPlaneId);
    // Runtimes of the old control plane stay refused.
    expectError(
      await t.call('GET', '/v1/runtime/config', { token: org.gateway.token }),
      403,
      'control_plane_decommissioned',
    );

    expect(await rolesOf(owner, admin)).toEqual([]);
    expect(await rolesOf(owner, member)).toEqual([]);
    const teams = await t.call('GET', `/v1/orgs/${owner.orgId}/teams`, { cookie: owner.cookie });
    expect(teams.body.data.find((team: any) => team.id === org.teamId).members).toEqual([]);
    for (const person of [admin, member]) expect((await logIn(person, owner.orgId)).status).not.toBe(200);
    expect((await t.call('GET', `/v1/orgs/${owner.orgId}`, { token: org.accountToken })).status).toBe(403);
    // The owner's own token works again.
    expectStatus(await t.call('GET', `/v1/orgs/${owner.orgId}`, { token: org.personalToken }), 200);

    expect((await emailLocks()).some((lock) => lock.org_id === owner.orgId)).toBe(false);
    expectStatus(await signUpWith(owner.email, owner.password), 201);
    const event = await latestEvent(owner.orgId, 'org.reactivated');
    expect(event).toMatchObject({ actor: { type: 'staff' }, created_at: now });
    expect(event.after.control_plane_id).toBe(controlPlane.body.id);
  });

  it('with restore_memberships gives back the removed roles, team memberships and system-account roles', async () => {
    const org = await orgWithEverything();
    const { owner, admin, member } = org;
    expectStatus(await deactivate(owner.orgId), 200);
    await advanceBy(HOUR);
    expectStatus(await reactivate(owner.orgId, { restore_memberships: true }), 200);

    const adminLogin = await logIn(admin, owner.orgId);
    expectStatus(adminLogin, 200);
    expect(adminLogin.body.roles).toEqual(['org_admin']);
    const memberLogin = await logIn(member, owner.orgId);
    expectStatus(memberLogin, 200);
    const ownerLogin = await logIn(owner, owner.orgId);
    expectStatus(ownerLogin, 200);
    owner.cookie = ownerLogin.cookie as string;
    const entry = (await members(owner)).find((m) => m.user_id === member.userId);
    expect(entry).toMatchObject({ roles: ['member'], team_roles: ['org_admin_read_only'] });
    expect(entry.teams.map((team: any) => team.id)).toEqual([org.teamId]);
    const teams = await t.call('GET', `/v1/orgs/${owner.orgId}/teams`, { cookie: owner.cookie });
    expect(teams.body.data.find((team: any) => team.id === org.teamId).members.map((m: any) => m.user_id)).toEqual([
      member.userId,
    ]);
    expectStatus(await t.call('GET', `/v1/orgs/${owner.orgId}/members`, { token: org.accountToken }), 200);
  });

  it('answers 409 for an active org', async () => {
    const owner = await signUpOwner(t);
    expectError(await reactivate(owner.orgId, {}), 409, 'org_active');
    expectError(await reactivate(owner.orgId, { restore_memberships: true }), 409, 'org_active');
  });

  it('accepts a request without a body: restore_memberships is optional and defaults to false', async () => {
    const { owner, admin } = await orgWithEverything();
    expectStatus(await deactivate(owner.orgId), 200);
    const response = await reactivate(owner.orgId);
    expectStatus(response, 200);
    expect(response.body.status).toBe('active');
    expect((await logIn(admin, owner.orgId)).status).not.toBe(200);
  });

  it('starts the inactivity clock again: 30 days from the reactivation', async () => {
    const owner = await signUpOwner(t);
    expectStatus(await deactivate(owner.orgId), 200);
    const now = await advanceBy(2 * DAY);
    expectStatus(await reactivate(owner.orgId, {}), 200);
    const deadline = iso(ms(now) + 30 * DAY);
    await h.advance(iso(ms(deadline) - 1));
    expect((await detail(owner.orgId)).org).toMatchObject({ status: 'active', projected_deactivation_at: deadline });
    await h.advance(deadline);
    expect((await detail(owner.orgId)).org).toMatchObject({
      status: 'deactivated',
      deactivated_at: deadline,
      deactivation_reason: 'inactivity',
    });
  });
});

describe('email locks (spec 8, 9)', () => {
  beforeAll(async () => {
    t = await createTestInstance({ start: '2027-06-01T08:00:00.000Z' });
    h = billingHelpers(t);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('lists the lock, lifts it by email, leaves the org deactivated and lets the owner open a new org', async () => {
    const owner = await signUpOwner(t);
    const lockedAt = await advanceBy(HOUR);
    expectStatus(await deactivate(owner.orgId, { reason: 'owner_request' }), 200);
    const locks = await emailLocks();
    expect(locks.find((lock) => lock.org_id === owner.orgId)).toMatchObject({
      email: owner.email,
      org_name: (await detail(owner.orgId)).org.name,
      reason: 'owner_request',
      created_at: lockedAt,
    });
    const ofEmail = await t.call(
      'GET',
      `/v1/admin/email-locks?email=${encodeURIComponent(owner.email.toUpperCase())}`,
      {
        cookie: await h.staff(),
      },
    );
    expect(ofEmail.body.data.map((lock: any) => lock.org_id)).toEqual([owner.orgId]);
    expect((await detail(owner.orgId)).email_locks).toEqual([
      { email: owner.email, reason: 'owner_request', created_at: lockedAt },
    ]);
    expectError(await logIn(owner), 403, 'org_deactivated');

    const lifted = await t.call('DELETE', `/v1/admin/email-locks/${encodeURIComponent(owner.email.toUpperCase())}`, {
      cookie: await h.staff(),
    });
    expectStatus(lifted, 200);
    expect(lifted.body.email).toBe(owner.email);
    expect((await emailLocks()).some((lock) => lock.email === owner.email)).toBe(false);
    expect((await detail(owner.orgId)).org.status).toBe('deactivated');
    expectError(await logIn(owner, owner.orgId), 403, 'org_deactivated');
    const unlockedEvent = await latestEvent(owner.orgId, 'email.unlocked');
    expect(unlockedEvent).toMatchObject({ actor: { type: 'staff' } });

    const again = await signUpWith(owner.email, owner.password);
    expectStatus(again, 201);
    expect(again.body.user.id).toBe(owner.userId);
    expect(again.body.org.id).not.toBe(owner.orgId);
    expect(again.body.org.status).toBe('active');
    const login = await logIn(owner);
    expectStatus(login, 200);
    expect(login.body.org.id).toBe(again.body.org.id);
  });

  it('answers 404 for an email that is not locked', async () => {
    const owner = await signUpOwner(t);
    for (const email of ['nobody@example.com', owner.email]) {
      expectError(
        await t.call('DELETE', `/v1/admin/email-locks/${encodeURIComponent(email)}`, { cookie: await h.staff() }),
        404,
        'not_found',
      );
    }
  });
});

describe('the staff org detail (spec 12)', () => {
  beforeAll(async () => {
    t = await createTestInstance({ start: '2027-06-01T08:00:00.000Z' });
    h = billingHelpers(t);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('shows status, plan, activity, members, runtimes, invoices and audit events', async () => {
    const org = await orgWithEverything();
    const { owner, admin } = org;
    const created = await h.now();
    await h.subscribePlus(owner);
    const requestAt = await advanceBy(HOUR);
    await org.gateway.report({ [requestAt]: 1234 });
    const D = await advanceBy(2 * DAY);
    const login = await logIn(owner, owner.orgId);
    expectStatus(login, 200);
    owner.cookie = login.cookie as string;
    const downgraded = await h.downgrade(owner);
    expectStatus(downgraded, 200);

    const view = await detail(owner.orgId);
    expect(view.org).toMatchObject({
      id: owner.orgId,
      email: owner.email,
      status: 'active',
      plan: 'free',
      created_at: created,
      last_login_at: D,
      last_request_at: requestAt,
      // Free again from D: max(L + 30 days, start of cycle 2 for a request in cycle 0).
      projected_deactivation_at: iso(ms(created) + 60 * DAY),
    });
    expect(view.members.find((m: any) => m.user_id === admin.userId)).toMatchObject({
      email: admin.email,
      roles: ['org_admin'],
    });
    expect(view.members).toHaveLength(3);
    expect(view.runtimes).toEqual([expect.objectContaining({ control_plane_id: org.controlPlaneId })]);
    expect(view.invoices.map((invoice: any) => invoice.id)).toEqual([downgraded.body.final_invoice.id]);
    expect(view.invoices[0]).toMatchObject({ kind: 'final', status: 'paid' });
    expect(view.subscription).toBeNull();
    expect(view.payment_methods).toEqual([expect.objectContaining({ brand: 'visa', last4: '4242' })]);
    expect(view.email_locks).toEqual([]);
    const actions = view.audit_events.map((event: any) => event.action);
    expect(actions).toContain('org.created');
    expect(actions).toContain('subscription.ended');
    expect(view.audit_events.map((event: any) => event.created_at)).toEqual(
      [...view.audit_events.map((event: any) => event.created_at)].sort().reverse(),
    );
  });

  it('is for staff only, and 404 for an unknown org', async () => {
    const owner = await signUpOwner(t);
    expectError(await t.call('GET', `/v1/admin/orgs/${owner.orgId}`, { cookie: owner.cookie }), 403, 'staff_required');
    expectError(await t.call('GET', `/v1/admin/orgs/${owner.orgId}`), 401, 'unauthenticated');
    expectError(await t.call('GET', '/v1/admin/orgs/org_doesnotexist', { cookie: await h.staff() }), 404, 'not_found');
    const sales = await staffWith(['sales']);
    expectStatus(await t.call('GET', `/v1/admin/orgs/${owner.orgId}`, { cookie: sales.cookie }), 200);
  });
});

describe('billing stops at a staff deactivation (spec 8.2)', () => {
  const S = '2027-01-31T10:00:00.000Z';
  beforeAll(async () => {
    t = await createTestInstance({ start: S });
    h = billingHelpers(t);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('charges a Plus org’s final invoice once, then bills and charges nothing more', async () => {
    const owner = await signUpOwner(t);
    const { subscription } = await h.subscribePlus(owner);
    const gateway = await h.runtime(owner);
    await gateway.report({ [S]: 1_500_000 });
    const D = '2027-02-10T16:30:00.000Z';
    await h.advance(D, owner);

    const response = await deactivate(owner.orgId);
    expectStatus(response, 200);
    expect(response.body.plan).toBe('free');
    const event = await latestEvent(owner.orgId, 'org.deactivated');
    const finalId = event.after.final_invoice_id;
    const view = await detail(owner.orgId);
    const final = view.invoices.find((invoice: any) => invoice.id === finalId);
    expect(final).toMatchObject({
      kind: 'final',
      subscription_id: subscription.id,
      status: 'paid',
      paid_at: D,
      period: { start: S, end: D },
    });
    expect(BigInt(line(final, 'plan_fee').amount)).toBe(prorated(PLUS.fee, S, D, plusMonths(S, 1)));
    expect(BigInt(line(final, 'usage').quantity)).toBe(1_500_000n);
    expect(await h.chargesOf(finalId)).toEqual([
      { invoiceId: finalId, attempt: 1, status: 'succeeded', amount: BigInt(final.total) },
    ]);

    const chargesBefore = await h.charges();
    await h.advance(plusMonths(S, 4));
    expect(await h.charges()).toEqual(chargesBefore);
    expect((await detail(owner.orgId)).invoices.map((invoice: any) => invoice.id)).toEqual(
      view.invoices.map((invoice: any) => invoice.id),
    );
  });

  it('gives up a past-due invoice and tries the final invoice once when the card fails', async () => {
    const owner = await signUpOwner(t);
    const start = await h.now();
    await h.subscribePlus(owner, CARD_FAILS);
    const B1 = plusMonths(start, 1);
    await h.advance(B1, owner);
    const [pastDue] = await h.invoices(owner);
    expect(pastDue).toMatchObject({ kind: 'cycle', status: 'past_due' });
    await h.advance(iso(ms(B1) + 12 * HOUR), owner);

    expectStatus(await deactivate(owner.orgId), 200);
    const finalId = (await latestEvent(owner.orgId, 'org.deactivated')).after.final_invoice_id;
    await h.advance(iso(ms(B1) + 30 * DAY));
    const invoices = (await detail(owner.orgId)).invoices;
    expect(invoices.find((invoice: any) => invoice.id === pastDue.id).status).toBe('uncollectible');
    expect(invoices.find((invoice: any) => invoice.id === finalId).status).toBe('uncollectible');
    expect((await h.chargesOf(pastDue.id)).map((charge) => charge.status)).toEqual(['failed']);
    expect((await h.chargesOf(finalId)).map((charge) => charge.status)).toEqual(['failed']);
  });
});
