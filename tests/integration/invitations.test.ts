import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  allAuditEvents,
  createTestInstance,
  expectValidation,
  logInAdmin,
  signUpOwner,
  type TestInstance,
} from '../helpers/instance.ts';

type Owner = Awaited<ReturnType<typeof signUpOwner>>;

let t: TestInstance;
let staff: string;
let owner: Owner;
let other: Owner;

const uniqueEmail = (label: string) => `${label}-${randomBytes(4).toString('hex')}@example.com`;

async function invite(org: Owner, email: string, roles: string[] = ['member'], cookie = org.cookie) {
  return t.call('POST', `/v1/orgs/${org.orgId}/invitations`, { cookie, body: { email, roles } });
}

/** The token from the newest invitation email to this address, as the invited person reads it. */
async function tokenFor(email: string): Promise<string> {
  const outbox = await t.call('GET', `/v1/admin/outbox?to=${encodeURIComponent(email)}`, { cookie: staff });
  expect(outbox.status).toBe(200);
  const mail = outbox.body.data.find((entry: any) => entry.kind === 'invitation');
  const token = /token=(\S+)/.exec(mail?.body ?? '')?.[1];
  if (!token) throw new Error(`no invitation email to ${email}`);
  return token;
}

async function accept(body: Record<string, unknown>) {
  return t.call('POST', '/v1/invitations/accept', { body });
}

async function invitations(org: Owner) {
  const response = await t.call('GET', `/v1/orgs/${org.orgId}/invitations`, { cookie: org.cookie });
  expect(response.status).toBe(200);
  return response.body.data as Array<Record<string, any>>;
}

async function auditActions(org: Owner, cookie = org.cookie) {
  return allAuditEvents(t, org, cookie);
}

async function joinAs(org: Owner, roles: string[]) {
  const email = uniqueEmail('joiner');
  await invite(org, email, roles);
  const accepted = await accept({ token: await tokenFor(email), password: 'joiner-password-1', full_name: 'Joiner' });
  expect(accepted.status).toBe(200);
  return { email, userId: accepted.body.user.id as string, cookie: accepted.cookie as string };
}

beforeAll(async () => {
  t = await createTestInstance({ start: '2027-03-01T09:00:00.000Z' });
  staff = await logInAdmin(t);
  owner = await signUpOwner(t);
  other = await signUpOwner(t);
});
afterAll(async () => {
  await t.close();
});

describe('inviting', () => {
  it('creates a pending invitation that expires in 7 days, emails the link, and never returns the token', async () => {
    const email = uniqueEmail('Invitee').toUpperCase();
    const response = await invite(owner, ` ${email} `, ['org_admin', 'member']);
    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({
      org_id: owner.orgId,
      email: email.toLowerCase(),
      roles: ['org_admin', 'member'],
      status: 'pending',
      invited_by: owner.userId,
      created_at: '2027-03-01T09:00:00.000Z',
      expires_at: '2027-03-08T09:00:00.000Z',
      accepted_at: null,
    });
    expect(response.body.id).toMatch(/^inv_/);
    const token = await tokenFor(email.toLowerCase());
    expect(token).toMatch(/^tli_/);
    expect(JSON.stringify(response.body)).not.toContain(token);
    expect(response.body).not.toHaveProperty('token');

    const listed = await invitations(owner);
    expect(listed.map((entry) => entry.id)).toContain(response.body.id);
    expect(JSON.stringify(listed)).not.toContain(token);
    const event = (await auditActions(owner)).find((entry) => entry.target.id === response.body.id);
    expect(event).toMatchObject({ action: 'invitation.created', actor: { type: 'user', id: owner.userId } });
  });

  it('refuses missing or bad fields with a 400 naming the field', async () => {
    const url = `/v1/orgs/${owner.orgId}/invitations`;
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ roles: ['member'] }, 'email'],
      [{ email: 'not-an-email', roles: ['member'] }, 'email'],
      [{ email: 42, roles: ['member'] }, 'email'],
      [{ email: 'someone@example.com' }, 'roles'],
      [{ email: 'someone@example.com', roles: [] }, 'roles'],
      [{ email: 'someone@example.com', roles: ['owner'] }, 'roles.0'],
      [{ email: 'someone@example.com', roles: ['member', 'boss'] }, 'roles.1'],
    ];
    for (const [body, field] of cases) {
      expectValidation(await t.call('POST', url, { cookie: owner.cookie, body }), field);
    }
    expect((await invitations(owner)).map((entry) => entry.email)).not.toContain('someone@example.com');
  });

  it('answers 409 already_member for someone already in the org', async () => {
    const response = await invite(owner, owner.email);
    expect(response.status).toBe(409);
    expect(response.body.error.code).toBe('already_member');
  });

  it('lets org_admin_read_only list but not invite; a member can do neither; another org gets 404', async () => {
    const reader = await joinAs(owner, ['org_admin_read_only']);
    const member = await joinAs(owner, ['member']);
    const list = await t.call('GET', `/v1/orgs/${owner.orgId}/invitations`, { cookie: reader.cookie });
    expect(list.status).toBe(200);
    const byReader = await invite(owner, uniqueEmail('nope'), ['member'], reader.cookie);
    expect(byReader.status).toBe(403);
    expect(byReader.body.error.code).toBe('insufficient_role');
    const memberList = await t.call('GET', `/v1/orgs/${owner.orgId}/invitations`, { cookie: member.cookie });
    expect(memberList.status).toBe(403);
    expect(memberList.body.error.code).toBe('insufficient_role');
    const foreignList = await t.call('GET', `/v1/orgs/${owner.orgId}/invitations`, { cookie: other.cookie });
    expect(foreignList.status).toBe(404);
    const foreignInvite = await invite(owner, uniqueEmail('foreign'), ['member'], other.cookie);
    expect(foreignInvite.status).toBe(404);
    const anonymous = await t.call('GET', `/v1/orgs/${owner.orgId}/invitations`);
    expect(anonymous.status).toBe(401);
  });
});

