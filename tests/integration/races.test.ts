import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { billingHelpers, CARD_OK, expectStatus } from '../helpers/billing.ts';
import { createTestInstance, joinOrg, logInAdmin, signUpOwner, type TestInstance } from '../helpers/instance.ts';

// On PostgreSQL these are real races (a pool of connections); on the embedded database the requests
// run one after the other, and the same outcomes must hold.
const PASSWORD = 'correct-horse-battery';

describe('races around one org', () => {
  let t: TestInstance;
  let h: ReturnType<typeof billingHelpers>;
  let staff: string;
  beforeAll(async () => {
    t = await createTestInstance({ start: '2027-04-01T09:00:00.000Z' });
    h = billingHelpers(t);
  });
  // Staff sessions end after 24 h idle, and a test moves the clock by a day.
  beforeEach(async () => {
    staff = await logInAdmin(t);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('concurrent upgrades make one active subscription and one Plus plan', async () => {
    const owner = await signUpOwner(t);
    const card = await h.addCard(owner, CARD_OK);
    expectStatus(card, 201);
    const answers = await Promise.all(
      Array.from({ length: 8 }, () =>
        t.call('POST', `/v1/orgs/${owner.orgId}/subscription`, {
          cookie: owner.cookie,
          body: { plan: 'plus', payment_method_id: card.body.id },
        }),
      ),
    );
    const statuses = answers.map((answer) => answer.status).sort();
    expect(statuses.filter((status) => status === 200)).toHaveLength(1);
    for (const answer of answers.filter((a) => a.status !== 200)) {
      expect(answer.status).toBe(409);
      expect(answer.body.error.code).toMatch(/^[a-z_]+$/);
    }
    const billing = await h.billing(owner);
    expect(billing.plan).toBe('plus');
    expect(billing.subscription.status).toBe('active');
  });

  it('concurrent downgrades make one final invoice, charged once', async () => {
    const owner = await signUpOwner(t);
    await h.subscribePlus(owner);
    // A day into the period, so the final invoice has a prorated fee to charge.
    const now = (await t.call('GET', '/v1/test-clock')).body.now as string;
    await h.advance(new Date(Date.parse(now) + 86_400_000).toISOString(), owner);
    const answers = await Promise.all(Array.from({ length: 8 }, () => h.downgrade(owner)));
    const ok = answers.filter((answer) => answer.status === 200);
    expect(ok).toHaveLength(1);
    for (const answer of answers.filter((a) => a.status !== 200)) {
      expect(answer.status).toBe(409);
      expect(answer.body.error.code).toBe('no_subscription');
    }
    const invoices = await h.invoices(owner);
    expect(invoices.filter((invoice) => invoice.kind === 'final')).toHaveLength(1);
    const final = ok[0].body.final_invoice;
    expect(BigInt(final.total)).toBeGreaterThan(0n);
    expect(await h.chargesOf(final.id)).toHaveLength(1);
    expect((await h.billing(owner)).plan).toBe('free');
  });

  it('an upgrade racing a downgrade ends in one consistent state', async () => {
    const owner = await signUpOwner(t);
    const { paymentMethod } = await h.subscribePlus(owner);
    const [down, up] = await Promise.all([
      h.downgrade(owner),
      t.call('POST', `/v1/orgs/${owner.orgId}/subscription`, {
        cookie: owner.cookie,
        body: { plan: 'plus', payment_method_id: paymentMethod.id },
      }),
    ]);
    expect(down.status).toBe(200);
    // Either the upgrade came first (already Plus: 409) or after (a new subscription: 200).
    expect([200, 409]).toContain(up.status);
    const billing = await h.billing(owner);
    expect(billing.plan).toBe(up.status === 200 ? 'plus' : 'free');
    const invoices = await h.invoices(owner);
    expect(invoices.filter((invoice) => invoice.kind === 'final')).toHaveLength(1);
  });

  it('logins racing a deactivation: each either happened before it (its session ended) or is refused', async () => {
    const owner = await signUpOwner(t);
    const member = await joinOrg(t, owner, ['member'], staff);
    const logins = () =>
      Array.from({ length: 6 }, (_, i) =>
        t.call('POST', '/v1/auth/login', {
          body:
            i % 2
              ? { email: owner.email, password: PASSWORD, org_id: owner.orgId }
              : { email: member.email, password: 'member-password-1', org_id: owner.orgId },
        }),
      );
    const answers = await Promise.all([
      ...logins(),
      t.call('POST', `/v1/admin/orgs/${owner.orgId}/deactivate`, { cookie: staff, body: { reason: 'abuse' } }),
      ...logins(),
    ]);
    const deactivation = answers[6];
    expectStatus(deactivation, 200);
    const loginAnswers = [...answers.slice(0, 6), ...answers.slice(7)];
    for (const answer of loginAnswers) {
      expect([200, 403]).toContain(answer.status);
      if (answer.status === 403) expect(answer.body.error.code).toBe('org_deactivated');
    }
    // Whatever won, no session of the org is usable now and nobody holds a role in it.
    for (const answer of loginAnswers.filter((a) => a.status === 200)) {
      const me = await t.call('GET', '/v1/me', { cookie: answer.cookie });
      expect(me.status).toBe(401);
    }
    const detail = await t.call('GET', `/v1/admin/orgs/${owner.orgId}`, { cookie: staff });
    expect(detail.body.org.status).toBe('deactivated');
    for (const person of detail.body.members) expect(person.effective_roles).toEqual([]);
  });

  it('an invitation accepted while the org is deactivated leaves nobody with a role in it', async () => {
    const owner = await signUpOwner(t);
    const invitations = await Promise.all(
      Array.from({ length: 4 }, (_, i) =>
        t.call('POST', `/v1/orgs/${owner.orgId}/invitations`, {
          cookie: owner.cookie,
          body: { email: `race-${owner.orgId}-${i}@example.com`, roles: ['org_admin'] },
        }),
      ),
    );
    const tokens: string[] = [];
    for (const invitation of invitations) {
      expectStatus(invitation, 201);
      const mail = await t.call('GET', `/v1/admin/outbox?to=${encodeURIComponent(invitation.body.email)}`, {
        cookie: staff,
      });
      const token = /token=(\S+)/.exec(mail.body.data[0].body)?.[1];
      expect(token).toBeTruthy();
      tokens.push(token as string);
    }
    const answers = await Promise.all([
      t.call('POST', `/v1/admin/orgs/${owner.orgId}/deactivate`, { cookie: staff, body: { reason: 'abuse' } }),
      ...tokens.map((token, i) =>
        t.call('POST', '/v1/invitations/accept', {
          body: { token, password: PASSWORD, full_name: `Racer ${i}` },
        }),
      ),
    ]);
    expectStatus(answers[0], 200);
    for (const answer of answers.slice(1)) expect([200, 201, 403, 410]).toContain(answer.status);
    const detail = await t.call('GET', `/v1/admin/orgs/${owner.orgId}`, { cookie: staff });
    for (const person of detail.body.members) expect(person.effective_roles).toEqual([]);
  });

  it('usage reports racing a deactivation are each accepted before it or refused after it', async () => {
    const owner = await signUpOwner(t);
    const gateway = await h.runtime(owner);
    const now = (await t.call('GET', '/v1/test-clock')).body.now as string;
    const answers = await Promise.all([
      ...Array.from({ length: 5 }, () => gateway.send({ [now]: 10 })),
      t.call('POST', `/v1/admin/orgs/${owner.orgId}/deactivate`, { cookie: staff, body: { reason: 'abuse' } }),
      ...Array.from({ length: 5 }, () => gateway.send({ [now]: 10 })),
    ]);
    expectStatus(answers[5], 200);
    const reports = [...answers.slice(0, 5), ...answers.slice(6)];
    for (const answer of reports) {
      expect([200, 403]).toContain(answer.status);
      if (answer.status === 403) expect(answer.body.error.code).toBe('control_plane_decommissioned');
    }
    const accepted = reports.filter((answer) => answer.status === 200).length;
    const detail = await t.call('GET', `/v1/admin/orgs/${owner.orgId}`, { cookie: staff });
    expect(detail.body.org.status).toBe('deactivated');
    // Every accepted report is counted, once; a refused one is not.
    const reactivated = await t.call('POST', `/v1/admin/orgs/${owner.orgId}/reactivate`, { cookie: staff, body: {} });
    expectStatus(reactivated, 200);
    const login = await t.call('POST', '/v1/auth/login', {
      body: { email: owner.email, password: PASSWORD, org_id: owner.orgId },
    });
    const usage = await t.call(
      'GET',
      `/v1/orgs/${owner.orgId}/usage?start=${encodeURIComponent(new Date(Date.parse(now) - 3_600_000).toISOString())}&end=${encodeURIComponent(new Date(Date.parse(now) + 3_600_000).toISOString())}&granularity=hour`,
      { cookie: login.cookie },
    );
    expectStatus(usage, 200);
    expect(Number(usage.body.total)).toBe(accepted * 10);
  });

  it('concurrent deactivations and reactivations of one org: one wins each way, no double effect', async () => {
    const owner = await signUpOwner(t);
    const answers = await Promise.all(
      Array.from({ length: 4 }, () =>
        t.call('POST', `/v1/admin/orgs/${owner.orgId}/deactivate`, { cookie: staff, body: { reason: 'abuse' } }),
      ),
    );
    expect(answers.filter((answer) => answer.status === 200)).toHaveLength(1);
    for (const answer of answers.filter((a) => a.status !== 200))
      expect(answer.body.error.code).toBe('already_deactivated');
    const again = await Promise.all(
      Array.from({ length: 4 }, () =>
        t.call('POST', `/v1/admin/orgs/${owner.orgId}/reactivate`, { cookie: staff, body: {} }),
      ),
    );
    expect(again.filter((answer) => answer.status === 200)).toHaveLength(1);
    for (const answer of again.filter((a) => a.status !== 200)) expect(answer.body.error.code).toBe('org_active');
    const events = await t.call('GET', `/v1/admin/orgs/${owner.orgId}`, { cookie: staff });
    const actions = events.body.audit_events.map((event: { action: string }) => event.action);
    expect(actions.filter((action: string) => action === 'org.deactivated')).toHaveLength(1);
    expect(actions.filter((action: string) => action === 'org.reactivated')).toHaveLength(1);
    const outbox = await t.call('GET', `/v1/admin/outbox?to=${encodeURIComponent(owner.email)}&limit=100`, {
      cookie: staff,
    });
    expect(outbox.body.data.filter((mail: { kind: string }) => mail.kind === 'org_deactivated')).toHaveLength(1);
  });
});
