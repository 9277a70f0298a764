import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  allAuditEvents,
  createTestInstance,
  expectValidation,
  joinOrg,
  logInAdmin,
  type Owner,
  type Person,
  signUpOwner,
  type TestInstance,
} from '../helpers/instance.ts';

let t: TestInstance;
let staff: string;
let owner: Owner;
let other: Owner;
let reader: { userId: string; cookie: string };
let member: { userId: string; cookie: string };

async function join(org: Owner, roles: string[]): Promise<Person> {
  return joinOrg(t, org, roles, staff);
}

async function createAccount(org: Owner, name: string, roles: string[]) {
  const response = await t.call('POST', `/v1/orgs/${org.orgId}/system-accounts`, {
    cookie: org.cookie,
    body: { name, roles },
  });
  expect(response.status).toBe(201);
  return response.body as { id: string; name: string; roles: string[] };
}

async function createToken(org: Owner, accountId: string, body: Record<string, unknown> = { name: 'ci' }) {
  const response = await t.call('POST', `/v1/orgs/${org.orgId}/system-accounts/${accountId}/tokens`, {
    cookie: org.cookie,
    body,
  });
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return response.body as { token: string; id: string; expires_at: string | null };
}

async function accounts(org: Owner) {
  const response = await t.call('GET', `/v1/orgs/${org.orgId}/system-accounts`, { cookie: org.cookie });
  expect(response.status).toBe(200);
  return response.body.data as Array<Record<string, any>>;
}

async function auditActions(org: Owner) {
  return allAuditEvents(t, org, org.cookie);
}

beforeAll(async () => {
  t = await createTestInstance({ start: '2027-05-01T00:00:00.000Z' });
  staff = await logInAdmin(t);
  owner = await signUpOwner(t);
  other = await signUpOwner(t);
  reader = await join(owner, ['org_admin_read_only']);
  member = await join(owner, ['member']);
});
afterAll(async () => {
  await t.close();
});

describe('system accounts', () => {
  it('creates and lists system accounts, with an audit event', async () => {
    const response = await t.call('POST', `/v1/orgs/${owner.orgId}/system-accounts`, {
      cookie: owner.cookie,
      body: { name: ' Deploy bot ', roles: ['member', 'org_admin_read_only'] },
    });
    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({
      org_id: owner.orgId,
      name: 'Deploy bot',
      roles: ['org_admin_read_only', 'member'],
      tokens: [],
      created_at: '2027-05-01T00:00:00.000Z',
    });
    expect(response.body.id).toMatch(/^sa_/);
    const listed = await t.call('GET', `/v1/orgs/${owner.orgId}/system-accounts`, { cookie: reader.cookie });
    expect(listed.status).toBe(200);
    expect(listed.body.next_cursor).toBeNull();
    expect(listed.body.data.map((entry: any) => entry.id)).toContain(response.body.id);
    const event = (await auditActions(owner)).find((entry) => entry.target.id === response.body.id);
    expect(event).toMatchObject({ action: 'system_account.created', actor: { type: 'user', id: owner.userId } });
  });

  it('refuses missing or bad fields with a 400 naming the field', async () => {
    const url = `/v1/orgs/${owner.orgId}/system-accounts`;
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ roles: ['member'] }, 'name'],
      [{ name: '', roles: ['member'] }, 'name'],
      [{ name: '   ', roles: ['member'] }, 'name'],
      [{ name: 'bot' }, 'roles'],
      [{ name: 'bot', roles: [] }, 'roles'],
      [{ name: 'bot', roles: ['owner'] }, 'roles.0'],
    ];
    for (const [body, field] of cases) {
      expectValidation(await t.call('POST', url, { cookie: owner.cookie, body }), field);
    }
    const account = await createAccount(owner, 'fields', ['member']);
    const tokenUrl = `${url}/${account.id}/tokens`;
    expectValidation(await t.call('POST', tokenUrl, { cookie: owner.cookie, body: {} }), 'name');
    expectValidation(
      await t.call('POST', tokenUrl, { cookie: owner.cookie, body: { name: 'x', expires_in_days: 0 } }),
      'expires_in_days',
    );
    expectValidation(
      await t.call('POST', tokenUrl, { cookie: owner.cookie, body: { name: 'x', expires_in_days: 'soon' } }),
      'expires_in_days',
    );
    expect((await accounts(owner)).find((entry) => entry.id === account.id)?.tokens).toEqual([]);
  });

  it('lets org_admin_read_only list but not create; a member cannot list; another org gets 404', async () => {
    const byReader = await t.call('POST', `/v1/orgs/${owner.orgId}/system-accounts`, {
      cookie: reader.cookie,
      body: { name: 'sneaky', roles: ['org_admin'] },
    });
    expect(byReader.status).toBe(403);
    expect(byReader.body.error.code).toBe('insufficient_role');
    const byMember = await t.call('GET', `/v1/orgs/${owner.orgId}/system-accounts`, { cookie: member.cookie });
    expect(byMember.status).toBe(403);
    const byOther = await t.call('GET', `/v1/orgs/${owner.orgId}/system-accounts`, { cookie: other.cookie });
    expect(byOther.status).toBe(404);
    expect((await accounts(owner)).map((entry) => entry.name)).not.toContain('sneaky');
  });
});

