import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestInstance, signUpOwner, type TestInstance } from '../helpers/instance.ts';

let t: TestInstance;
beforeAll(async () => {
  t = await createTestInstance();
});
afterAll(async () => {
  await t.close();
});

async function createToken(cookie: string, body: Record<string, unknown> = { name: 'ci' }) {
  const response = await t.call('POST', '/v1/me/tokens', { cookie, body });
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return response.body as { token: string; id: string; name: string; prefix: string; expires_at: string | null };
}

describe('personal access tokens', () => {
  it('are created by a session and shown once', async () => {
    const owner = await signUpOwner(t);
    const created = await t.call('POST', '/v1/me/tokens', { cookie: owner.cookie, body: { name: '  deploy bot ' } });
    expect(created.status).toBe(201);
    expect(created.body.token).toMatch(/^tlp_/);
    expect(created.body).toMatchObject({
      name: 'deploy bot',
      kind: 'personal',
      prefix: created.body.token.slice(0, 12),
      expires_at: null,
      revoked_at: null,
    });
    expect(created.body.id).toMatch(/^tok_/);
    const list = await t.call('GET', '/v1/me/tokens', { cookie: owner.cookie });
    expect(list.status).toBe(200);
    expect(list.body.next_cursor).toBeNull();
    expect(list.body.data).toHaveLength(1);
    expect(list.body.data[0].id).toBe(created.body.id);
    expect(list.body.data[0].prefix).toBe(created.body.prefix);
    expect(list.body.data[0]).not.toHaveProperty('token');
    expect(JSON.stringify(list.body)).not.toContain(created.body.token);
  });

  it('lists the newest first and only the caller’s own', async () => {
    const owner = await signUpOwner(t);
    const other = await signUpOwner(t);
    const first = await createToken(owner.cookie, { name: 'first' });
    const clock = await t.call('GET', '/v1/test-clock');
    await t.call('POST', '/v1/test-clock/advance', {
      body: { to: new Date(Date.parse(clock.body.now) + 1000).toISOString() },
    });
    const second = await createToken(owner.cookie, { name: 'second' });
    await createToken(other.cookie, { name: 'someone else' });
    const list = await t.call('GET', '/v1/me/tokens', { cookie: owner.cookie });
    expect(list.body.data.map((token: { id: string }) => token.id)).toEqual([second.id, first.id]);
  });

  it('need a session: a token cannot make tokens, and no credentials is a 401', async () => {
    const owner = await signUpOwner(t);
    const { token } = await createToken(owner.cookie);
    const withToken = await t.call('POST', '/v1/me/tokens', { token, body: { name: 'nested' } });
    expect(withToken.status).toBe(403);
    expect(withToken.body.error.code).toBe('session_required');
    const listWithToken = await t.call('GET', '/v1/me/tokens', { token });
    expect(listWithToken.status).toBe(403);
    const anonymous = await t.call('POST', '/v1/me/tokens', { body: { name: 'nobody' } });
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error.code).toBe('unauthenticated');
    expect((await t.call('GET', '/v1/me/tokens')).status).toBe(401);
  });

  it('authenticate the API as the user in the org, and nowhere else', async () => {
    const owner = await signUpOwner(t);
    const stranger = await signUpOwner(t);
    const { token } = await createToken(owner.cookie);
    const me = await t.call('GET', '/v1/me', { token });
    expect(me.status).toBe(200);
    expect(me.body.via).toBe('personal_token');
    expect(me.body.user.id).toBe(owner.userId);
    expect(me.body.org.id).toBe(owner.orgId);
    expect(me.body.roles).toEqual(['owner']);
    const own = await t.call('GET', `/v1/orgs/${owner.orgId}`, { token });
    expect(own.status).toBe(200);
    const foreign = await t.call('GET', `/v1/orgs/${stranger.orgId}`, { token });
    expect(foreign.status).toBe(404);
    expect(foreign.body.error.code).toBe('not_found');
    expect(JSON.stringify(foreign.body)).not.toContain(stranger.email);
  });

  it('are revoked: the token stops working and leaves the list, with an audit event', async () => {
    const owner = await signUpOwner(t);
    const created = await createToken(owner.cookie, { name: 'to revoke' });
    const kept = await createToken(owner.cookie, { name: 'to keep' });
    const revoke = await t.call('DELETE', `/v1/me/tokens/${created.id}`, { cookie: owner.cookie });
    expect(revoke.status).toBe(204);
    const me = await t.call('GET', '/v1/me', { token: created.token });
    expect(me.status).toBe(401);
    expect(me.body.error.code).toBe('unauthenticated');
    expect((await t.call('GET', '/v1/me', { token: kept.token })).status).toBe(200);
    const list = await t.call('GET', '/v1/me/tokens', { cookie: owner.cookie });
    expect(list.body.data.map((token: { id: string }) => token.id)).toEqual([kept.id]);
    const again = await t.call('DELETE', `/v1/me/tokens/${created.id}`, { cookie: owner.cookie });
    expect(again.status).toBe(404);
    const audit = await t.call('GET', `/v1/orgs/${owner.orgId}/audit-events`, { cookie: owner.cookie });
    expect(audit.status).toBe(200);
    const revoked = audit.body.data.find((event: { action: string }) => event.action === 'token.revoked');
    expect(revoked).toMatchObject({
      actor: { type: 'user', id: owner.userId },
      target: { type: 'api_token', id: created.id },
    });
  });

  it('cannot be revoked by another user, nor by a token', async () => {
    const owner = await signUpOwner(t);
    const other = await signUpOwner(t);
    const created = await createToken(owner.cookie);
    const byOther = await t.call('DELETE', `/v1/me/tokens/${created.id}`, { cookie: other.cookie });
    expect(byOther.status).toBe(404);
    expect(byOther.body.error.code).toBe('not_found');
    const byToken = await t.call('DELETE', `/v1/me/tokens/${created.id}`, { token: created.token });
    expect(byToken.status).toBe(403);
    expect((await t.call('DELETE', '/v1/me/tokens/tok_doesnotexist', { cookie: owner.cookie })).status).toBe(404);
    expect((await t.call('GET', '/v1/me', { token: created.token })).status).toBe(200);
  });

  it('refuse bad fields with a 400 naming the field', async () => {
    const owner = await signUpOwner(t);
    const cases: Array<[Record<string, unknown>, string]> = [
      [{}, 'name'],
      [{ expires_in_days: 30 }, 'name'],
      [{ name: '   ' }, 'name'],
      [{ name: 42 }, 'name'],
      [{ name: 'x'.repeat(101) }, 'name'],
      [{ name: 'ci', expires_in_days: 0 }, 'expires_in_days'],
      [{ name: 'ci', expires_in_days: 'x' }, 'expires_in_days'],
      [{ name: 'ci', expires_in_days: 1.5 }, 'expires_in_days'],
      [{ name: 'ci', expires_in_days: 3651 }, 'expires_in_days'],
    ];
    for (const [body, field] of cases) {
      const response = await t.call('POST', '/v1/me/tokens', { cookie: owner.cookie, body });
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body.error.code).toBe('validation_failed');
      expect(response.body.error.field, JSON.stringify(body)).toBe(field);
    }
    const list = await t.call('GET', '/v1/me/tokens', { cookie: owner.cookie });
    expect(list.body.data).toHaveLength(0);
  });

  it('answer 401 to a malformed Authorization header or an unknown token', async () => {
    for (const authorization of ['Basic dXNlcjpwYXNz', 'Bearer', 'Bearer two words', 'tlp_no_scheme']) {
      const response = await t.call('GET', '/v1/me', { headers: { authorization } });
      expect(response.status, authorization).toBe(401);
      expect(response.body.error.code).toBe('unauthenticated');
    }
    const unknown = await t.call('GET', '/v1/me', { token: `tlp_${'x'.repeat(40)}` });
    expect(unknown.status).toBe(401);
  });

  it('expire after expires_in_days', async () => {
    const owner = await signUpOwner(t);
    const clock = await t.call('GET', '/v1/test-clock');
    const start = Date.parse(clock.body.now);
    const created = await createToken(owner.cookie, { name: 'short lived', expires_in_days: 1 });
    expect(created.expires_at).toBe(new Date(start + 86_400_000).toISOString());
    const lasting = await createToken(owner.cookie, { name: 'lasting' });
    await t.call('POST', '/v1/test-clock/advance', { body: { to: new Date(start + 86_400_000 - 1000).toISOString() } });
    expect((await t.call('GET', '/v1/me', { token: created.token })).status).toBe(200);
    await t.call('POST', '/v1/test-clock/advance', { body: { to: new Date(start + 86_400_000).toISOString() } });
    const expired = await t.call('GET', '/v1/me', { token: created.token });
    expect(expired.status).toBe(401);
    expect(expired.body.error.code).toBe('unauthenticated');
    expect((await t.call('GET', '/v1/me', { token: lasting.token })).status).toBe(200);
  });
});
