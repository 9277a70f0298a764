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
let admin: Person;
let reader: Person;
let plain: Person;
let other: Owner;
let otherMember: Person;

async function join(org: Owner, roles: string[]): Promise<Person> {
  return joinOrg(t, org, roles, staff);
}

async function members(org: Owner) {
  const response = await t.call('GET', `/v1/orgs/${org.orgId}/members`, { cookie: org.cookie });
  expect(response.status).toBe(200);
  return response.body.data as Array<Record<string, any>>;
}

async function memberOf(org: Owner, userId: string) {
  return (await members(org)).find((entry) => entry.user_id === userId);
}

async function auditActions(org: Owner) {
  return allAuditEvents(t, org, org.cookie);
}

beforeAll(async () => {
  t = await createTestInstance();
  staff = await logInAdmin(t);
  owner = await signUpOwner(t);
  admin = await join(owner, ['org_admin']);
  reader = await join(owner, ['org_admin_read_only']);
  plain = await join(owner, ['member']);
  other = await signUpOwner(t);
  otherMember = await join(other, ['member']);
});
afterAll(async () => {
  await t.close();
});

describe('members', () => {
  it('lists members with individual, team and effective roles', async () => {
    const response = await t.call('GET', `/v1/orgs/${owner.orgId}/members`, { cookie: owner.cookie });
    expect(response.status).toBe(200);
    expect(response.body.next_cursor).toBeNull();
    expect(response.body.data).toHaveLength(4);
    const mine = response.body.data.find((entry: any) => entry.user_id === owner.userId);
    expect(mine).toMatchObject({
      email: owner.email,
      roles: ['owner'],
      team_roles: [],
      effective_roles: ['owner'],
      teams: [],
    });
    expect(mine.joined_at).toMatch(/^\d{4}-/);
    const theirs = response.body.data.find((entry: any) => entry.user_id === admin.userId);
    expect(theirs).toMatchObject({ email: admin.email, roles: ['org_admin'], effective_roles: ['org_admin'] });
    expect(response.body.data.map((entry: any) => entry.user_id)).not.toContain(otherMember.userId);
  });

  it('lets org_admin_read_only read members but answers 403 to a plain member and 404 to another org', async () => {
    const asReader = await t.call('GET', `/v1/orgs/${owner.orgId}/members`, { cookie: reader.cookie });
    expect(asReader.status).toBe(200);
    const asMember = await t.call('GET', `/v1/orgs/${owner.orgId}/members`, { cookie: plain.cookie });
    expect(asMember.status).toBe(403);
    expect(asMember.body.error.code).toBe('insufficient_role');
    const asOther = await t.call('GET', `/v1/orgs/${owner.orgId}/members`, { cookie: other.cookie });
    expect(asOther.status).toBe(404);
    expect(asOther.body.error.code).toBe('not_found');
    const anonymous = await t.call('GET', `/v1/orgs/${owner.orgId}/members`);
    expect(anonymous.status).toBe(401);
  });

  it("sets a member's roles, with an audit event, and the new access applies at once", async () => {
    const member = await join(owner, ['member']);
    const changed = await t.call('PUT', `/v1/orgs/${owner.orgId}/members/${member.userId}/roles`, {
      cookie: admin.cookie,
      body: { roles: ['org_admin_read_only', 'member', 'member'] },
    });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({
      user_id: member.userId,
      roles: ['org_admin_read_only', 'member'],
      effective_roles: ['org_admin_read_only', 'member'],
    });
    const nowReads = await t.call('GET', `/v1/orgs/${owner.orgId}/members`, { cookie: member.cookie });
    expect(nowReads.status).toBe(200);
    const event = (await auditActions(owner)).find(
      (entry) => entry.action === 'member.roles_changed' && entry.target.id === member.userId,
    );
    expect(event).toMatchObject({
      actor: { type: 'user', id: admin.userId },
      target: { type: 'user', id: member.userId },
      before: { roles: ['member'] },
      after: { roles: ['org_admin_read_only', 'member'] },
    });
  });

  it('keeps the owner role when the owner gets other roles; owner itself cannot be granted', async () => {
    const changed = await t.call('PUT', `/v1/orgs/${owner.orgId}/members/${owner.userId}/roles`, {
      cookie: admin.cookie,
      body: { roles: ['member'] },
    });
    expect(changed.status).toBe(200);
    expect(changed.body.roles).toEqual(['owner', 'member']);
    const grantOwner = await t.call('PUT', `/v1/orgs/${owner.orgId}/members/${plain.userId}/roles`, {
      cookie: owner.cookie,
      body: { roles: ['owner'] },
    });
    expectValidation(grantOwner, 'roles.0');
    expect((await memberOf(owner, plain.userId))?.roles).toEqual(['member']);
  });

  it('refuses missing or bad roles with a 400 naming the field', async () => {
    const url = `/v1/orgs/${owner.orgId}/members/${plain.userId}/roles`;
    expectValidation(await t.call('PUT', url, { cookie: owner.cookie, body: {} }), 'roles');
    expectValidation(await t.call('PUT', url, { cookie: owner.cookie, body: { roles: [] } }), 'roles');
    expectValidation(await t.call('PUT', url, { cookie: owner.cookie, body: { roles: 'member' } }), 'roles');
    expectValidation(await t.call('PUT', url, { cookie: owner.cookie, body: { roles: ['superuser'] } }), 'roles.0');
  });

  it('answers 403 insufficient_role to org_admin_read_only changing roles, changing nothing', async () => {
    const response = await t.call('PUT', `/v1/orgs/${owner.orgId}/members/${plain.userId}/roles`, {
      cookie: reader.cookie,
      body: { roles: ['org_admin'] },
    });
    expect(response.status).toBe(403);
    expect(response.body.error.code).toBe('insufficient_role');
    expect((await memberOf(owner, plain.userId))?.roles).toEqual(['member']);
  });

  it("answers 404 for another org's user or an unknown user, changing nothing", async () => {
    const foreign = await t.call('PUT', `/v1/orgs/${owner.orgId}/members/${otherMember.userId}/roles`, {
      cookie: owner.cookie,
      body: { roles: ['org_admin'] },
    });
    expect(foreign.status).toBe(404);
    expect(foreign.body.error.code).toBe('not_found');
    expect((await memberOf(other, otherMember.userId))?.roles).toEqual(['member']);
    expect(await memberOf(owner, otherMember.userId)).toBeUndefined();
    const unknown = await t.call('PUT', `/v1/orgs/${owner.orgId}/members/usr_nobody/roles`, {
      cookie: owner.cookie,
      body: { roles: ['member'] },
    });
    expect(unknown.status).toBe(404);
    const intoOtherOrg = await t.call('PUT', `/v1/orgs/${other.orgId}/members/${otherMember.userId}/roles`, {
      cookie: owner.cookie,
      body: { roles: ['org_admin'] },
    });
    expect(intoOtherOrg.status).toBe(404);
    expect((await memberOf(other, otherMember.userId))?.roles).toEqual(['member']);
  });

  it('removes a member: gone from the list, its session ends, audit recorded', async () => {
    const leaving = await join(owner, ['org_admin']);
    const removed = await t.call('DELETE', `/v1/orgs/${owner.orgId}/members/${leaving.userId}`, {
      cookie: admin.cookie,
    });
    expect(removed.status).toBe(204);
    expect(await memberOf(owner, leaving.userId)).toBeUndefined();
    const me = await t.call('GET', '/v1/me', { cookie: leaving.cookie });
    expect(me.status).toBe(401);
    const event = (await auditActions(owner)).find(
      (entry) => entry.action === 'member.removed' && entry.target.id === leaving.userId,
    );
    expect(event?.before).toMatchObject({ roles: ['org_admin'] });
    const again = await t.call('DELETE', `/v1/orgs/${owner.orgId}/members/${leaving.userId}`, {
      cookie: admin.cookie,
    });
    expect(again.status).toBe(404);
  });

  it('answers 409 owner_cannot_be_removed for the owner', async () => {
    const response = await t.call('DELETE', `/v1/orgs/${owner.orgId}/members/${owner.userId}`, {
      cookie: admin.cookie,
    });
    expect(response.status).toBe(409);
    expect(response.body.error.code).toBe('owner_cannot_be_removed');
    expect((await memberOf(owner, owner.userId))?.roles).toContain('owner');
  });

  it("refuses removal by a read-only admin (403) and of another org's member (404)", async () => {
    const byReader = await t.call('DELETE', `/v1/orgs/${owner.orgId}/members/${plain.userId}`, {
      cookie: reader.cookie,
    });
    expect(byReader.status).toBe(403);
    expect(byReader.body.error.code).toBe('insufficient_role');
    const foreign = await t.call('DELETE', `/v1/orgs/${owner.orgId}/members/${otherMember.userId}`, {
      cookie: owner.cookie,
    });
    expect(foreign.status).toBe(404);
    expect(await memberOf(owner, plain.userId)).toBeDefined();
    expect(await memberOf(other, otherMember.userId)).toBeDefined();
  });
});