describe('system account tokens', () => {
  it('creates a token shown once; it authenticates as a member of its org only', async () => {
    const account = await createAccount(owner, 'reporter', ['member']);
    const created = await createToken(owner, account.id, { name: 'reports' });
    expect(created.token).toMatch(/^tlsa_/);
    expect(created).toMatchObject({ name: 'reports', kind: 'system', system_account_id: account.id, expires_at: null });
    const listed = (await accounts(owner)).find((entry) => entry.id === account.id);
    expect(listed?.tokens.map((token: any) => token.id)).toEqual([created.id]);
    expect(JSON.stringify(listed)).not.toContain(created.token);

    const org = await t.call('GET', `/v1/orgs/${owner.orgId}`, { token: created.token });
    expect(org.status).toBe(200);
    expect(org.body.id).toBe(owner.orgId);
    const foreign = await t.call('GET', `/v1/orgs/${other.orgId}`, { token: created.token });
    expect(foreign.status).toBe(404);
    const me = await t.call('GET', '/v1/me', { token: created.token });
    expect(me.body).toMatchObject({ via: 'system_token', system_account_id: account.id, roles: ['member'] });
    // Its roles are the account's: a member cannot read the member list.
    const members = await t.call('GET', `/v1/orgs/${owner.orgId}/members`, { token: created.token });
    expect(members.status).toBe(403);
    const event = (await auditActions(owner)).find((entry) => entry.target.id === created.id);
    expect(event).toMatchObject({ action: 'token.created', after: { kind: 'system', system_account_id: account.id } });
  });

  it('acts with the account roles and is recorded as the system account', async () => {
    const account = await createAccount(owner, 'provisioner', ['org_admin']);
    const { token } = await createToken(owner, account.id);
    const team = await t.call('POST', `/v1/orgs/${owner.orgId}/teams`, {
      token,
      body: { name: 'Made by a bot', roles: ['member'] },
    });
    expect(team.status).toBe(201);
    const event = (await auditActions(owner)).find((entry) => entry.target.id === team.body.id);
    expect(event?.actor).toEqual({ type: 'system_account', id: account.id });
    // A token is not the owner: it cannot transfer ownership.
    const transfer = await t.call('POST', `/v1/orgs/${owner.orgId}/owner-transfer`, {
      token,
      body: { user_id: member.userId },
    });
    expect(transfer.status).toBe(403);
  });

  it("answers 404 for another org's system account, changing nothing", async () => {
    const theirs = await createAccount(other, 'their bot', ['member']);
    const theirToken = await createToken(other, theirs.id);
    const base = `/v1/orgs/${owner.orgId}/system-accounts/${theirs.id}`;
    const attempts = [
      await t.call('POST', `${base}/tokens`, { cookie: owner.cookie, body: { name: 'stolen' } }),
      await t.call('DELETE', base, { cookie: owner.cookie }),
      await t.call('DELETE', `${base}/tokens/${theirToken.id}`, { cookie: owner.cookie }),
      await t.call('DELETE', `/v1/orgs/${other.orgId}/system-accounts/${theirs.id}`, { cookie: owner.cookie }),
      await t.call('POST', `/v1/orgs/${owner.orgId}/system-accounts/sa_unknown/tokens`, {
        cookie: owner.cookie,
        body: { name: 'x' },
      }),
    ];
    for (const response of attempts) {
      expect(response.status).toBe(404);
      expect(response.body.error.code).toBe('not_found');
    }
    const stillThere = (await accounts(other)).find((entry) => entry.id === theirs.id);
    expect(stillThere?.tokens.map((token: any) => token.id)).toEqual([theirToken.id]);
    expect((await t.call('GET', `/v1/orgs/${other.orgId}`, { token: theirToken.token })).status).toBe(200);
    expect((await accounts(owner)).map((entry) => entry.id)).not.toContain(theirs.id);
  });

  it('revokes one token: it gets 401, the other token still works', async () => {
    const account = await createAccount(owner, 'rotating', ['member']);
    const old = await createToken(owner, account.id, { name: 'old' });
    const fresh = await createToken(owner, account.id, { name: 'new' });
    const revoked = await t.call('DELETE', `/v1/orgs/${owner.orgId}/system-accounts/${account.id}/tokens/${old.id}`, {
      cookie: owner.cookie,
    });
    expect(revoked.status).toBe(204);
    expect((await t.call('GET', `/v1/orgs/${owner.orgId}`, { token: old.token })).status).toBe(401);
    expect((await t.call('GET', `/v1/orgs/${owner.orgId}`, { token: fresh.token })).status).toBe(200);
    const listed = (await accounts(owner)).find((entry) => entry.id === account.id);
    expect(listed?.tokens.map((token: any) => token.id)).toEqual([fresh.id]);
  });

  it('deletes a system account: its tokens get 401 and it is gone from the list', async () => {
    const account = await createAccount(owner, 'retired', ['org_admin']);
    const first = await createToken(owner, account.id, { name: 'one' });
    const second = await createToken(owner, account.id, { name: 'two' });
    const byReader = await t.call('DELETE', `/v1/orgs/${owner.orgId}/system-accounts/${account.id}`, {
      cookie: reader.cookie,
    });
    expect(byReader.status).toBe(403);
    expect((await t.call('GET', `/v1/orgs/${owner.orgId}`, { token: first.token })).status).toBe(200);

    const deleted = await t.call('DELETE', `/v1/orgs/${owner.orgId}/system-accounts/${account.id}`, {
      cookie: owner.cookie,
    });
    expect(deleted.status).toBe(204);
    for (const token of [first.token, second.token]) {
      const response = await t.call('GET', `/v1/orgs/${owner.orgId}`, { token });
      expect(response.status).toBe(401);
      expect(response.body.error.code).toBe('unauthenticated');
    }
    expect((await accounts(owner)).map((entry) => entry.id)).not.toContain(account.id);
    const again = await t.call('DELETE', `/v1/orgs/${owner.orgId}/system-accounts/${account.id}`, {
      cookie: owner.cookie,
    });
    expect(again.status).toBe(404);
    const event = (await auditActions(owner)).find(
      (entry) => entry.action === 'system_account.deleted' && entry.target.id === account.id,
    );
    expect(event?.before.revoked_token_ids.sort()).toEqual([first.id, second.id].sort());
  });

  // Runs last: it moves the test clock, which also ends the sessions made so far.
  it('a token with expires_in_days stops working after that many days', async () => {
    const account = await createAccount(owner, 'short-lived', ['member']);
    const short = await createToken(owner, account.id, { name: 'short', expires_in_days: 1 });
    const long = await createToken(owner, account.id, { name: 'long', expires_in_days: 30 });
    expect(short.expires_at).toBe('2027-05-02T00:00:00.000Z');
    expect((await t.call('GET', `/v1/orgs/${owner.orgId}`, { token: short.token })).status).toBe(200);
    const advanced = await t.call('POST', '/v1/test-clock/advance', { body: { to: '2027-05-02T00:00:01.000Z' } });
    expect(advanced.status).toBe(200);
    expect((await t.call('GET', `/v1/orgs/${owner.orgId}`, { token: short.token })).status).toBe(401);
    expect((await t.call('GET', `/v1/orgs/${owner.orgId}`, { token: long.token })).status).toBe(200);
  });
});
