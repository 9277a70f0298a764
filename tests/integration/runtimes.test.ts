import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestInstance,
  joinOrg,
  logInAdmin,
  type Owner,
  type Person,
  signUpOwner,
  type TestInstance,
} from '../helpers/instance.ts';

interface Registered {
  id: string;
  token: string;
}

const START = '2027-01-01T00:00:00.000Z';

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

async function register(org: { orgId: string }, cookie: string, name = 'edge-1'): Promise<Registered> {
  const response = await t.call('POST', `/v1/orgs/${org.orgId}/runtimes`, { cookie, body: { name } });
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return { id: response.body.runtime.id, token: response.body.token };
}

async function listRuntimes(org: Owner) {
  const response = await t.call('GET', `/v1/orgs/${org.orgId}/runtimes`, { cookie: org.cookie });
  expect(response.status).toBe(200);
  return response.body.data as Array<Record<string, any>>;
}

async function controlPlane(org: Owner) {
  const response = await t.call('GET', `/v1/orgs/${org.orgId}/control-plane`, { cookie: org.cookie });
  expect(response.status).toBe(200);
  return response.body;
}

async function now(): Promise<string> {
  return (await t.call('GET', '/v1/test-clock')).body.now;
}

async function advanceTo(instant: string) {
  const response = await t.call('POST', '/v1/test-clock/advance', { body: { to: instant } });
  expect(response.status).toBe(200);
}

function expectError(response: { status: number; body: any }, status: number, code: string, field?: string) {
  expect(response.status, JSON.stringify(response.body)).toBe(status);
  expect(response.body.error.code).toBe(code);
  if (field) expect(response.body.error.field).toBe(field);
}