describe('accepting', () => {
  it('creates the account of a new person, joins them with the roles, and logs them in', async () => {
    const email = uniqueEmail('newcomer');
    const created = await invite(owner, email, ['org_admin_read_only']);
    const response = await accept({ token: await tokenFor(email), password: 'newcomer-pass-1', full_name: ' Nia ' });
    expect(response.status).toBe(200);
    expect(response.body.user).toMatchObject({ email, full_name: 'Nia' });
    expect(response.body.org.id).toBe(owner.orgId);
    expect(response.body.roles).toEqual(['org_admin_read_only']);
    expect(response.headers['set-cookie']).toMatch(/HttpOnly/);

    const me = await t.call('GET', '/v1/me', { cookie: response.cookie });
    expect(me.status).toBe(200);
    expect(me.body.user.id).toBe(response.body.user.id);
    expect(me.body.org.id).toBe(owner.orgId);
    expect(me.body.roles).toEqual(['org_admin_read_only']);

    const listed = (await invitations(owner)).find((entry) => entry.id === created.body.id);
    expect(listed).toMatchObject({ status: 'accepted', accepted_at: '2027-03-01T09:00:00.000Z' });
    const login = await t.call('POST', '/v1/auth/login', { body: { email, password: 'newcomer-pass-1' } });
    expect(login.status).toBe(200);
    expect(login.body.org.id).toBe(owner.orgId);
    const joined = (await auditActions(owner)).find(
      (entry) => entry.action === 'member.joined' && entry.target.id === response.body.user.id,
    );
    expect(joined?.after).toMatchObject({ roles: ['org_admin_read_only'], invitation_id: created.body.id });
  });

  it('needs a full name and a valid password from a new person, and a token (400 naming the field)', async () => {
    const email = uniqueEmail('fields');
    await invite(owner, email);
    const token = await tokenFor(email);
    expectValidation(await accept({ token, password: 'long-enough-1' }), 'full_name');
    expectValidation(await accept({ token, password: 'long-enough-1', full_name: '   ' }), 'full_name');
    expectValidation(await accept({ token, password: 'short', full_name: 'Fay' }), 'password');
    expectValidation(await accept({ token, full_name: 'Fay' }), 'password');
    expectValidation(await accept({ password: 'long-enough-1', full_name: 'Fay' }), 'token');
    expectValidation(await accept({ token: 7, password: 'long-enough-1', full_name: 'Fay' }), 'token');
    const stillPending = await accept({ token, password: 'long-enough-1', full_name: 'Fay' });
    expect(stillPending.status).toBe(200);
  });

  it('answers 404 for an unknown token', async () => {
    const response = await accept({ token: 'tli_not-a-real-token', password: 'long-enough-1', full_name: 'X' });
    expect(response.status).toBe(404);
    expect(response.body.error.code).toBe('not_found');
  });

  it('joins an existing user who proves the account with its password; a wrong password is 401', async () => {
    const created = await invite(owner, other.email, ['org_admin']);
    expect(created.status).toBe(201);
    const token = await tokenFor(other.email);
    const wrong = await accept({ token, password: 'not-the-password' });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe('invalid_credentials');
    expect((await invitations(owner)).find((entry) => entry.id === created.body.id)?.status).toBe('pending');

    const right = await accept({ token, password: other.password, full_name: 'Ignored Name' });
    expect(right.status).toBe(200);
    expect(right.body.user.id).toBe(other.userId);
    expect(right.body.user.full_name).not.toBe('Ignored Name');
    expect(right.body.roles).toEqual(['org_admin']);
    const me = await t.call('GET', '/v1/me', { cookie: right.cookie });
    expect(me.body.org.id).toBe(owner.orgId);
    expect(me.body.orgs.map((entry: any) => entry.id).sort()).toEqual([owner.orgId, other.orgId].sort());
    // Still the owner of their own org.
    const own = await t.call('GET', `/v1/orgs/${other.orgId}/members`, { cookie: other.cookie });
    expect(own.body.data.find((entry: any) => entry.user_id === other.userId).roles).toEqual(['owner']);
  });

  it('answers 410 invitation_expired for an invitation already accepted', async () => {
    const email = uniqueEmail('twice');
    await invite(owner, email);
    const token = await tokenFor(email);
    expect((await accept({ token, password: 'twice-password-1', full_name: 'Tw' })).status).toBe(200);
    const again = await accept({ token, password: 'twice-password-1', full_name: 'Tw' });
    expect(again.status).toBe(410);
    expect(again.body.error.code).toBe('invitation_expired');
    expect(again.cookie).toBeUndefined();
  });
});

