import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliverDueWebhooks } from '../../src/modules/webhooks/index.ts';
import {
  allAuditEvents,
  createTestInstance,
  joinOrg,
  logInAdmin,
  type Owner,
  type Person,
  signUpOwner,
  type TestInstance,
} from '../helpers/instance.ts';
import { bodyProblem, fillPath, type Operation, operationsOf } from '../helpers/openapi-routes.ts';

/**
 * Issue 8: for every org-scoped route in /openapi.json, callers of another org (session, personal
 * token, system token, runtime token), anonymous callers and callers without the needed role are
 * refused, the answer leaks nothing, and nothing changes.
 */

/** What a route needs, read from its requireOrgAccess / requireStaff call in src/modules. */
type Level = 'read' | 'read_admin' | 'manage' | 'owner' | 'staff';

/**
 * Every path of /openapi.json holding {org_id}, with the access its code asks for. A new org-scoped
 * route fails the "covers exactly" test until it is classified here.
 */
const ACCESS: Record<string, Level> = {
  'GET /v1/orgs/{org_id}': 'read',
  'GET /v1/orgs/{org_id}/audit-events': 'read_admin',
  'GET /v1/orgs/{org_id}/members': 'read_admin',
  'PUT /v1/orgs/{org_id}/members/{user_id}/roles': 'manage',
  'DELETE /v1/orgs/{org_id}/members/{user_id}': 'manage',
  // requireOrgAccess(read), then transferOwnership refuses anyone but the owner (owner_required).
  'POST /v1/orgs/{org_id}/owner-transfer': 'owner',
  'POST /v1/orgs/{org_id}/teams': 'manage',
  'GET /v1/orgs/{org_id}/teams': 'read_admin',
  'PATCH /v1/orgs/{org_id}/teams/{team_id}': 'manage',
  'DELETE /v1/orgs/{org_id}/teams/{team_id}': 'manage',
  'PUT /v1/orgs/{org_id}/teams/{team_id}/members/{user_id}': 'manage',
  'DELETE /v1/orgs/{org_id}/teams/{team_id}/members/{user_id}': 'manage',
  'POST /v1/orgs/{org_id}/invitations': 'manage',
  'GET /v1/orgs/{org_id}/invitations': 'read_admin',
  'DELETE /v1/orgs/{org_id}/invitations/{invitation_id}': 'manage',
  'POST /v1/orgs/{org_id}/system-accounts': 'manage',
  'GET /v1/orgs/{org_id}/system-accounts': 'read_admin',
  'DELETE /v1/orgs/{org_id}/system-accounts/{system_account_id}': 'manage',
  'POST /v1/orgs/{org_id}/system-accounts/{system_account_id}/tokens': 'manage',
  'DELETE /v1/orgs/{org_id}/system-accounts/{system_account_id}/tokens/{token_id}': 'manage',
  'POST /v1/orgs/{org_id}/runtimes': 'manage',
  'GET /v1/orgs/{org_id}/runtimes': 'read_admin',
  'DELETE /v1/orgs/{org_id}/runtimes/{runtime_id}': 'manage',
  'GET /v1/orgs/{org_id}/control-plane': 'read_admin',
  'PUT /v1/orgs/{org_id}/control-plane/config': 'manage',
  'GET /v1/orgs/{org_id}/usage': 'read',
  'GET /v1/orgs/{org_id}/billing': 'read',
  'POST /v1/orgs/{org_id}/payment-methods': 'manage',
  'GET /v1/orgs/{org_id}/payment-methods': 'read_admin',
  'POST /v1/orgs/{org_id}/subscription': 'manage',
  'DELETE /v1/orgs/{org_id}/subscription': 'manage',
  'POST /v1/orgs/{org_id}/subscription/preview': 'manage',
  'POST /v1/orgs/{org_id}/sales-inquiries': 'manage',
  'GET /v1/orgs/{org_id}/invoices': 'read',
  'GET /v1/orgs/{org_id}/invoices/{invoice_id}': 'read',
  'GET /v1/orgs/{org_id}/invoices/{invoice_id}/pdf': 'read',
  'GET /v1/admin/orgs/{org_id}': 'staff',
  'POST /v1/admin/orgs/{org_id}/deactivate': 'staff',
  'POST /v1/admin/orgs/{org_id}/reactivate': 'staff',
  'PUT /v1/admin/orgs/{org_id}/subscription': 'staff',
  'POST /v1/admin/orgs/{org_id}/control-plane/decommission': 'staff',
};

/** The ids an org-scoped request can name: path params, and ids inside bodies. */
type Ids = {
  org_id: string;
  user_id: string;
  team_id: string;
  invitation_id: string;
  system_account_id: string;
  token_id: string;
  runtime_id: string;
  invoice_id: string;
  payment_method_id: string;
  email: string;
  endpoint_id: string;
  delivery_id: string;
};

const CARD = { number: '4242424242424242', exp_month: 12, exp_year: 2030, cvc: '123' };

/**
 * A body each route would accept from a caller allowed to call it, so that a refusal is about access
 * and not a 400. Checked against the OpenAPI requestBody schema, and required for every route that has one.
 */