beforeAll(async () => {
  t = await createTestInstance({ start: START });
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

describe('registering runtimes', () => {
  it('answers 201 with the runtime and its token once, bound to the org’s control plane', async () => {
    const plane = await controlPlane(owner);
    const at = await now();
    const response = await t.call('POST', `/v1/orgs/${owner.orgId}/runtimes`, {
      cookie: admin.cookie,
      body: { name: '  eu-west edge  ' },
    });
    expect(response.status).toBe(201);
    const { runtime, token } = response.body;
    expect(token).toMatch(/^tlrt_\S{20,}$/);
    expect(runtime).toEqual({
      id: expect.stringMatching(/^rt_/),
      org_id: owner.orgId,
      control_plane_id: plane.id,
      name: 'eu-west edge',
      token_prefix: token.slice(0, 12),
      created_at: at,
      last_seen_at: null,
      state: 'never_connected',
    });
    const listed = (await listRuntimes(owner)).find((entry) => entry.id === runtime.id);
    expect(listed).toEqual(runtime);
    expect(JSON.stringify(await listRuntimes(owner))).not.toContain(token);
    const audit = await t.call('GET', `/v1/orgs/${owner.orgId}/audit-events?limit=100`, { cookie: owner.cookie });
    expect(audit.body.data).toContainEqual(
      expect.objectContaining({
        action: 'runtime.registered',
        actor: { type: 'user', id: admin.userId },
        target: { type: 'runtime', id: runtime.id },
      }),
    );
    await t.call('DELETE', `/v1/orgs/${owner.orgId}/runtimes/${runtime.id}`, { cookie: owner.cookie });
  });

  it('refuses a missing, empty or blank name with a 400 naming name', async () => {
    const url = `/v1/orgs/${owner.orgId}/runtimes`;
    expectError(await t.call('POST', url, { cookie: owner.cookie, body: {} }), 400, 'validation_failed', 'name');
    expectError(
      await t.call('POST', url, { cookie: owner.cookie, body: { name: '' } }),
      400,
      'validation_failed',
      'name',
    );
    expectError(
      await t.call('POST', url, { cookie: owner.cookie, body: { name: '   ' } }),
      400,
      'validation_failed',
      'name',
    );
  });

  it('allows 3 live runtimes on Free: the 4th is refused and nothing is created; deleting one frees a place', async () => {
    const org = await signUpOwner(t);
    const first = await register(org, org.cookie, 'one');
    await register(org, org.cookie, 'two');
    await register(org, org.cookie, 'three');
    const refused = await t.call('POST', `/v1/orgs/${org.orgId}/runtimes`, {
      cookie: org.cookie,
      body: { name: 'four' },
    });
    expectError(refused, 403, 'plan_limit_reached');
    expect(refused.body.token).toBeUndefined();
    const listed = await listRuntimes(org);
    expect(listed.map((entry) => entry.name).sort()).toEqual(['one', 'three', 'two']);
    const audit = await t.call('GET', `/v1/orgs/${org.orgId}/audit-events?limit=100`, { cookie: org.cookie });
    expect(audit.body.data.filter((event: any) => event.action === 'runtime.registered')).toHaveLength(3);

    const deleted = await t.call('DELETE', `/v1/orgs/${org.orgId}/runtimes/${first.id}`, { cookie: org.cookie });
    expect(deleted.status).toBe(204);
    const fourth = await register(org, org.cookie, 'four');
    expect((await listRuntimes(org)).map((entry) => entry.name).sort()).toEqual(['four', 'three', 'two']);
    expectError(
      await t.call('POST', `/v1/orgs/${org.orgId}/runtimes`, { cookie: org.cookie, body: { name: 'five' } }),
      403,
      'plan_limit_reached',
    );
    const config = await t.call('GET', '/v1/runtime/config', { token: fourth.token });
    expect(config.status).toBe(200);
  });

  it('refuses concurrent registrations past the limit', async () => {
    const org = await signUpOwner(t);
    const responses = await Promise.all(
      Array.from({ length: 6 }, (_, index) =>
        t.call('POST', `/v1/orgs/${org.orgId}/runtimes`, { cookie: org.cookie, body: { name: `r${index}` } }),
      ),
    );
    expect(responses.filter((response) => response.status === 201)).toHaveLength(3);
    for (const response of responses.filter((entry) => entry.status !== 201)) {
      expectError(response, 403, 'plan_limit_reached');
    }
    expect(await listRuntimes(org)).toHaveLength(3);
  });
});

describe('deleting runtimes', () => {
  it('answers 204, drops it from the list, refuses its token with 401 and a second delete with 404', async () => {
    const runtime = await register(owner, owner.cookie, 'short-lived');
    expect((await t.call('GET', '/v1/runtime/config', { token: runtime.token })).status).toBe(200);
    const reported = await t.call('POST', '/v1/runtime/usage', {
      token: runtime.token,
      body: { report_id: 'before-delete', usage: [{ timestamp: START, requests: 1 }] },
    });
    expect(reported.status).toBe(200);
    const deleted = await t.call('DELETE', `/v1/orgs/${owner.orgId}/runtimes/${runtime.id}`, { cookie: admin.cookie });
    expect(deleted.status).toBe(204);
    expect((await listRuntimes(owner)).map((entry) => entry.id)).not.toContain(runtime.id);
    expectError(await t.call('GET', '/v1/runtime/config', { token: runtime.token }), 401, 'unauthenticated');
    expectError(
      await t.call('POST', '/v1/runtime/usage', {
        token: runtime.token,
        body: { report_id: 'after-delete', usage: [{ timestamp: START, requests: 1 }] },
      }),
      401,
      'unauthenticated',
    );
    // Whatever the report holds: a repeat, a bad record, or a repeat with a bad record.
    for (const body of [
      { report_id: 'before-delete', usage: [{ timestamp: START, requests: 1 }] },
      { report_id: 'bad-after-delete', usage: [{ timestamp: 'not a date', requests: 1 }] },
      { report_id: 'before-delete', usage: [{ timestamp: '2026-01-01T00:00:00Z', requests: 1 }] },
    ]) {
      expectError(await t.call('POST', '/v1/runtime/usage', { token: runtime.token, body }), 401, 'unauthenticated');
    }
    expectError(
      await t.call('DELETE', `/v1/orgs/${owner.orgId}/runtimes/${runtime.id}`, { cookie: owner.cookie }),
      404,
      'not_found',
    );
    expectError(
      await t.call('DELETE', `/v1/orgs/${owner.orgId}/runtimes/rt_doesnotexist`, { cookie: owner.cookie }),
      404,
      'not_found',
    );
  });
});

describe('roles', () => {
  it('lets org_admin_read_only list runtimes and read the control plane but not change them', async () => {
    const runtime = await register(owner, owner.cookie, 'roles');
    const list = await t.call('GET', `/v1/orgs/${owner.orgId}/runtimes`, { cookie: reader.cookie });
    expect(list.status).toBe(200);
    expect(list.body.next_cursor).toBeNull();
    expect(list.body.data.map((entry: any) => entry.id)).toContain(runtime.id);
    expect((await t.call('GET', `/v1/orgs/${owner.orgId}/control-plane`, { cookie: reader.cookie })).status).toBe(200);
    expectError(
      await t.call('POST', `/v1/orgs/${owner.orgId}/runtimes`, { cookie: reader.cookie, body: { name: 'x' } }),
      403,
      'insufficient_role',
    );
    expectError(
      await t.call('DELETE', `/v1/orgs/${owner.orgId}/runtimes/${runtime.id}`, { cookie: reader.cookie }),
      403,
      'insufficient_role',
    );
    expectError(
      await t.call('PUT', `/v1/orgs/${owner.orgId}/control-plane/config`, {
        cookie: reader.cookie,
        body: { routes: [] },
      }),
      403,
      'insufficient_role',
    );
    await t.call('DELETE', `/v1/orgs/${owner.orgId}/runtimes/${runtime.id}`, { cookie: owner.cookie });
  });

  it('answers 403 to a plain member for runtimes and the control plane, but lets them read usage', async () => {
    expectError(
      await t.call('GET', `/v1/orgs/${owner.orgId}/runtimes`, { cookie: plain.cookie }),
      403,
      'insufficient_role',
    );
    expectError(
      await t.call('GET', `/v1/orgs/${owner.orgId}/control-plane`, { cookie: plain.cookie }),
      403,
      'insufficient_role',
    );
    expectError(
      await t.call('POST', `/v1/orgs/${owner.orgId}/runtimes`, { cookie: plain.cookie, body: { name: 'x' } }),
      403,
      'insufficient_role',
    );
    const usage = await t.call('GET', `/v1/orgs/${owner.orgId}/usage`, { cookie: plain.cookie });
    expect(usage.status).toBe(200);
  });

  it('answers 401 without credentials and to a runtime token on org endpoints', async () => {
    const runtime = await register(owner, owner.cookie, 'not-a-person');
    expectError(await t.call('GET', `/v1/orgs/${owner.orgId}/runtimes`), 401, 'unauthenticated');
    expectError(
      await t.call('GET', `/v1/orgs/${owner.orgId}/runtimes`, { token: runtime.token }),
      401,
      'unauthenticated',
    );
    expectError(
      await t.call('POST', `/v1/orgs/${owner.orgId}/runtimes`, { token: runtime.token, body: { name: 'x' } }),
      401,
      'unauthenticated',
    );
    expectError(await t.call('GET', `/v1/orgs/${owner.orgId}/usage`, { token: runtime.token }), 401, 'unauthenticated');
    await t.call('DELETE', `/v1/orgs/${owner.orgId}/runtimes/${runtime.id}`, { cookie: owner.cookie });
  });
});

describe('runtime authentication', () => {
  it('answers 401 to a missing, malformed or unknown runtime token and to a session cookie', async () => {
    const cases: Array<Record<string, string>> = [
      {},
      { authorization: 'tlrt_abc' },
      { authorization: 'Basic dXNlcjpwYXNz' },
      { authorization: `Bearer tlrt_${'x'.repeat(40)}` },
      { authorization: 'Bearer tlp_notaruntimetoken' },
    ];
    for (const headers of cases) {
      const config = await t.call('GET', '/v1/runtime/config', { headers });
      expect(config.status, JSON.stringify(headers)).toBe(401);
      const usage = await t.call('POST', '/v1/runtime/usage', { headers, body: { report_id: 'r', usage: [] } });
      expect(usage.status, JSON.stringify(headers)).toBe(401);
    }
    expectError(await t.call('GET', '/v1/runtime/config', { cookie: owner.cookie }), 401, 'unauthenticated');
  });
});

describe('control plane configuration', () => {
  it('starts at version 1 with no routes', async () => {
    const org = await signUpOwner(t);
    expect(await controlPlane(org)).toMatchObject({
      id: expect.any(String),
      org_id: org.orgId,
      status: 'active',
      version: 1,
      config: { routes: [] },
    });
  });

  it('syncs new routes and version to runtimes, and tracks when the runtime was last seen', async () => {
    const org = await signUpOwner(t);
    const runtime = await register(org, org.cookie, 'sync');
    const before = await controlPlane(org);
    const routes = [
      { path_prefix: '/payments', upstream_url: 'https://payments.internal:8443', service: 'payments' },
      { path_prefix: '/search/v2', upstream_url: 'http://search.internal' },
    ];
    const put = await t.call('PUT', `/v1/orgs/${org.orgId}/control-plane/config`, {
      cookie: org.cookie,
      body: { routes },
    });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    const expectedRoutes = [routes[0], { ...routes[1], service: 'search' }];
    expect(put.body).toMatchObject({
      id: before.id,
      org_id: org.orgId,
      status: 'active',
      version: before.version + 1,
      config: { routes: expectedRoutes },
    });
    expect(await controlPlane(org)).toEqual(put.body);

    expect((await listRuntimes(org))[0]).toMatchObject({ last_seen_at: null, state: 'never_connected' });
    const seenAt = await now();
    const config = await t.call('GET', '/v1/runtime/config', { token: runtime.token });
    expect(config.status).toBe(200);
    expect(config.body).toEqual({
      control_plane_id: before.id,
      org_id: org.orgId,
      runtime_id: runtime.id,
      version: before.version + 1,
      routes: expectedRoutes,
    });
    expect((await listRuntimes(org))[0]).toMatchObject({ last_seen_at: seenAt, state: 'connected' });

    // Seen within 5 minutes is connected; a millisecond more is disconnected.
    const fiveMinutesOn = new Date(Date.parse(seenAt) + 5 * 60_000).toISOString();
    await advanceTo(fiveMinutesOn);
    expect((await listRuntimes(org))[0]).toMatchObject({ last_seen_at: seenAt, state: 'connected' });
    await advanceTo(new Date(Date.parse(fiveMinutesOn) + 1).toISOString());
    expect((await listRuntimes(org))[0]).toMatchObject({ last_seen_at: seenAt, state: 'disconnected' });

    // A usage report counts as contact too.
    const reportedAt = await now();
    const usage = await t.call('POST', '/v1/runtime/usage', {
      token: runtime.token,
      body: { report_id: 'contact', usage: [{ timestamp: reportedAt, requests: 1 }] },
    });
    expect(usage.status).toBe(200);
    expect((await listRuntimes(org))[0]).toMatchObject({ last_seen_at: reportedAt, state: 'connected' });

    // A second change bumps the version again; runtimes see it on the next sync.
    const cleared = await t.call('PUT', `/v1/orgs/${org.orgId}/control-plane/config`, {
      cookie: org.cookie,
      body: { routes: [] },
    });
    expect(cleared.body.version).toBe(before.version + 2);
    const again = await t.call('GET', '/v1/runtime/config', { token: runtime.token });
    expect(again.body).toMatchObject({ version: before.version + 2, routes: [] });
  });

  it('refuses bad routes with a 400 naming the field and changes nothing', async () => {
    const org = await signUpOwner(t);
    const before = await controlPlane(org);
    const put = (routes: unknown) =>
      t.call('PUT', `/v1/orgs/${org.orgId}/control-plane/config`, { cookie: org.cookie, body: { routes } });
    const good = { path_prefix: '/ok', upstream_url: 'http://ok.internal' };
    expectError(
      await put([good, { path_prefix: 'api', upstream_url: 'http://a.internal' }]),
      400,
      'validation_failed',
      'routes.1.path_prefix',
    );
    expectError(
      await put([good, { path_prefix: '/b', upstream_url: 'http://b.internal' }, { ...good }]),
      400,
      'validation_failed',
      'routes.2.path_prefix',
    );
    expectError(
      await put([{ path_prefix: '/ftp', upstream_url: 'ftp://files.internal' }]),
      400,
      'validation_failed',
      'routes.0.upstream_url',
    );
    expectError(
      await put([good, { path_prefix: '/x', upstream_url: 'not a url' }]),
      400,
      'validation_failed',
      'routes.1.upstream_url',
    );
    expectError(await put([{ path_prefix: '/x' }]), 400, 'validation_failed', 'routes.0.upstream_url');
    expectError(
      await put([{ path_prefix: '', upstream_url: 'http://x' }]),
      400,
      'validation_failed',
      'routes.0.path_prefix',
    );
    expectError(await put('nope'), 400, 'validation_failed', 'routes');
    expect(await controlPlane(org)).toEqual(before);
  });
});

describe('another org', () => {
  it('cannot see or change this org’s runtimes, control plane or usage: 404', async () => {
    const mine = await register(owner, owner.cookie, 'mine');
    for (const cookie of [other.cookie, otherMember.cookie]) {
      for (const path of ['runtimes', 'control-plane', 'usage']) {
        expectError(await t.call('GET', `/v1/orgs/${owner.orgId}/${path}`, { cookie }), 404, 'not_found');
      }
    }
    expectError(
      await t.call('POST', `/v1/orgs/${owner.orgId}/runtimes`, { cookie: other.cookie, body: { name: 'x' } }),
      404,
      'not_found',
    );
    expectError(
      await t.call('PUT', `/v1/orgs/${owner.orgId}/control-plane/config`, {
        cookie: other.cookie,
        body: { routes: [] },
      }),
      404,
      'not_found',
    );
    // Through this org's URL and through their own.
    expectError(
      await t.call('DELETE', `/v1/orgs/${owner.orgId}/runtimes/${mine.id}`, { cookie: other.cookie }),
      404,
      'not_found',
    );
    expectError(
      await t.call('DELETE', `/v1/orgs/${other.orgId}/runtimes/${mine.id}`, { cookie: other.cookie }),
      404,
      'not_found',
    );
    const config = await t.call('GET', '/v1/runtime/config', { token: mine.token });
    expect(config.status).toBe(200);
    expect(config.body.org_id).toBe(owner.orgId);
    expect((await listRuntimes(owner)).map((entry) => entry.id)).toContain(mine.id);
    await t.call('DELETE', `/v1/orgs/${owner.orgId}/runtimes/${mine.id}`, { cookie: owner.cookie });
  });

  it('has runtimes that see only their own control plane', async () => {
    await t.call('PUT', `/v1/orgs/${owner.orgId}/control-plane/config`, {
      cookie: owner.cookie,
      body: { routes: [{ path_prefix: '/owner-only', upstream_url: 'http://secret.internal' }] },
    });
    const theirs = await register(other, other.cookie, 'theirs');
    const config = await t.call('GET', '/v1/runtime/config', { token: theirs.token });
    expect(config.status).toBe(200);
    expect(config.body.org_id).toBe(other.orgId);
    expect(config.body.control_plane_id).toBe((await controlPlane(other)).id);
    expect(JSON.stringify(config.body)).not.toContain('owner-only');
  });
});

describe('decommissioning the control plane', () => {
  it('is staff-only, needs a reason, and answers 404 for an unknown org', async () => {
    const org = await signUpOwner(t);
    const url = `/v1/admin/orgs/${org.orgId}/control-plane/decommission`;
    expectError(await t.call('POST', url, { cookie: org.cookie, body: { reason: 'x' } }), 403, 'staff_required');
    expectError(await t.call('POST', url, { body: { reason: 'x' } }), 401, 'unauthenticated');
    expectError(await t.call('POST', url, { cookie: staff, body: {} }), 400, 'validation_failed', 'reason');
    expectError(
      await t.call('POST', url, { cookie: staff, body: { reason: '   ' } }),
      400,
      'validation_failed',
      'reason',
    );
    expectError(
      await t.call('POST', '/v1/admin/orgs/org_doesnotexist/control-plane/decommission', {
        cookie: staff,
        body: { reason: 'abuse' },
      }),
      404,
      'not_found',
    );
    expect((await controlPlane(org)).status).toBe('active');
  });

  it('refuses runtimes and changes with control_plane_decommissioned, and keeps usage already counted', async () => {
    const org = await signUpOwner(t);
    const runtime = await register(org, org.cookie, 'doomed');
    await t.call('PUT', `/v1/orgs/${org.orgId}/control-plane/config`, {
      cookie: org.cookie,
      body: { routes: [{ path_prefix: '/api', upstream_url: 'http://api.internal' }] },
    });
    const at = await now();
    const reported = await t.call('POST', '/v1/runtime/usage', {
      token: runtime.token,
      body: { report_id: 'before', usage: [{ timestamp: at, requests: 42, service: 'api' }] },
    });
    expect(reported.status).toBe(200);

    const url = `/v1/admin/orgs/${org.orgId}/control-plane/decommission`;
    const decommissioned = await t.call('POST', url, { cookie: staff, body: { reason: 'compromised fleet' } });
    expect(decommissioned.status, JSON.stringify(decommissioned.body)).toBe(200);
    expect(decommissioned.body).toMatchObject({ org_id: org.orgId, status: 'decommissioned', decommissioned_at: at });
    expectError(await t.call('POST', url, { cookie: staff, body: { reason: 'again' } }), 409, 'already_decommissioned');

    expectError(
      await t.call('GET', '/v1/runtime/config', { token: runtime.token }),
      403,
      'control_plane_decommissioned',
    );
    expectError(
      await t.call('POST', '/v1/runtime/usage', {
        token: runtime.token,
        body: { report_id: 'after', usage: [{ timestamp: at, requests: 1 }] },
      }),
      403,
      'control_plane_decommissioned',
    );
    // Even a repeat of an accepted report, or one with a bad record, is refused the same way.
    for (const usage of [
      [{ timestamp: at, requests: 42, service: 'api' }],
      [{ timestamp: 'not a date', requests: 1 }],
      [{ timestamp: '2026-01-01T00:00:00Z', requests: 1 }],
    ]) {
      for (const reportId of ['before', 'new-one']) {
        expectError(
          await t.call('POST', '/v1/runtime/usage', { token: runtime.token, body: { report_id: reportId, usage } }),
          403,
          'control_plane_decommissioned',
        );
      }
    }
    expectError(
      await t.call('POST', `/v1/orgs/${org.orgId}/runtimes`, { cookie: org.cookie, body: { name: 'new' } }),
      403,
      'control_plane_decommissioned',
    );
    expectError(
      await t.call('PUT', `/v1/orgs/${org.orgId}/control-plane/config`, {
        cookie: org.cookie,
        body: { routes: [] },
      }),
      403,
      'control_plane_decommissioned',
    );

    const listed = await listRuntimes(org);
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ id: runtime.id, state: 'decommissioned' });
    const plane = await controlPlane(org);
    expect(plane).toMatchObject({ status: 'decommissioned', config: { routes: [{ path_prefix: '/api' }] } });
    const usage = await t.call('GET', `/v1/orgs/${org.orgId}/usage?granularity=hour`, { cookie: org.cookie });
    expect(usage.status).toBe(200);
    expect(usage.body.total).toBe(42);

    const audit = await t.call('GET', `/v1/orgs/${org.orgId}/audit-events?limit=100`, { cookie: org.cookie });
    expect(audit.body.data).toContainEqual(
      expect.objectContaining({ action: 'control_plane.decommissioned', reason: 'compromised fleet' }),
    );

    // A deleted runtime's token is a 401 whatever its control plane.
    const deleted = await t.call('DELETE', `/v1/orgs/${org.orgId}/runtimes/${runtime.id}`, { cookie: org.cookie });
    expect(deleted.status).toBe(204);
    expectError(await t.call('GET', '/v1/runtime/config', { token: runtime.token }), 401, 'unauthenticated');
  });
});