describe('owner transfer', () => {
  it('moves ownership to a member; the old owner keeps org_admin', async () => {
    const org = await signUpOwner(t);
    const heir = await join(org, ['member']);
    const response = await t.call('POST', `/v1/orgs/${org.orgId}/owner-transfer`, {
      cookie: org.cookie,
      body: { user_id: heir.userId },
    });
    expect(response.status).toBe(200);
    expect(response.body.org.owner_user_id).toBe(heir.userId);
    expect(response.body.owner).toMatchObject({ user_id: heir.userId, roles: ['owner', 'member'] });
    expect(response.body.previous_owner).toMatchObject({ user_id: org.userId, roles: ['org_admin'] });
    const fetched = await t.call('GET', `/v1/orgs/${org.orgId}`, { cookie: heir.cookie });
    expect(fetched.body.owner_user_id).toBe(heir.userId);
    const me = await t.call('GET', '/v1/me', { cookie: heir.cookie });
    expect(me.body.roles).toEqual(['owner', 'member']);
    const event = (await auditActions(org)).find((entry) => entry.action === 'org.owner_transferred');
    expect(event).toMatchObject({
      actor: { type: 'user', id: org.userId },
      before: { owner_user_id: org.userId },
      after: { owner_user_id: heir.userId },
    });
    // The old owner is now an ordinary admin: it can be removed, cannot transfer, and the new owner stays.
    const again = await t.call('POST', `/v1/orgs/${org.orgId}/owner-transfer`, {
      cookie: org.cookie,
      body: { user_id: org.userId },
    });
    expect(again.status).toBe(403);
    const removeNewOwner = await t.call('DELETE', `/v1/orgs/${org.orgId}/members/${heir.userId}`, {
      cookie: org.cookie,
    });
    expect(removeNewOwner.status).toBe(409);
    const removeOld = await t.call('DELETE', `/v1/orgs/${org.orgId}/members/${org.userId}`, { cookie: heir.cookie });
    expect(removeOld.status).toBe(204);
  });

  it('answers 403 owner_required to anyone but the owner, even an org_admin', async () => {
    for (const person of [admin, reader, plain]) {
      const response = await t.call('POST', `/v1/orgs/${owner.orgId}/owner-transfer`, {
        cookie: person.cookie,
        body: { user_id: person.userId },
      });
      expect(response.status).toBe(403);
    }
    const byAdmin = await t.call('POST', `/v1/orgs/${owner.orgId}/owner-transfer`, {
      cookie: admin.cookie,
      body: { user_id: admin.userId },
    });
    expect(byAdmin.body.error.code).toBe('owner_required');
    expect((await memberOf(owner, owner.userId))?.roles).toContain('owner');
  });

  it('needs the new owner to be a member (404), not the owner (409), and a user_id (400)', async () => {
    const url = `/v1/orgs/${owner.orgId}/owner-transfer`;
    const foreign = await t.call('POST', url, { cookie: owner.cookie, body: { user_id: otherMember.userId } });
    expect(foreign.status).toBe(404);
    expect(foreign.body.error.code).toBe('not_found');
    const self = await t.call('POST', url, { cookie: owner.cookie, body: { user_id: owner.userId } });
    expect(self.status).toBe(409);
    expect(self.body.error.code).toBe('already_owner');
    expectValidation(await t.call('POST', url, { cookie: owner.cookie, body: {} }), 'user_id');
    expectValidation(await t.call('POST', url, { cookie: owner.cookie, body: { user_id: 7 } }), 'user_id');
    const otherOrg = await t.call('POST', `/v1/orgs/${other.orgId}/owner-transfer`, {
      cookie: owner.cookie,
      body: { user_id: owner.userId },
    });
    expect(otherOrg.status).toBe(404);
    const fetched = await t.call('GET', `/v1/orgs/${owner.orgId}`, { cookie: owner.cookie });
    expect(fetched.body.owner_user_id).toBe(owner.userId);
    const otherFetched = await t.call('GET', `/v1/orgs/${other.orgId}`, { cookie: other.cookie });
    expect(otherFetched.body.owner_user_id).toBe(other.userId);
  });
});