const BODIES: Record<string, (ids: Ids) => unknown> = {
  'PUT /v1/orgs/{org_id}/members/{user_id}/roles': () => ({ roles: ['org_admin'] }),
  'POST /v1/orgs/{org_id}/owner-transfer': (ids) => ({ user_id: ids.user_id }),
  'POST /v1/orgs/{org_id}/teams': () => ({ name: 'Intruders', roles: ['org_admin'] }),
  'PATCH /v1/orgs/{org_id}/teams/{team_id}': () => ({ name: 'Taken over', roles: ['org_admin'] }),
  'POST /v1/orgs/{org_id}/invitations': () => ({ email: 'intruder@example.net', roles: ['org_admin'] }),
  'POST /v1/orgs/{org_id}/system-accounts': () => ({ name: 'intruder', roles: ['org_admin'] }),
  'POST /v1/orgs/{org_id}/system-accounts/{system_account_id}/tokens': () => ({
    name: 'intruder',
    expires_in_days: 30,
  }),
  'POST /v1/orgs/{org_id}/runtimes': () => ({ name: 'intruder-edge' }),
  'PUT /v1/orgs/{org_id}/control-plane/config': () => ({
    routes: [{ path_prefix: '/', upstream_url: 'https://intruder.example.net' }],
  }),
  'POST /v1/orgs/{org_id}/payment-methods': () => ({
    card: CARD,
    billing_details: {
      name: 'Intruder',
      email: 'intruder@example.net',
      address: { line1: '1 Intruder Way', city: 'Nowhere', postal_code: '00000', country: 'US' },
    },
  }),
  'POST /v1/orgs/{org_id}/subscription': (ids) => ({ plan: 'plus', payment_method_id: ids.payment_method_id }),
  'POST /v1/orgs/{org_id}/subscription/preview': () => ({ plan: 'free' }),
  'POST /v1/orgs/{org_id}/sales-inquiries': () => ({
    name: 'Intruder',
    email: 'intruder@example.net',
    company: 'Intruder Inc',
    message: 'Let us in.',
  }),
  'POST /v1/admin/orgs/{org_id}/deactivate': () => ({ reason: 'abuse' }),
  'POST /v1/admin/orgs/{org_id}/reactivate': () => ({ restore_memberships: true }),
  'PUT /v1/admin/orgs/{org_id}/subscription': () => ({
    plan: 'enterprise',
    terms: { monthly_fee: 1, included_requests: 1, overage_per_million: 1, net_days: 0 },
  }),
  'POST /v1/admin/orgs/{org_id}/control-plane/decommission': () => ({ reason: 'abuse' }),
  'POST /v1/admin/staff': () => ({
    email: 'intruder-staff@example.net',
    password: 'intruder-password-1',
    full_name: 'Intruder',
    roles: ['admin'],
  }),
  'POST /v1/admin/invoices/{invoice_id}/mark-paid': () => ({ reference: 'intruder' }),
  'POST /v1/admin/webhook-endpoints': () => ({ url: 'https://intruder.example.net/hooks' }),
  'PATCH /v1/admin/webhook-endpoints/{endpoint_id}': () => ({ url: 'https://intruder.example.net/hooks' }),
  'POST /v1/admin/webhook-endpoints/{endpoint_id}/rotate-secret': () => ({ overlap_hours: 24 }),
};

/** A query string for each route that requires query parameters. */
const QUERIES: Record<string, string> = {
  'GET /v1/admin/lifecycle/forecast': 'days=30',
  'GET /v1/admin/lifecycle/forecast/daily': 'days=30',
};

/** Ids a body names, which the reverse test swaps for another org's too. */
const BODY_IDS: Record<string, Array<keyof Ids>> = {
  'POST /v1/orgs/{org_id}/owner-transfer': ['user_id'],
};

const START = '2027-01-01T00:00:00.000Z';
/** After C_1 = 2027-02-01 − 72 h of a subscription started at START: each org has an open invoice. */
const AFTER_CALCULATION = '2027-01-29T01:00:00.000Z';
const USAGE_RANGE = 'start=2027-01-01T00:00:00.000Z&end=2027-02-01T00:00:00.000Z&granularity=day';

interface Caller {
  name: string;
  group: 'other_org' | 'runtime' | 'anonymous' | 'own_org';
  /** For own_org callers: the levels their roles reach. */
  reaches?: Level[];
  cookie?: string;
  token?: string;
  headers?: Record<string, string>;
}

interface Expected {
  statuses: number[];
  codes?: string[];
}

interface SeededOrg {
  owner: Owner;
  ownerCookie: string;
  ownerToken: string;
  ownerTokenId: string;
  admin: Person;
  reader: Person;
  member: Person;
  memberToken: string;
  target: Person;
  adminAccountToken: string;
  readerAccountToken: string;
  memberAccountToken: string;
  runtimeToken: string;
  reportId: string;
  ids: Ids;
  controlPlaneId: string;
  secrets: Set<string>;
}

let t: TestInstance;
let staff: string;
let a: SeededOrg;
let b: SeededOrg;
/** Someone who is org_admin of A and member of B, logged into B. */
let dual: Person & { bCookie: string };
let operations: Operation[];
let stateOfABefore: Record<string, unknown>;
let globalBefore: Record<string, unknown>;
let idempotentRuntime: { key: string; token: string; id: string };
/** A staff webhook endpoint that received the seeded orgs' events, and one of its deliveries. */
let webhook: { endpointId: string; deliveryId: string };
let checked = 0;
const started = Date.now();

const tag = randomBytes(3).toString('hex');

async function ok(method: string, url: string, options: Parameters<TestInstance['call']>[2], status = 200) {
  const response = await t.call(method, url, options);
  if (response.status !== status) {
    throw new Error(`${method} ${url}: expected ${status}, got ${response.status} ${JSON.stringify(response.body)}`);
  }
  return response.body;
}

async function logIn(person: { email: string; password: string; orgId: string }) {
  const response = await t.call('POST', '/v1/auth/login', {
    body: { email: person.email, password: person.password, org_id: person.orgId },
  });
  if (response.status !== 200) throw new Error(`login failed: ${response.status} ${JSON.stringify(response.body)}`);
  return response.cookie as string;
}

function cookieValue(cookie: string) {
  return cookie.slice(cookie.indexOf('=') + 1);
}

function paymentMethodBody(label: string) {
  return {
    card: CARD,
    billing_details: {
      name: `Billing ${label} ${tag}`,
      email: `billing-${label.toLowerCase()}-${tag}@ledger.example`,
      address: { line1: `${label} Secret Street ${tag}`, city: 'Springfield', postal_code: '12345', country: 'US' },
    },
  };
}

