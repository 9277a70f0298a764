import { randomBytes } from 'node:crypto';
import { deliverDueWebhooks } from '../../src/modules/webhooks/index.ts';
import { billingHelpers, CARD_OK, cardBody } from '../helpers/billing.ts';
import { type Owner, signUpOwner, type TestInstance } from '../helpers/instance.ts';

/**
 * A realistic account plane for fuzzed requests to land in: a Plus org with an open invoice, usage,
 * a runtime, a member, two teams, a system account with a token, a pending invitation; a second org;
 * a deactivated org whose email is locked; the admin staff member. Every credential is fresh at the
 * instant the fuzzing runs (the test clock stands still from then on).
 */
export interface World {
  now: string;
  owner: Owner;
  otherOwner: Owner;
  member: { email: string; userId: string; cookie: string };
  staffCookie: string;
  personalToken: string;
  runtimeToken: string;
  systemToken: string;
  /** The ids of real objects, by the name of the path parameter or body field that takes them. */
  ids: {
    orgId: string;
    otherOrgId: string;
    deactivatedOrgId: string;
    lockedEmail: string;
    memberUserId: string;
    teamId: string;
    teamName: string;
    otherTeamName: string;
    personalTokenId: string;
    runtimeId: string;
    systemAccountId: string;
    systemTokenId: string;
    invitationId: string;
    invitationToken: string;
    invitedEmail: string;
    invoiceId: string;
    paymentMethodId: string;
    webhookEndpointId: string;
    webhookDeliveryId: string;
  };
  /** Every secret and id above: a generated value equal to one of them is not "unknown". */
  known: Set<string>;
}

function expectCreated(response: { status: number; body: any }, what: string, status = 201) {
  if (response.status !== status) {
    throw new Error(`seeding the fuzz world: ${what} answered ${response.status} ${JSON.stringify(response.body)}`);
  }
  return response.body;
}