describe('revoking', () => {
  it('revokes a pending invitation: it cannot be used (410) and cannot be revoked again (404)', async () => {
    const email = uniqueEmail('revoked');
    const created = await invite(owner, email);
    const token = await tokenFor(email);
    const revoked = await t.call('DELETE', `/v1/orgs/${owner.orgId}/invitations/${created.body.id}`, {
      cookie: owner.cookie,
    });
    expect(revoked.status).toBe(204);
    expect((await invitations(owner)).find((entry) => entry.id === created.body.id)?.status).toBe('revoked');
    const used = await accept({ token, password: 'revoked-password-1', full_name: 'Rev' });
    expect(used.status).toBe(410);
    expect(used.body.error.code).toBe('invitation_expired');
    const again = await t.call('DELETE', `/v1/orgs/${owner.orgId}/invitations/${created.body.id}`, {
      cookie: owner.cookie,
    });
    expect(again.status).toBe(404);
    const event = (await auditActions(owner)).find(
      (entry) => entry.action === 'invitation.revoked' && entry.target.id === created.body.id,
    );
    expect(event).toMatchObject({ before: { status: 'pending' }, after: { status: 'revoked' } });
  });

  it("answers 404 for another org's invitation and leaves it pending", async () => {
    const email = uniqueEmail('theirs');
    const theirs = await invite(other, email);
    const response = await t.call('DELETE', `/v1/orgs/${owner.orgId}/invitations/${theirs.body.id}`, {
      cookie: owner.cookie,
    });
    expect(response.status).toBe(404);
    expect(response.body.error.code).toBe('not_found');
    const viaTheirOrg = await t.call('DELETE', `/v1/orgs/${other.orgId}/invitations/${theirs.body.id}`, {
      cookie: owner.cookie,
    });
    expect(viaTheirOrg.status).toBe(404);
    expect((await invitations(other)).find((entry) => entry.id === theirs.body.id)?.status).toBe('pending');
    expect((await invitations(owner)).map((entry) => entry.id)).not.toContain(theirs.body.id);
  });

  it('refuses revocation by org_admin_read_only (403)', async () => {
    const reader = await joinAs(owner, ['org_admin_read_only']);
    const created = await invite(owner, uniqueEmail('kept'));
    const response = await t.call('DELETE', `/v1/orgs/${owner.orgId}/invitations/${created.body.id}`, {
      cookie: reader.cookie,
    });
    expect(response.status).toBe(403);
    expect((await invitations(owner)).find((entry) => entry.id === created.body.id)?.status).toBe('pending');
  });
});

describe('expiry', () => {
  // Runs last: it moves the test clock 8 days on, which also ends every session made so far.
  it('expires a pending invitation after 7 days, with an audit event, and the link answers 410', async () => {
    const email = uniqueEmail('late');
    const created = await invite(owner, email);
    const token = await tokenFor(email);
    const advanced = await t.call('POST', '/v1/test-clock/advance', { body: { to: '2027-03-09T09:00:00.000Z' } });
    expect(advanced.status).toBe(200);

    const login = await t.call('POST', '/v1/auth/login', {
      body: { email: owner.email, password: owner.password, org_id: owner.orgId },
    });
    expect(login.status).toBe(200);
    const cookie = login.cookie as string;
    const listed = await t.call('GET', `/v1/orgs/${owner.orgId}/invitations`, { cookie });
    expect(listed.body.data.find((entry: any) => entry.id === created.body.id)?.status).toBe('expired');
    const event = (await auditActions(owner, cookie)).find(
      (entry) => entry.action === 'invitation.expired' && entry.target.id === created.body.id,
    );
    expect(event).toMatchObject({
      actor: { type: 'system', id: null },
      before: { status: 'pending' },
      after: { status: 'expired' },
      created_at: '2027-03-08T09:00:00.000Z',
    });
    const used = await accept({ token, password: 'late-password-1', full_name: 'Late' });
    expect(used.status).toBe(410);
    expect(used.body.error.code).toBe('invitation_expired');
    const revoke = await t.call('DELETE', `/v1/orgs/${owner.orgId}/invitations/${created.body.id}`, { cookie });
    expect(revoke.status).toBe(404);
  });
});