/** Signs up an org on Plus at START; the rest is seeded after the first invoice is calculated. */
async function signUpOnPlus(label: string) {
  const owner = await signUpOwner(t, {
    email: `owner-${label.toLowerCase()}-${tag}@${label.toLowerCase()}corp.example`,
    org_name: `${label} Corp ${tag}`,
    full_name: `${label} Owner ${tag}`,
  });
  const method = await ok(
    'POST',
    `/v1/orgs/${owner.orgId}/payment-methods`,
    {
      cookie: owner.cookie,
      body: paymentMethodBody(label),
    },
    201,
  );
  const subscription = await ok('POST', `/v1/orgs/${owner.orgId}/subscription`, {
    cookie: owner.cookie,
    body: { plan: 'plus', payment_method_id: method.id },
  });
  return { owner, paymentMethodId: method.id as string, subscriptionId: subscription.id as string, label };
}

async function createAccountToken(orgId: string, cookie: string, name: string, roles: string[]) {
  const account = await ok('POST', `/v1/orgs/${orgId}/system-accounts`, { cookie, body: { name, roles } }, 201);
  const token = await ok(
    'POST',
    `/v1/orgs/${orgId}/system-accounts/${account.id}/tokens`,
    { cookie, body: { name: `${name} key`, expires_in_days: 30 } },
    201,
  );
  return {
    accountId: account.id as string,
    tokenId: token.id as string,
    token: token.token as string,
    prefix: token.prefix,
  };
}

/** Everything an org can hold, made through the API, with each identifying string kept as a secret. */
async function seedOrg(start: Awaited<ReturnType<typeof signUpOnPlus>>): Promise<SeededOrg> {
  const { owner, label } = start;
  const orgId = owner.orgId;
  const ownerCookie = await logIn(owner);
  const join = (roles: string[]) => joinOrg(t, { orgId, cookie: ownerCookie }, roles, staff);
  const admin = await join(['org_admin']);
  const reader = await join(['org_admin_read_only']);
  const member = await join(['member']);
  const target = await join(['member']);
  const ownerToken = await ok(
    'POST',
    '/v1/me/tokens',
    { cookie: ownerCookie, body: { name: 'owner key', expires_in_days: 30 } },
    201,
  );
  const memberToken = await ok(
    'POST',
    '/v1/me/tokens',
    { cookie: member.cookie, body: { name: 'member key', expires_in_days: 30 } },
    201,
  );
  const team = await ok(
    'POST',
    `/v1/orgs/${orgId}/teams`,
    { cookie: ownerCookie, body: { name: `${label} Team ${tag}`, roles: ['member'] } },
    201,
  );
  await ok('PUT', `/v1/orgs/${orgId}/teams/${team.id}/members/${target.userId}`, { cookie: ownerCookie });
  const invitedEmail = `pending-${label.toLowerCase()}-${tag}@invitee.example`;
  const invitation = await ok(
    'POST',
    `/v1/orgs/${orgId}/invitations`,
    { cookie: ownerCookie, body: { email: invitedEmail, roles: ['member'] } },
    201,
  );
  const adminAccount = await createAccountToken(orgId, ownerCookie, `${label} admin bot ${tag}`, ['org_admin']);
  const readerAccount = await createAccountToken(orgId, ownerCookie, `${label} reader bot ${tag}`, [
    'org_admin_read_only',
  ]);
  const memberAccount = await createAccountToken(orgId, ownerCookie, `${label} member bot ${tag}`, ['member']);
  const runtime = await ok(
    'POST',
    `/v1/orgs/${orgId}/runtimes`,
    { cookie: ownerCookie, body: { name: `${label}-edge-${tag}` } },
    201,
  );
  const upstreamUrl = `https://upstream-${label.toLowerCase()}-${tag}.example`;
  const controlPlane = await ok('PUT', `/v1/orgs/${orgId}/control-plane/config`, {
    cookie: ownerCookie,
    body: {
      routes: [
        {
          path_prefix: `/${label.toLowerCase()}`,
          upstream_url: upstreamUrl,
          service: `svc-${label.toLowerCase()}-${tag}`,
        },
      ],
    },
  });
  await ok('POST', '/v1/runtime/usage', {
    token: runtime.token,
    body: { report_id: `report-${label}`, usage: [{ timestamp: '2027-01-29T00:30:00.000Z', requests: 1234 }] },
  });
  const inquiry = {
    name: `${label} Inquirer ${tag}`,
    email: `sales-${label.toLowerCase()}-${tag}@inquiry.example`,
    company: `${label} Holdings ${tag}`,
    message: `${label} wants a contract ${tag}.`,
  };
  await ok('POST', `/v1/orgs/${orgId}/sales-inquiries`, { cookie: ownerCookie, body: inquiry }, 201);
  const invoices = await ok('GET', `/v1/orgs/${orgId}/invoices`, { cookie: ownerCookie });
  expect(invoices.data.length, 'an open invoice was calculated').toBeGreaterThan(0);
  const invoice = invoices.data[0];

  const secrets = new Set<string>([
    orgId,
    `${label} Corp ${tag}`,
    owner.email,
    owner.userId,
    `${label} Owner ${tag}`,
    ...[admin, reader, member, target].flatMap((person) => [person.email, person.userId]),
    team.id,
    team.name,
    invitation.id,
    invitedEmail,
    ...[adminAccount, readerAccount, memberAccount].flatMap((account) => [
      account.accountId,
      account.tokenId,
      account.token,
      account.prefix,
    ]),
    `${label} admin bot ${tag}`,
    `${label} reader bot ${tag}`,
    `${label} member bot ${tag}`,
    `svc-${label.toLowerCase()}-${tag}`,
    `billing-${label.toLowerCase()}-${tag}@ledger.example`,
    ownerToken.token,
    ownerToken.id,
    ownerToken.prefix,
    memberToken.token,
    memberToken.id,
    memberToken.prefix,
    runtime.runtime.id,
    runtime.runtime.name,
    runtime.runtime.token_prefix,
    runtime.token,
    controlPlane.id,
    upstreamUrl,
    start.paymentMethodId,
    start.subscriptionId,
    `Billing ${label} ${tag}`,
    `${label} Secret Street ${tag}`,
    invoice.id,
    invoice.number,
    inquiry.name,
    inquiry.email,
    inquiry.company,
    ...[ownerCookie, admin.cookie, reader.cookie, member.cookie, target.cookie].map(cookieValue),
  ]);
  for (const secret of secrets) if (typeof secret !== 'string' || secret.length < 6) secrets.delete(secret);

  return {
    owner,
    ownerCookie,
    ownerToken: ownerToken.token,
    ownerTokenId: ownerToken.id,
    admin,
    reader,
    member,
    memberToken: memberToken.token,
    target,
    adminAccountToken: adminAccount.token,
    readerAccountToken: readerAccount.token,
    memberAccountToken: memberAccount.token,
    runtimeToken: runtime.token,
    reportId: `report-${label}`,
    controlPlaneId: controlPlane.id,
    secrets,
    ids: {
      org_id: orgId,
      user_id: target.userId,
      team_id: team.id,
      invitation_id: invitation.id,
      system_account_id: memberAccount.accountId,
      token_id: memberAccount.tokenId,
      runtime_id: runtime.runtime.id,
      invoice_id: invoice.id,
      payment_method_id: start.paymentMethodId,
      email: owner.email,
      endpoint_id: webhook.endpointId,
      delivery_id: webhook.deliveryId,
    },
  };
}