describe('teams', () => {
  it('creates, lists, renames, re-roles and deletes a team, with audit events', async () => {
    const created = await t.call('POST', `/v1/orgs/${owner.orgId}/teams`, {
      cookie: admin.cookie,
      body: { name: '  Platform  ', roles: ['org_admin_read_only'] },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'Platform', roles: ['org_admin_read_only'], members: [] });
    expect(created.body.id).toMatch(/^team_/);
    const teamId = created.body.id;

    const listed = await t.call('GET', `/v1/orgs/${owner.orgId}/teams`, { cookie: reader.cookie });
    expect(listed.status).toBe(200);
    expect(listed.body.next_cursor).toBeNull();
    expect(listed.body.data.map((team: any) => team.id)).toContain(teamId);

    const renamed = await t.call('PATCH', `/v1/orgs/${owner.orgId}/teams/${teamId}`, {
      cookie: owner.cookie,
      body: { name: 'Platform Ops' },
    });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ name: 'Platform Ops', roles: ['org_admin_read_only'] });
    const reRoled = await t.call('PATCH', `/v1/orgs/${owner.orgId}/teams/${teamId}`, {
      cookie: owner.cookie,
      body: { roles: ['member', 'org_admin'] },
    });
    expect(reRoled.body).toMatchObject({ name: 'Platform Ops', roles: ['org_admin', 'member'] });

    const deleted = await t.call('DELETE', `/v1/orgs/${owner.orgId}/teams/${teamId}`, { cookie: owner.cookie });
    expect(deleted.status).toBe(204);
    const after = await t.call('GET', `/v1/orgs/${owner.orgId}/teams`, { cookie: owner.cookie });
    expect(after.body.data.map((team: any) => team.id)).not.toContain(teamId);
    const again = await t.call('DELETE', `/v1/orgs/${owner.orgId}/teams/${teamId}`, { cookie: owner.cookie });
    expect(again.status).toBe(404);

    const actions = (await auditActions(owner)).filter((entry) => entry.target.id === teamId);
    expect(actions.map((entry) => entry.action).sort()).toEqual([
      'team.created',
      'team.deleted',
      'team.updated',
      'team.updated',
    ]);
    const rename = actions.find((entry) => entry.action === 'team.updated' && entry.before.name !== entry.after.name);
    expect(rename).toMatchObject({
      before: { name: 'Platform', roles: ['org_admin_read_only'] },
      after: { name: 'Platform Ops', roles: ['org_admin_read_only'] },
    });
  });

  it('answers 409 team_name_taken for a duplicate name, on create and rename', async () => {
    const first = await t.call('POST', `/v1/orgs/${owner.orgId}/teams`, {
      cookie: owner.cookie,
      body: { name: 'Billing', roles: ['member'] },
    });
    expect(first.status).toBe(201);
    const duplicate = await t.call('POST', `/v1/orgs/${owner.orgId}/teams`, {
      cookie: owner.cookie,
      body: { name: 'Billing', roles: ['org_admin'] },
    });
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.error.code).toBe('team_name_taken');
    const second = await t.call('POST', `/v1/orgs/${owner.orgId}/teams`, {
      cookie: owner.cookie,
      body: { name: 'Finance', roles: ['member'] },
    });
    const rename = await t.call('PATCH', `/v1/orgs/${owner.orgId}/teams/${second.body.id}`, {
      cookie: owner.cookie,
      body: { name: 'Billing' },
    });
    expect(rename.status).toBe(409);
    const sameName = await t.call('PATCH', `/v1/orgs/${owner.orgId}/teams/${second.body.id}`, {
      cookie: owner.cookie,
      body: { name: 'Finance', roles: ['org_admin_read_only'] },
    });
    expect(sameName.status).toBe(200);
    const elsewhere = await t.call('POST', `/v1/orgs/${other.orgId}/teams`, {
      cookie: other.cookie,
      body: { name: 'Billing', roles: ['member'] },
    });
    expect(elsewhere.status).toBe(201);
  });

  it('refuses missing or bad team fields with a 400 naming the field; owner is never a team role', async () => {
    const url = `/v1/orgs/${owner.orgId}/teams`;
    expectValidation(await t.call('POST', url, { cookie: owner.cookie, body: { roles: ['member'] } }), 'name');
    expectValidation(await t.call('POST', url, { cookie: owner.cookie, body: { name: 'X' } }), 'roles');
    expectValidation(
      await t.call('POST', url, { cookie: owner.cookie, body: { name: '   ', roles: ['member'] } }),
      'name',
    );
    expectValidation(
      await t.call('POST', url, { cookie: owner.cookie, body: { name: 'x'.repeat(101), roles: ['member'] } }),
      'name',
    );
    expectValidation(
      await t.call('POST', url, { cookie: owner.cookie, body: { name: 'Owners', roles: ['owner'] } }),
      'roles.0',
    );
    const team = await t.call('POST', url, { cookie: owner.cookie, body: { name: 'Patchable', roles: ['member'] } });
    const patchUrl = `${url}/${team.body.id}`;
    expectValidation(await t.call('PATCH', patchUrl, { cookie: owner.cookie, body: {} }), 'name');
    expectValidation(await t.call('PATCH', patchUrl, { cookie: owner.cookie, body: { roles: ['owner'] } }), 'roles.0');
    expectValidation(await t.call('PATCH', patchUrl, { cookie: owner.cookie, body: { roles: [] } }), 'roles');
    const listed = await t.call('GET', url, { cookie: owner.cookie });
    expect(listed.body.data.map((entry: any) => entry.name)).not.toContain('Owners');
    expect(listed.body.data.find((entry: any) => entry.id === team.body.id).roles).toEqual(['member']);
  });

  it('lets org_admin_read_only list teams but not change them; a plain member cannot list them', async () => {
    const create = await t.call('POST', `/v1/orgs/${owner.orgId}/teams`, {
      cookie: reader.cookie,
      body: { name: 'Readers', roles: ['member'] },
    });
    expect(create.status).toBe(403);
    expect(create.body.error.code).toBe('insufficient_role');
    const list = await t.call('GET', `/v1/orgs/${owner.orgId}/teams`, { cookie: plain.cookie });
    expect(list.status).toBe(403);
    const listed = await t.call('GET', `/v1/orgs/${owner.orgId}/teams`, { cookie: reader.cookie });
    expect(listed.body.data.map((entry: any) => entry.name)).not.toContain('Readers');
  });

  it('adds up roles from a team: a plain member in an org_admin team can invite, until removed', async () => {
    const member = await join(owner, ['member']);
    const inviteUrl = `/v1/orgs/${owner.orgId}/invitations`;
    const before = await t.call('POST', inviteUrl, {
      cookie: member.cookie,
      body: { email: 'friend-one@example.com', roles: ['member'] },
    });
    expect(before.status).toBe(403);

    const team = await t.call('POST', `/v1/orgs/${owner.orgId}/teams`, {
      cookie: owner.cookie,
      body: { name: 'Admins', roles: ['org_admin'] },
    });
    const added = await t.call('PUT', `/v1/orgs/${owner.orgId}/teams/${team.body.id}/members/${member.userId}`, {
      cookie: owner.cookie,
    });
    expect(added.status).toBe(200);
    expect(added.body.members).toEqual([
      { user_id: member.userId, email: member.email, full_name: expect.any(String) },
    ]);
    const twice = await t.call('PUT', `/v1/orgs/${owner.orgId}/teams/${team.body.id}/members/${member.userId}`, {
      cookie: owner.cookie,
    });
    expect(twice.status).toBe(200);
    expect(twice.body.members).toHaveLength(1);

    expect(await memberOf(owner, member.userId)).toMatchObject({
      roles: ['member'],
      team_roles: ['org_admin'],
      effective_roles: ['org_admin', 'member'],
      teams: [{ id: team.body.id, name: 'Admins' }],
    });
    const invited = await t.call('POST', inviteUrl, {
      cookie: member.cookie,
      body: { email: 'friend-two@example.com', roles: ['member'] },
    });
    expect(invited.status).toBe(201);

    const removed = await t.call('DELETE', `/v1/orgs/${owner.orgId}/teams/${team.body.id}/members/${member.userId}`, {
      cookie: owner.cookie,
    });
    expect(removed.status).toBe(204);
    const afterRemoval = await t.call('POST', inviteUrl, {
      cookie: member.cookie,
      body: { email: 'friend-three@example.com', roles: ['member'] },
    });
    expect(afterRemoval.status).toBe(403);
    const notInTeam = await t.call('DELETE', `/v1/orgs/${owner.orgId}/teams/${team.body.id}/members/${member.userId}`, {
      cookie: owner.cookie,
    });
    expect(notInTeam.status).toBe(404);

    const actions = (await auditActions(owner)).filter((entry) => entry.target.id === team.body.id);
    expect(actions.map((entry) => entry.action)).toEqual(
      expect.arrayContaining(['team.member_added', 'team.member_removed']),
    );
    expect(actions.filter((entry) => entry.action === 'team.member_added')).toHaveLength(1);
  });

  it('deleting a team takes away the roles it granted', async () => {
    const member = await join(owner, ['member']);
    const team = await t.call('POST', `/v1/orgs/${owner.orgId}/teams`, {
      cookie: owner.cookie,
      body: { name: 'Temporary', roles: ['org_admin_read_only'] },
    });
    await t.call('PUT', `/v1/orgs/${owner.orgId}/teams/${team.body.id}/members/${member.userId}`, {
      cookie: owner.cookie,
    });
    expect((await t.call('GET', `/v1/orgs/${owner.orgId}/members`, { cookie: member.cookie })).status).toBe(200);
    await t.call('DELETE', `/v1/orgs/${owner.orgId}/teams/${team.body.id}`, { cookie: owner.cookie });
    expect((await t.call('GET', `/v1/orgs/${owner.orgId}/members`, { cookie: member.cookie })).status).toBe(403);
  });

  it("answers 404 for another org's team or user, changing nothing", async () => {
    const foreignTeam = await t.call('POST', `/v1/orgs/${other.orgId}/teams`, {
      cookie: other.cookie,
      body: { name: 'Theirs', roles: ['member'] },
    });
    const foreignId = foreignTeam.body.id;
    const ours = await t.call('POST', `/v1/orgs/${owner.orgId}/teams`, {
      cookie: owner.cookie,
      body: { name: 'Ours', roles: ['member'] },
    });
    const base = `/v1/orgs/${owner.orgId}/teams`;
    const attempts = [
      await t.call('PATCH', `${base}/${foreignId}`, { cookie: owner.cookie, body: { name: 'Hijacked' } }),
      await t.call('DELETE', `${base}/${foreignId}`, { cookie: owner.cookie }),
      await t.call('PUT', `${base}/${foreignId}/members/${plain.userId}`, { cookie: owner.cookie }),
      await t.call('PUT', `${base}/${foreignId}/members/${otherMember.userId}`, { cookie: owner.cookie }),
      await t.call('DELETE', `${base}/${foreignId}/members/${otherMember.userId}`, { cookie: owner.cookie }),
      await t.call('PUT', `${base}/${ours.body.id}/members/${otherMember.userId}`, { cookie: owner.cookie }),
      await t.call('PUT', `${base}/team_unknown/members/${plain.userId}`, { cookie: owner.cookie }),
      await t.call('PATCH', `/v1/orgs/${other.orgId}/teams/${foreignId}`, {
        cookie: owner.cookie,
        body: { name: 'Hijacked' },
      }),
      await t.call('GET', `/v1/orgs/${other.orgId}/teams`, { cookie: owner.cookie }),
    ];
    for (const response of attempts) {
      expect(response.status).toBe(404);
      expect(response.body.error.code).toBe('not_found');
    }
    const theirs = await t.call('GET', `/v1/orgs/${other.orgId}/teams`, { cookie: other.cookie });
    expect(theirs.body.data.find((team: any) => team.id === foreignId)).toMatchObject({ name: 'Theirs', members: [] });
    const oursAfter = await t.call('GET', base, { cookie: owner.cookie });
    expect(oursAfter.body.data.find((team: any) => team.id === ours.body.id).members).toEqual([]);
  });

  it('removing a member also takes them out of their teams', async () => {
    const member = await join(owner, ['member']);
    const team = await t.call('POST', `/v1/orgs/${owner.orgId}/teams`, {
      cookie: owner.cookie,
      body: { name: 'Leavers', roles: ['member'] },
    });
    await t.call('PUT', `/v1/orgs/${owner.orgId}/teams/${team.body.id}/members/${member.userId}`, {
      cookie: owner.cookie,
    });
    await t.call('DELETE', `/v1/orgs/${owner.orgId}/members/${member.userId}`, { cookie: owner.cookie });
    const teams = await t.call('GET', `/v1/orgs/${owner.orgId}/teams`, { cookie: owner.cookie });
    expect(teams.body.data.find((entry: any) => entry.id === team.body.id).members).toEqual([]);
  });
});
