import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { expect } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createTierline, type Tierline } from '../../src/tierline.ts';

export interface TestInstance extends Tierline {
  /** Sends a request through the real HTTP stack (inject), JSON in and out. */
  call(
    method: string,
    url: string,
    options?: { body?: unknown; cookie?: string; token?: string; headers?: Record<string, string> },
  ): Promise<{ status: number; body: any; headers: Record<string, unknown>; cookie?: string }>;
}

/**
 * A whole Tierline on a fresh database: embedded in memory, or a new database on the PostgreSQL
 * server named by DATABASE_URL (dropped at close).
 */
export async function createTestInstance(
  options: { testClock?: boolean; start?: string; env?: Record<string, string> } = {},
): Promise<TestInstance> {
  let databaseUrl: string | undefined;
  let dropDatabase: (() => Promise<void>) | undefined;
  const serverUrl = process.env.DATABASE_URL;
  if (serverUrl) {
    const name = `tierline_test_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: serverUrl });
    await admin.connect();
    await admin.query(`create database ${name}`);
    await admin.end();
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    databaseUrl = url.toString();
    dropDatabase = async () => {
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      await client.query(`drop database if exists ${name} with (force)`);
      await client.end();
    };
  }
  const config = loadConfig({
    TIERLINE_DATA_DIR: 'memory://',
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    ...(options.testClock === false ? {} : { TIERLINE_TEST_CLOCK: '1' }),
    TIERLINE_TEST_CLOCK_START: options.start ?? '2027-01-01T00:00:00.000Z',
    TIERLINE_ADMIN_EMAIL: 'admin@tierline.test',
    TIERLINE_ADMIN_PASSWORD: 'admin-password-1',
    ...options.env,
  });
  const tierline = await createTierline(config);
  const call: TestInstance['call'] = async (method, url, callOptions = {}) => {
    const headers: Record<string, string> = { ...callOptions.headers };
    if (callOptions.cookie) headers.cookie = callOptions.cookie;
    if (callOptions.token) headers.authorization = `Bearer ${callOptions.token}`;
    const response = await tierline.app.inject({
      method: method as 'GET',
      url,
      headers,
      ...(callOptions.body !== undefined ? { payload: callOptions.body as object } : {}),
    });
    const setCookie = response.cookies.find((c) => c.name === 'tierline_session');
    let body: unknown = response.body;
    if (String(response.headers['content-type'] ?? '').includes('json') && response.body)
      body = JSON.parse(response.body);
    return {
      status: response.statusCode,
      body,
      headers: response.headers,
      cookie: setCookie ? `tierline_session=${setCookie.value}` : undefined,
    };
  };
  return {
    ...tierline,
    call,
    async close() {
      await tierline.close();
      await dropDatabase?.();
    },
  };
}

let counter = 0;

/** Signs up a new person with a new org; returns ids and the session cookie. */
export async function signUpOwner(
  instance: TestInstance,
  overrides: Partial<{ email: string; password: string; org_name: string; full_name: string }> = {},
) {
  counter++;
  const body = {
    email: overrides.email ?? `owner${counter}-${randomBytes(3).toString('hex')}@example.com`,
    password: overrides.password ?? 'correct-horse-battery',
    full_name: overrides.full_name ?? `Owner ${counter}`,
    org_name: overrides.org_name ?? `Org ${counter}`,
  };
  const response = await instance.call('POST', '/v1/signup', { body });
  if (response.status !== 201) throw new Error(`signup failed: ${response.status} ${JSON.stringify(response.body)}`);
  return {
    email: body.email,
    password: body.password,
    userId: response.body.user.id as string,
    orgId: response.body.org.id as string,
    cookie: response.cookie as string,
  };
}

/** Logs in as the bootstrapped admin staff member; returns the session cookie. */
export async function logInAdmin(instance: TestInstance) {
  const response = await instance.call('POST', '/v1/auth/login', {
    body: { email: 'admin@tierline.test', password: 'admin-password-1' },
  });
  if (response.status !== 200) throw new Error(`admin login failed: ${response.status}`);
  return response.cookie as string;
}

export type Owner = Awaited<ReturnType<typeof signUpOwner>>;
export interface Person {
  email: string;
  userId: string;
  cookie: string;
}

/**
 * A new person joins the org with roles, as a person would: the owner invites them, the token comes
 * from the emailed invitation (read through the staff outbox), and they accept it.
 */
export async function joinOrg(
  instance: TestInstance,
  org: { orgId: string; cookie: string },
  roles: string[],
  staffCookie: string,
): Promise<Person> {
  const email = `member-${randomBytes(4).toString('hex')}@example.com`;
  const invited = await instance.call('POST', `/v1/orgs/${org.orgId}/invitations`, {
    cookie: org.cookie,
    body: { email, roles },
  });
  if (invited.status !== 201) throw new Error(`invitation failed: ${invited.status} ${JSON.stringify(invited.body)}`);
  const outbox = await instance.call('GET', `/v1/admin/outbox?to=${encodeURIComponent(email)}`, {
    cookie: staffCookie,
  });
  const token = /token=(\S+)/.exec(outbox.body.data[0].body)?.[1];
  const accepted = await instance.call('POST', '/v1/invitations/accept', {
    body: { token, password: 'member-password-1', full_name: `Member ${email}` },
  });
  if (accepted.status !== 200) throw new Error(`accepting failed: ${accepted.status} ${JSON.stringify(accepted.body)}`);
  return { email, userId: accepted.body.user.id, cookie: accepted.cookie as string };
}

/** Every audit event of the org, across all pages (events of one test-clock instant are ordered by id). */
export async function allAuditEvents(instance: TestInstance, org: { orgId: string }, cookie: string) {
  const events: Array<Record<string, any>> = [];
  let cursor: string | null = null;
  do {
    const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
    const response = await instance.call('GET', `/v1/orgs/${org.orgId}/audit-events?limit=100${query}`, { cookie });
    if (response.status !== 200) throw new Error(`audit events: ${response.status} ${JSON.stringify(response.body)}`);
    events.push(...response.body.data);
    cursor = response.body.next_cursor;
  } while (cursor);
  return events;
}

/** A 400 validation_failed naming the field. */
export function expectValidation(response: { status: number; body: any }, field: string) {
  expect(response.status, JSON.stringify(response.body)).toBe(400);
  expect(response.body.error.code).toBe('validation_failed');
  expect(response.body.error.field).toBe(field);
}