/** What an org holds, read through the API by its owner and by staff. */
async function stateOf(org: SeededOrg) {
  const state: Record<string, unknown> = {};
  const reads = [
    '',
    '/members',
    '/teams',
    '/invitations',
    '/system-accounts',
    '/runtimes',
    '/control-plane',
    '/billing',
    '/payment-methods',
    '/invoices?limit=100',
    `/usage?${USAGE_RANGE}`,
  ];
  for (const read of reads) {
    state[read || '/'] = await ok('GET', `/v1/orgs/${org.ids.org_id}${read}`, { cookie: org.ownerCookie });
  }
  state.audit_events = await allAuditEvents(t, org.owner, org.ownerCookie);
  state.staff_detail = await ok('GET', `/v1/admin/orgs/${org.ids.org_id}`, { cookie: staff });
  return state;
}

/** What no org caller may add to: global lists only staff read. */
async function globalState() {
  return {
    sales_inquiries: await ok('GET', '/v1/admin/sales-inquiries?limit=100', { cookie: staff }),
    email_locks: await ok('GET', '/v1/admin/email-locks?limit=100', { cookie: staff }),
    staff: await ok('GET', '/v1/admin/staff', { cookie: staff }),
    webhook_endpoints: await ok('GET', '/v1/admin/webhook-endpoints?limit=100', { cookie: staff }),
  };
}

async function usageTotal(org: SeededOrg): Promise<number> {
  return (await ok('GET', `/v1/orgs/${org.ids.org_id}/usage?${USAGE_RANGE}`, { cookie: org.ownerCookie })).total;
}

/** The same id shape with other characters: an object that does not exist. */
function ghostOf(id: string): string {
  if (id.includes('@')) return `ghost-${randomBytes(4).toString('hex')}@example.com`;
  const cut = id.indexOf('_') + 1;
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = randomBytes(id.length);
  return id.slice(0, cut) + [...id.slice(cut)].map((_, i) => alphabet[bytes[i] % alphabet.length]).join('');
}

function ghostIds(ids: Ids): Ids {
  return Object.fromEntries(Object.entries(ids).map(([key, value]) => [key, ghostOf(value)])) as unknown as Ids;
}

function bodyFor(operation: Operation, ids: Ids): unknown {
  return BODIES[operation.key]?.(ids);
}

function urlFor(operation: Operation, ids: Ids): string {
  const query = QUERIES[operation.key];
  return fillPath(operation.path, ids) + (query ? `?${query}` : '');
}

function send(caller: Caller, operation: Operation, ids: Ids, method = operation.method) {
  return t.call(method, urlFor(operation, ids), {
    cookie: caller.cookie,
    token: caller.token,
    headers: caller.headers,
    body: method === 'HEAD' ? undefined : bodyFor(operation, ids),
  });
}

/** Who refuses whom: undefined when the caller may call the route. */
function expectation(level: Level, caller: Caller): Expected | undefined {
  if (caller.group === 'anonymous') return { statuses: [401], codes: ['unauthenticated'] };
  if (caller.group === 'runtime') return { statuses: [401, 403, 404] };
  if (level === 'staff') return { statuses: [403], codes: ['staff_required'] };
  if (caller.group === 'other_org') return { statuses: [404], codes: ['not_found'] };
  if (caller.reaches?.includes(level)) return undefined;
  return { statuses: [403], codes: [level === 'owner' ? 'owner_required' : 'insufficient_role'] };
}

/** The problems with a refusal: wrong status or code, anything but the error shape, a secret anywhere. */
function refusalProblems(
  label: string,
  response: { status: number; body: any; headers: Record<string, unknown> },
  expected: Expected,
  secrets: Set<string>,
  head = false,
): string[] {
  checked++;
  const problems: string[] = [];
  const text = typeof response.body === 'string' ? response.body : JSON.stringify(response.body);
  if (!expected.statuses.includes(response.status)) {
    problems.push(`${label}: expected ${expected.statuses.join('|')}, got ${response.status} ${text.slice(0, 300)}`);
  }
  if (!head) {
    const body = response.body;
    const isErrorShape =
      body &&
      typeof body === 'object' &&
      Object.keys(body).join() === 'error' &&
      body.error &&
      typeof body.error === 'object' &&
      Object.keys(body.error).sort().join() === 'code,message' &&
      typeof body.error.code === 'string' &&
      typeof body.error.message === 'string';
    if (!isErrorShape) problems.push(`${label}: the body is not exactly {error:{code,message}}: ${text.slice(0, 300)}`);
    else if (expected.codes && !expected.codes.includes(body.error.code)) {
      problems.push(`${label}: expected code ${expected.codes.join('|')}, got ${body.error.code}`);
    }
  }
  const headers = JSON.stringify(response.headers);
  for (const secret of secrets) {
    if (text.includes(secret)) problems.push(`${label}: the body contains ${JSON.stringify(secret)}`);
    if (headers.includes(secret)) problems.push(`${label}: a header contains ${JSON.stringify(secret)}`);
  }
  if (response.headers['set-cookie'] !== undefined) problems.push(`${label}: a refusal sets a cookie`);
  return problems;
}