/** Builds the world through the public API, as customers and staff would. */
export async function seedWorld(t: TestInstance): Promise<World> {
  const h = billingHelpers(t);
  const start = await h.now();
  // A webhook endpoint from the start, so that the changes below are delivered to it (nothing listens
  // on port 9: the attempts fail and stay in its delivery log).
  const webhookEndpoint = expectCreated(
    await t.call('POST', '/v1/admin/webhook-endpoints', {
      cookie: await h.staff(),
      body: { url: 'http://127.0.0.1:9/fuzz-world', description: 'Fuzz world receiver' },
    }),
    'webhook endpoint',
  );
  const owner = await signUpOwner(t, { org_name: 'Fuzz Plus Org' });
  const { paymentMethod } = await h.subscribePlus(owner, CARD_OK);
  const runtime = await h.runtime(owner);
  await runtime.report({ [start]: 1_234_567 });

  // Past the first calculation instant (B_1 − 72 h): the Plus org has an open invoice.
  const calculated = new Date(Date.parse(start) + 29 * 86_400_000).toISOString();
  await h.advance(calculated, owner);
  const now = await h.now();
  const [invoice] = await h.invoices(owner);
  if (!invoice) throw new Error('seeding the fuzz world: no invoice after the calculation instant');

  const staffCookie = await h.staff();
  const member = await h.join(owner, ['member']);
  const otherOwner = await signUpOwner(t, { org_name: 'Fuzz Other Org' });
  const deactivated = await signUpOwner(t, { org_name: 'Fuzz Deactivated Org' });
  expectCreated(
    await t.call('POST', `/v1/admin/orgs/${deactivated.orgId}/deactivate`, {
      cookie: staffCookie,
      body: { reason: 'abuse' },
    }),
    'deactivate',
    200,
  );

  const team = expectCreated(
    await t.call('POST', `/v1/orgs/${owner.orgId}/teams`, {
      cookie: owner.cookie,
      body: { name: 'Fuzz Team', roles: ['org_admin_read_only'] },
    }),
    'team',
  );
  expectCreated(
    await t.call('POST', `/v1/orgs/${owner.orgId}/teams`, {
      cookie: owner.cookie,
      body: { name: 'Other Team', roles: ['member'] },
    }),
    'second team',
  );
  const teamId = team.id as string;
  expectCreated(
    await t.call('PUT', `/v1/orgs/${owner.orgId}/teams/${teamId}/members/${member.userId}`, { cookie: owner.cookie }),
    'team member',
    200,
  );

  const personal = expectCreated(
    await t.call('POST', '/v1/me/tokens', { cookie: owner.cookie, body: { name: 'fuzz token' } }),
    'personal token',
  );
  const account = expectCreated(
    await t.call('POST', `/v1/orgs/${owner.orgId}/system-accounts`, {
      cookie: owner.cookie,
      body: { name: 'fuzz ci', roles: ['org_admin'] },
    }),
    'system account',
  );
  const systemToken = expectCreated(
    await t.call('POST', `/v1/orgs/${owner.orgId}/system-accounts/${account.id}/tokens`, {
      cookie: owner.cookie,
      body: { name: 'fuzz ci token' },
    }),
    'system token',
  );
  const invitedEmail = `invited-${randomBytes(4).toString('hex')}@example.com`;
  const invitation = expectCreated(
    await t.call('POST', `/v1/orgs/${owner.orgId}/invitations`, {
      cookie: owner.cookie,
      body: { email: invitedEmail, roles: ['member'] },
    }),
    'invitation',
  );
  const [mail] = await h.outbox(invitedEmail);
  const invitationToken = /token=(\S+)/.exec(mail?.body ?? '')?.[1];
  if (!invitationToken) throw new Error('seeding the fuzz world: no invitation token in the outbox');
  expectCreated(
    await t.call('POST', `/v1/orgs/${owner.orgId}/sales-inquiries`, {
      cookie: owner.cookie,
      body: { name: 'Ada', email: 'ada@example.com', company: 'Analytical', message: 'Enterprise, please.' },
    }),
    'sales inquiry',
  );
  expectCreated(
    await t.call('PUT', `/v1/orgs/${owner.orgId}/control-plane/config`, {
      cookie: owner.cookie,
      body: { routes: [{ path_prefix: '/api', upstream_url: 'https://upstream.example.com', service: 'api' }] },
    }),
    'control plane config',
    200,
  );
  // The runtime is seen at this instant: fuzzed runtime calls at the same instant change nothing.
  expectCreated(await t.call('GET', '/v1/runtime/config', { token: runtime.token }), 'runtime config', 200);
  const runtimes = expectCreated(
    await t.call('GET', `/v1/orgs/${owner.orgId}/runtimes`, { cookie: owner.cookie }),
    'runtimes',
    200,
  );

  await deliverDueWebhooks(t.deps.db, new Date(now), { timeoutMs: 2_000 });
  const deliveries = expectCreated(
    await t.call('GET', `/v1/admin/webhook-endpoints/${webhookEndpoint.id}/deliveries`, { cookie: staffCookie }),
    'webhook deliveries',
    200,
  );
  if (!deliveries.data[0]) throw new Error('seeding the fuzz world: no webhook delivery');

  const ids = {
    orgId: owner.orgId,
    otherOrgId: otherOwner.orgId,
    deactivatedOrgId: deactivated.orgId,
    lockedEmail: deactivated.email,
    memberUserId: member.userId,
    teamId,
    teamName: 'Fuzz Team',
    otherTeamName: 'Other Team',
    personalTokenId: personal.id as string,
    runtimeId: runtimes.data[0].id as string,
    systemAccountId: account.id as string,
    systemTokenId: systemToken.id as string,
    invitationId: invitation.id as string,
    invitationToken,
    invitedEmail,
    invoiceId: invoice.id as string,
    paymentMethodId: paymentMethod.id as string,
    webhookEndpointId: webhookEndpoint.id as string,
    webhookDeliveryId: deliveries.data[0].id as string,
  };
  const known = new Set<string>([
    ...Object.values(ids),
    owner.userId,
    otherOwner.userId,
    deactivated.userId,
    personal.token,
    runtime.token,
    systemToken.token,
    owner.email,
    otherOwner.email,
    member.email,
  ]);
  return {
    now,
    owner,
    otherOwner,
    member: { email: member.email, userId: member.userId, cookie: member.cookie },
    staffCookie,
    personalToken: personal.token as string,
    runtimeToken: runtime.token,
    systemToken: systemToken.token as string,
    ids,
    known,
  };
}

/** A valid card body for the test provider, as the fuzzer's baseline for payment methods. */
export const validCard = () => cardBody(CARD_OK);