function isOrgScoped(operation: Operation) {
  return operation.path.includes('{org_id}');
}

function isStaffRoute(operation: Operation) {
  return operation.path.startsWith('/v1/admin/');
}

/** The org-scoped routes and the staff routes: every route the isolation rules apply to. */
function guardedOperations() {
  return operations.filter((operation) => isOrgScoped(operation) || isStaffRoute(operation));
}

function levelOf(operation: Operation): Level {
  if (isStaffRoute(operation)) return 'staff';
  const level = ACCESS[operation.key];
  if (!level) throw new Error(`${operation.key} is not classified in ACCESS`);
  return level;
}

function callersOnA(): Caller[] {
  return [
    { name: 'B owner (session)', group: 'other_org', cookie: b.ownerCookie },
    { name: 'B owner (personal token)', group: 'other_org', token: b.ownerToken },
    { name: 'B org_admin system account (token)', group: 'other_org', token: b.adminAccountToken },
    { name: 'B org_admin (session)', group: 'other_org', cookie: b.admin.cookie },
    { name: "A's org_admin, logged into B (session)", group: 'other_org', cookie: dual.bCookie },
    { name: 'B runtime (token)', group: 'runtime', token: b.runtimeToken },
    { name: 'A runtime (token)', group: 'runtime', token: a.runtimeToken },
    { name: 'anonymous', group: 'anonymous' },
    { name: 'unknown personal token', group: 'anonymous', token: `tlp_${randomBytes(16).toString('hex')}` },
    {
      name: 'unknown session cookie',
      group: 'anonymous',
      cookie: `tierline_session=${randomBytes(24).toString('hex')}`,
    },
    { name: 'A member (session)', group: 'own_org', reaches: ['read'], cookie: a.member.cookie },
    { name: 'A member (personal token)', group: 'own_org', reaches: ['read'], token: a.memberToken },
    { name: 'A member system account (token)', group: 'own_org', reaches: ['read'], token: a.memberAccountToken },
    {
      name: 'A org_admin_read_only (session)',
      group: 'own_org',
      reaches: ['read', 'read_admin'],
      cookie: a.reader.cookie,
    },
    {
      name: 'A org_admin_read_only system account (token)',
      group: 'own_org',
      reaches: ['read', 'read_admin'],
      token: a.readerAccountToken,
    },
    {
      name: 'A org_admin (session)',
      group: 'own_org',
      reaches: ['read', 'read_admin', 'manage'],
      cookie: a.admin.cookie,
    },
    {
      name: 'A org_admin system account (token)',
      group: 'own_org',
      reaches: ['read', 'read_admin', 'manage'],
      token: a.adminAccountToken,
    },
    {
      name: 'A owner (session)',
      group: 'own_org',
      reaches: ['read', 'read_admin', 'manage', 'owner'],
      cookie: a.ownerCookie,
    },
    {
      name: 'A owner (personal token)',
      group: 'own_org',
      reaches: ['read', 'read_admin', 'manage', 'owner'],
      token: a.ownerToken,
    },
  ];
}

function allSecrets(): Set<string> {
  return new Set([...a.secrets, ...b.secrets]);
}

beforeAll(async () => {
  t = await createTestInstance({ start: START });
  staff = await logInAdmin(t);
  operations = operationsOf((await ok('GET', '/openapi.json', {})) as { paths: Record<string, Record<string, any>> });
  // Nothing listens on port 9: the deliveries fail and stay in the endpoint's log.
  const endpoint = await ok(
    'POST',
    '/v1/admin/webhook-endpoints',
    { cookie: staff, body: { url: 'http://127.0.0.1:9/isolation' } },
    201,
  );
  const startA = await signUpOnPlus('Aldermoor');
  const startB = await signUpOnPlus('Brackwater');
  await ok('POST', '/v1/test-clock/advance', { body: { to: AFTER_CALCULATION } });
  // Sessions idle out over the advance: everyone logs in again.
  staff = await logInAdmin(t);
  await deliverDueWebhooks(t.deps.db, new Date(AFTER_CALCULATION), { timeoutMs: 2_000 });
  const deliveries = await ok('GET', `/v1/admin/webhook-endpoints/${endpoint.id}/deliveries`, { cookie: staff });
  webhook = { endpointId: endpoint.id, deliveryId: deliveries.data[0].id };
  a = await seedOrg(startA);
  b = await seedOrg(startB);

  const joined = await joinOrg(t, { orgId: a.ids.org_id, cookie: a.ownerCookie }, ['org_admin'], staff);
  await ok(
    'POST',
    `/v1/orgs/${b.ids.org_id}/invitations`,
    {
      cookie: b.ownerCookie,
      body: { email: joined.email, roles: ['member'] },
    },
    201,
  );
  const outbox = await ok('GET', `/v1/admin/outbox?to=${encodeURIComponent(joined.email)}`, { cookie: staff });
  // Both invitations were sent at the same test-clock instant: B's is the one not yet accepted.
  let accepted: Awaited<ReturnType<TestInstance['call']>> | undefined;
  for (const email of outbox.data) {
    const invitationToken = /token=(\S+)/.exec(email.body)?.[1];
    const response = await t.call('POST', '/v1/invitations/accept', {
      body: { token: invitationToken, password: 'member-password-1' },
    });
    if (response.status === 200) accepted = response;
  }
  if (!accepted) throw new Error('the invitation into B could not be accepted');
  expect(accepted.status, JSON.stringify(accepted.body)).toBe(200);
  expect(accepted.body.org.id).toBe(b.ids.org_id);
  dual = { ...joined, bCookie: accepted.cookie as string };
  a.secrets.add(joined.userId);
  a.secrets.add(joined.email);
  a.secrets.add(cookieValue(joined.cookie));

  const key = `isolation-${tag}`;
  const created = await t.call('POST', `/v1/orgs/${a.ids.org_id}/runtimes`, {
    cookie: a.ownerCookie,
    body: { name: 'edge-idempotent' },
    headers: { 'idempotency-key': key },
  });
  expect(created.status).toBe(201);
  idempotentRuntime = { key, token: created.body.token, id: created.body.runtime.id };
  a.secrets.add(idempotentRuntime.token);
  a.secrets.add(idempotentRuntime.id);

  stateOfABefore = await stateOf(a);
  globalBefore = await globalState();
});

afterAll(async () => {
  console.log(`isolation: ${checked} refusals checked in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  await t?.close();
});

describe('isolation (issue 8)', () => {
  it('classifies exactly the org-scoped routes of /openapi.json, and has a valid body for each', () => {
    const orgScoped = operations.filter(isOrgScoped).map((operation) => operation.key);
    expect(orgScoped.length).toBeGreaterThan(30);
    expect(new Set(orgScoped)).toEqual(new Set(Object.keys(ACCESS)));
    for (const [key, level] of Object.entries(ACCESS)) {
      expect(level === 'staff', key).toBe(key.split(' ')[1].startsWith('/v1/admin/'));
    }
    const guarded = guardedOperations();
    for (const operation of guarded) {
      const needsBody = operation.bodySchema !== undefined;
      expect(needsBody, `${operation.key}: a body in BODIES exactly when the route documents one`).toBe(
        operation.key in BODIES,
      );
      if (needsBody) expect(bodyProblem(operation, bodyFor(operation, a.ids)), operation.key).toBeUndefined();
      for (const param of operation.pathParams) expect(Object.keys(a.ids), operation.key).toContain(param);
      expect(operation.requiredQuery.length > 0, `${operation.key}: a query in QUERIES exactly when it needs one`).toBe(
        operation.key in QUERIES,
      );
    }
    const known = (key: string) => guarded.some((operation) => operation.key === key);
    expect(Object.keys(BODIES).filter((key) => !known(key))).toEqual([]);
    expect(Object.keys(QUERIES).filter((key) => !known(key))).toEqual([]);
  });

  it('answers its own owner on every read route with the seeded ids (the refusals below are about access)', async () => {
    const problems: string[] = [];
    for (const operation of guardedOperations()) {
      if (operation.method !== 'GET') continue;
      const caller = isStaffRoute(operation) ? { cookie: staff } : { cookie: a.ownerCookie };
      const response = await t.call('GET', urlFor(operation, a.ids), caller);
      if (response.status !== 200)
        problems.push(`${operation.key}: ${response.status} ${JSON.stringify(response.body)}`);
    }
    expect(problems).toEqual([]);
  });

  it('refuses other orgs, runtimes, anonymous callers and missing roles on every org-scoped and staff route', async () => {
    const problems: string[] = [];
    const secrets = allSecrets();
    let pairs = 0;
    for (const operation of guardedOperations()) {
      const level = levelOf(operation);
      for (const caller of callersOnA()) {
        const expected = expectation(level, caller);
        if (!expected) continue;
        const label = `${operation.key} as ${caller.name}`;
        pairs++;
        const response = await send(caller, operation, a.ids);
        problems.push(...refusalProblems(label, response, expected, secrets));
        if (caller.group === 'other_org' && level !== 'staff') {
          // The refusal says nothing about whether A or its objects exist: a made-up id answers the same.
          const ghost = await send(caller, operation, ghostIds(a.ids));
          if (ghost.status !== response.status || JSON.stringify(ghost.body) !== JSON.stringify(response.body)) {
            problems.push(
              `${label}: answers ${response.status} ${JSON.stringify(response.body)} but for ids that do not exist ${ghost.status} ${JSON.stringify(ghost.body)}`,
            );
          }
          if (operation.method === 'GET') {
            const head = await send(caller, operation, a.ids, 'HEAD');
            problems.push(
              ...refusalProblems(`HEAD ${operation.path} as ${caller.name}`, head, expected, secrets, true),
            );
          }
        }
      }
    }
    console.log(`isolation: ${pairs} (route, caller) pairs on ${guardedOperations().length} routes`);
    expect(problems).toEqual([]);
  });

  it("answers 404 to an org's own admins for another org's objects under their own org's path, changing nothing", async () => {
    const stateOfBBefore = await stateOf(b);
    const problems: string[] = [];
    const callers: Caller[] = [
      { name: 'A owner (session)', group: 'own_org', cookie: a.ownerCookie },
      { name: 'A org_admin system account (token)', group: 'own_org', token: a.adminAccountToken },
    ];
    for (const operation of guardedOperations()) {
      if (isStaffRoute(operation)) continue;
      const named = [...operation.pathParams, ...(BODY_IDS[operation.key] ?? [])].filter(
        (name) => name !== 'org_id',
      ) as Array<keyof Ids>;
      for (const name of named) {
        const ids = { ...a.ids, [name]: b.ids[name] };
        for (const caller of callers) {
          // Only the owner may transfer ownership: the system account is refused before the id matters.
          if (operation.key === 'POST /v1/orgs/{org_id}/owner-transfer' && caller.token) continue;
          const label = `${operation.key} with B's ${name} as ${caller.name}`;
          const response = await send(caller, operation, ids);
          problems.push(...refusalProblems(label, response, { statuses: [404], codes: ['not_found'] }, b.secrets));
          const ghost = await send(caller, operation, { ...a.ids, [name]: ghostOf(b.ids[name]) });
          if (ghost.status !== response.status || JSON.stringify(ghost.body) !== JSON.stringify(response.body)) {
            problems.push(
              `${label}: answers differently from an id that does not exist: ${JSON.stringify(ghost.body)}`,
            );
          }
        }
      }
    }
    expect(problems).toEqual([]);
    expect(await stateOf(b)).toEqual(stateOfBBefore);
  });

  it("refuses another org's payment method for an upgrade", async () => {
    const free = await signUpOwner(t, { org_name: `Cindervale ${tag}` });
    const response = await t.call('POST', `/v1/orgs/${free.orgId}/subscription`, {
      cookie: free.cookie,
      body: { plan: 'plus', payment_method_id: a.ids.payment_method_id },
    });
    expect(refusalProblems('upgrade with A’s payment method', response, { statuses: [404] }, a.secrets)).toEqual([]);
    const billing = await ok('GET', `/v1/orgs/${free.orgId}/billing`, { cookie: free.cookie });
    expect(billing.plan).toBe('free');
  });

  it("never replays one caller's kept answer to another caller with the same Idempotency-Key", async () => {
    const headers = { 'idempotency-key': idempotentRuntime.key };
    const body = { name: 'edge-idempotent' };
    const url = `/v1/orgs/${a.ids.org_id}/runtimes`;
    const cases: Array<[Caller, Expected]> = [
      [{ name: 'B owner (session)', group: 'other_org', cookie: b.ownerCookie }, { statuses: [404] }],
      [{ name: 'B owner (personal token)', group: 'other_org', token: b.ownerToken }, { statuses: [404] }],
      [{ name: 'B runtime (token)', group: 'runtime', token: b.runtimeToken }, { statuses: [401, 403, 404] }],
      [{ name: 'anonymous', group: 'anonymous' }, { statuses: [401] }],
      [{ name: 'A member (session)', group: 'own_org', cookie: a.member.cookie }, { statuses: [403] }],
    ];
    const problems: string[] = [];
    for (const [caller, expected] of cases) {
      const response = await t.call('POST', url, { cookie: caller.cookie, token: caller.token, headers, body });
      problems.push(...refusalProblems(`replay as ${caller.name}`, response, expected, a.secrets));
    }
    expect(problems).toEqual([]);
    // B's owner reused the key on another URL (a 422 for them); B's admin has not used it yet.
    const own = await t.call('POST', `/v1/orgs/${b.ids.org_id}/runtimes`, { cookie: b.admin.cookie, headers, body });
    expect(own.status).toBe(201);
    expect(own.body.runtime.org_id).toBe(b.ids.org_id);
    expect(own.body.token).not.toBe(idempotentRuntime.token);
  });

  it('gives a runtime token its own org’s config only, and counts its usage for its own org only', async () => {
    const problems: string[] = [];
    const expectOwnConfig = (label: string, response: { status: number; body: any; headers: object }) => {
      if (response.status !== 200) problems.push(`${label}: ${response.status} ${JSON.stringify(response.body)}`);
      if (response.body.org_id !== b.ids.org_id) problems.push(`${label}: config of org ${response.body.org_id}`);
      if (response.body.control_plane_id !== b.controlPlaneId) problems.push(`${label}: another control plane`);
      const text = JSON.stringify(response.body) + JSON.stringify(response.headers);
      for (const secret of a.secrets) if (text.includes(secret)) problems.push(`${label}: contains ${secret}`);
    };
    expectOwnConfig('config', await t.call('GET', '/v1/runtime/config', { token: b.runtimeToken }));
    expectOwnConfig(
      'config asking for A',
      await t.call('GET', `/v1/runtime/config?org_id=${a.ids.org_id}&control_plane_id=${a.controlPlaneId}`, {
        token: b.runtimeToken,
        headers: { 'x-org-id': a.ids.org_id, 'x-tierline-org': a.ids.org_id },
      }),
    );

    const aBefore = await usageTotal(a);
    const bBefore = await usageTotal(b);
    let bExpected = bBefore;
    // A's runtime already sent this report id: ids are unique per runtime, so B's report is B's own.
    const sameId = await t.call('POST', '/v1/runtime/usage', {
      token: b.runtimeToken,
      body: { report_id: a.reportId, usage: [{ timestamp: '2027-01-29T00:40:00.000Z', requests: 77 }] },
    });
    expect(sameId.status, JSON.stringify(sameId.body)).toBe(200);
    expect(sameId.body.duplicate).toBe(false);
    bExpected += 77;
    const aimedAtA = await t.call('POST', `/v1/runtime/usage?org_id=${a.ids.org_id}`, {
      token: b.runtimeToken,
      headers: { 'x-org-id': a.ids.org_id },
      body: {
        report_id: 'aimed-at-a',
        org_id: a.ids.org_id,
        runtime_id: a.ids.runtime_id,
        usage: [{ timestamp: '2027-01-29T00:41:00.000Z', requests: 55, service: `svc-aldermoor-${tag}` }],
      },
    });
    expect([200, 400], JSON.stringify(aimedAtA.body)).toContain(aimedAtA.status);
    if (aimedAtA.status === 200) bExpected += 55;
    expect(await usageTotal(a)).toBe(aBefore);
    expect(await usageTotal(b)).toBe(bExpected);

    for (const [name, token] of [
      ['A owner (personal token)', a.ownerToken],
      ['A org_admin system account (token)', a.adminAccountToken],
    ]) {
      for (const [method, url, body] of [
        ['GET', '/v1/runtime/config', undefined],
        [
          'POST',
          '/v1/runtime/usage',
          { report_id: 'x', usage: [{ timestamp: '2027-01-29T00:42:00.000Z', requests: 1 }] },
        ],
      ] as const) {
        const response = await t.call(method, url, { token, body });
        problems.push(...refusalProblems(`${method} ${url} as ${name}`, response, { statuses: [401, 403] }, a.secrets));
      }
    }
    expect(await usageTotal(a)).toBe(aBefore);
    expect(problems).toEqual([]);
  });

  it("answers B's own reads without A's data even when the query names A", async () => {
    const problems: string[] = [];
    const aOnly = new Set([...a.secrets].filter((secret) => ![dual.email, dual.userId].includes(secret)));
    for (const operation of guardedOperations()) {
      if (operation.method !== 'GET' || isStaffRoute(operation)) continue;
      const url = `${fillPath(operation.path, b.ids)}?org_id=${a.ids.org_id}&invoice_id=${a.ids.invoice_id}`;
      for (const auth of [{ cookie: b.ownerCookie }, { token: b.adminAccountToken }]) {
        const response = await t.call('GET', url, auth);
        checked++;
        const text = typeof response.body === 'string' ? response.body : JSON.stringify(response.body);
        if (response.status >= 500) problems.push(`${url}: ${response.status}`);
        for (const secret of aOnly) if (text.includes(secret)) problems.push(`${operation.key}: contains ${secret}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it("refuses another org's objects named outside an org path: tokens, org switching, login", async () => {
    const problems: string[] = [];
    const sameAsGhost = async (
      label: string,
      real: Promise<{ status: number; body: any; headers: Record<string, unknown> }>,
      ghost: Promise<{ status: number; body: any; headers: Record<string, unknown> }>,
    ) => {
      const [response, madeUp] = await Promise.all([real, ghost]);
      problems.push(...refusalProblems(label, response, { statuses: [404], codes: ['not_found'] }, a.secrets));
      if (response.status !== madeUp.status || JSON.stringify(response.body) !== JSON.stringify(madeUp.body)) {
        problems.push(`${label}: answers differently from an id that does not exist: ${JSON.stringify(madeUp.body)}`);
      }
    };
    for (const tokenId of [a.ownerTokenId, a.ids.token_id]) {
      await sameAsGhost(
        `DELETE /v1/me/tokens/<A's ${tokenId === a.ownerTokenId ? 'personal' : 'system'} token> as B owner`,
        t.call('DELETE', `/v1/me/tokens/${tokenId}`, { cookie: b.ownerCookie }),
        t.call('DELETE', `/v1/me/tokens/${ghostOf(tokenId)}`, { cookie: b.ownerCookie }),
      );
    }
    await sameAsGhost(
      'POST /v1/auth/switch-org to A as B owner',
      t.call('POST', '/v1/auth/switch-org', { cookie: b.ownerCookie, body: { org_id: a.ids.org_id } }),
      t.call('POST', '/v1/auth/switch-org', { cookie: b.ownerCookie, body: { org_id: ghostOf(a.ids.org_id) } }),
    );
    const login = (orgId: string) =>
      t.call('POST', '/v1/auth/login', {
        body: { email: b.owner.email, password: b.owner.password, org_id: orgId },
      });
    await sameAsGhost('POST /v1/auth/login into A as B owner', login(a.ids.org_id), login(ghostOf(a.ids.org_id)));
    expect(problems).toEqual([]);
    // The tokens still work and B's owner is still in B.
    expect((await t.call('GET', '/v1/me', { token: a.ownerToken })).status).toBe(200);
    expect((await t.call('GET', '/v1/me', { token: a.memberAccountToken })).status).toBe(200);
    expect((await ok('GET', '/v1/me', { cookie: b.ownerCookie })).org.id).toBe(b.ids.org_id);
  });

  it("leaves A's state and the global lists as they were after every refused call", async () => {
    expect(await stateOf(a)).toEqual(stateOfABefore);
    expect(await globalState()).toEqual(globalBefore);
  });

  it('answers a stranger about a deactivated org exactly as about an org that does not exist', async () => {
    const gone = await signUpOwner(t, { org_name: `Dunmarsh ${tag}` });
    await ok('POST', `/v1/admin/orgs/${gone.orgId}/deactivate`, { cookie: staff, body: { reason: 'abuse' } });
    const secrets = new Set([gone.orgId, `Dunmarsh ${tag}`, gone.email, gone.userId]);
    const ghost = ghostOf(gone.orgId);
    const problems: string[] = [];
    const cases: Array<
      [string, (orgId: string) => Promise<{ status: number; body: any; headers: Record<string, unknown> }>]
    > = [
      [
        'POST /v1/auth/switch-org as B owner',
        (orgId) => t.call('POST', '/v1/auth/switch-org', { cookie: b.ownerCookie, body: { org_id: orgId } }),
      ],
      [
        'POST /v1/auth/login as B owner',
        (orgId) =>
          t.call('POST', '/v1/auth/login', {
            body: { email: b.owner.email, password: b.owner.password, org_id: orgId },
          }),
      ],
      ['GET /v1/orgs/{org_id} as B owner', (orgId) => t.call('GET', `/v1/orgs/${orgId}`, { cookie: b.ownerCookie })],
      [
        'GET /v1/orgs/{org_id}/invoices as B owner (token)',
        (orgId) => t.call('GET', `/v1/orgs/${orgId}/invoices`, { token: b.ownerToken }),
      ],
    ];
    for (const [label, call] of cases) {
      const response = await call(gone.orgId);
      const madeUp = await call(ghost);
      problems.push(
        ...refusalProblems(`${label} (deactivated org)`, response, { statuses: [404], codes: ['not_found'] }, secrets),
      );
      if (response.status !== madeUp.status || JSON.stringify(response.body) !== JSON.stringify(madeUp.body)) {
        problems.push(
          `${label}: a deactivated org answers ${response.status} ${JSON.stringify(response.body)}, an org that does not exist ${madeUp.status} ${JSON.stringify(madeUp.body)}`,
        );
      }
    }
    expect(problems).toEqual([]);
  });
});
