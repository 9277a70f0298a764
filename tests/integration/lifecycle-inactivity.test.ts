import { afterEach, describe, expect, it } from 'vitest';
import { billingHelpers, DAY, expectError, expectStatus, iso, ms } from '../helpers/billing.ts';
import {
  createTestInstance,
  joinOrg,
  logInAdmin,
  type Owner,
  type Person,
  signUpOwner,
  type TestInstance,
} from '../helpers/instance.ts';

// Spec 7: every expected instant below is worked out here from the rule, never read from the
// implementation. The clock starts at an instant with milliseconds so that "exactly" means exactly.
// Each scenario runs on its own instance: the clock moves months ahead and nobody may log in unseen.

const T0 = '2027-03-10T09:41:17.250Z';
const at = (days: number, extra = 0) => iso(ms(T0) + days * DAY + extra);

let t: TestInstance;
afterEach(async () => {
  await t?.close();
});

async function open() {
  t = await createTestInstance({ start: T0 });
  return t;
}

/** Moves the test clock without logging anyone in (a login would count as activity). */
async function advanceTo(to: string) {
  const response = await t.call('POST', '/v1/test-clock/advance', { body: { to } });
  expectStatus(response, 200);
  expect(response.body.failed, `due work failed on the way to ${to}`).toBe(0);
}

/** A fresh staff session (staff logins are not org activity; sessions end after 24 h idle). */
async function staff() {
  return logInAdmin(t);
}

/** The org as support sees it (GET /v1/admin/orgs/{id}). */
async function orgAsStaff(orgId: string) {
  const response = await t.call('GET', `/v1/admin/orgs/${orgId}`, { cookie: await staff() });
  expectStatus(response, 200);
  return response.body.org;
}

async function logIn(person: { email: string; password: string; orgId: string }) {
  return t.call('POST', '/v1/auth/login', {
    body: { email: person.email, password: person.password, org_id: person.orgId },
  });
}

/** The emails of a kind sent to an address, oldest first. */
async function emails(to: string, kind: string) {
  const response = await t.call('GET', `/v1/admin/outbox?limit=100&to=${encodeURIComponent(to)}`, {
    cookie: await staff(),
  });
  expectStatus(response, 200);
  return (response.body.data as any[]).filter((email) => email.kind === kind).reverse();
}

/** When the 7-day and 1-day warnings to an address were created, oldest first. */
async function warnings(to: string) {
  return {
    sevenDays: (await emails(to, 'inactivity_warning_7d')).map((email) => email.created_at),
    oneDay: (await emails(to, 'inactivity_warning_1d')).map((email) => email.created_at),
  };
}

/** How a person reads an instant in an email: "May 15, 2027". */
const longDate = (instant: string) =>
  new Date(instant).toLocaleDateString('en-US', { dateStyle: 'long', timeZone: 'UTC' });

function expectActive(org: any, projected: string | null) {
  expect(org).toMatchObject({
    status: 'active',
    deactivated_at: null,
    deactivation_reason: null,
    projected_deactivation_at: projected,
  });
}

function expectDeactivatedByInactivity(org: any, when: string) {
  expect(org).toMatchObject({
    status: 'deactivated',
    deactivated_at: when,
    deactivation_reason: 'inactivity',
    projected_deactivation_at: null,
  });
}

describe('an idle free org', () => {
  it('is deactivated exactly 30 days after it was created, not a millisecond before', async () => {
    await open();
    const owner = await signUpOwner(t);
    const shown = await t.call('GET', `/v1/orgs/${owner.orgId}`, { cookie: owner.cookie });
    expectStatus(shown, 200);
    expect(shown.body).toMatchObject({ created_at: T0, last_login_at: T0, plan: 'free' });
    expectActive(shown.body, at(30));

    await advanceTo(at(30, -1));
    expectActive(await orgAsStaff(owner.orgId), at(30));

    await advanceTo(at(30));
    expectDeactivatedByInactivity(await orgAsStaff(owner.orgId), at(30));
    expectError(await logIn(owner), 403, 'org_deactivated');
    const notices = await emails(owner.email, 'org_deactivated');
    expect(notices.map((email) => email.created_at)).toEqual([at(30)]);
    const detail = await t.call('GET', `/v1/admin/orgs/${owner.orgId}`, { cookie: await staff() });
    const event = detail.body.audit_events.find((entry: any) => entry.action === 'org.deactivated');
    expect(event).toMatchObject({ actor: { type: 'system', id: null }, reason: 'inactivity', created_at: at(30) });
  });

  it('lives 30 days from a login on day 29, not from its creation', async () => {
    await open();
    const owner = await signUpOwner(t);
    const login = at(29, 3 * 3600_000 + 17 * 60_000 + 5_123);
    const projected = iso(ms(login) + 30 * DAY);
    await advanceTo(login);
    const loggedIn = await logIn(owner);
    expectStatus(loggedIn, 200);
    expect(loggedIn.body.org.last_login_at).toBe(login);
    expectActive(loggedIn.body.org, projected);

    await advanceTo(at(30));
    expectActive(await orgAsStaff(owner.orgId), projected);
    await advanceTo(iso(ms(projected) - 1));
    expectActive(await orgAsStaff(owner.orgId), projected);
    await advanceTo(projected);
    expectDeactivatedByInactivity(await orgAsStaff(owner.orgId), projected);
  });

  it('counts a plain member’s login like the owner’s', async () => {
    await open();
    const owner = await signUpOwner(t);
    const member = await joinOrg(t, owner, ['member'], await staff());
    await advanceTo(at(10));
    const loggedIn = await logIn({ email: member.email, password: 'member-password-1', orgId: owner.orgId });
    expectStatus(loggedIn, 200);
    expectActive(loggedIn.body.org, at(40));
    await advanceTo(at(40, -1));
    expectActive(await orgAsStaff(owner.orgId), at(40));
    await advanceTo(at(40));
    expectDeactivatedByInactivity(await orgAsStaff(owner.orgId), at(40));
  });

  it('does not count API tokens or runtime configuration syncs as activity', async () => {
    await open();
    const owner = await signUpOwner(t);
    const personal = await t.call('POST', '/v1/me/tokens', {
      cookie: owner.cookie,
      body: { name: 'cli', expires_in_days: 90 },
    });
    expectStatus(personal, 201);
    const account = await t.call('POST', `/v1/orgs/${owner.orgId}/system-accounts`, {
      cookie: owner.cookie,
      body: { name: 'Deploy bot', roles: ['org_admin'] },
    });
    expectStatus(account, 201);
    const system = await t.call('POST', `/v1/orgs/${owner.orgId}/system-accounts/${account.body.id}/tokens`, {
      cookie: owner.cookie,
      body: { name: 'ci' },
    });
    expectStatus(system, 201);
    const gateway = await billingHelpers(t).runtime(owner);

    await advanceTo(at(29));
    for (const token of [personal.body.token, system.body.token]) {
      const shown = await t.call('GET', `/v1/orgs/${owner.orgId}`, { token });
      expectStatus(shown, 200);
      expectActive(shown.body, at(30));
      expect(shown.body.last_login_at).toBe(T0);
    }
    expectStatus(await t.call('GET', '/v1/runtime/config', { token: gateway.token }), 200);
    expectActive(await orgAsStaff(owner.orgId), at(30));
    await advanceTo(at(30));
    expectDeactivatedByInactivity(await orgAsStaff(owner.orgId), at(30));
  });

  it('is kept alive by traffic until the start of the cycle after the next one, by event time', async () => {
    await open();
    const owner = await signUpOwner(t);
    const gateway = await billingHelpers(t).runtime(owner);

    // A request on day 20 is in cycle 0: the org is not inactive before cycle 2 starts, day 60.
    await advanceTo(at(20));
    await gateway.report({ [at(20)]: 100 });
    let org = await orgAsStaff(owner.orgId);
    expectActive(org, at(60));
    expect(org.last_request_at).toBe(at(20));
    await advanceTo(at(30));
    expectActive(await orgAsStaff(owner.orgId), at(60));

    // On day 45 (cycle 1) a late report of day 29 (cycle 0) changes nothing; a request of day 45 does.
    await advanceTo(at(45));
    await gateway.report({ [at(29)]: 7 });
    expectActive(await orgAsStaff(owner.orgId), at(60));
    await gateway.report({ [at(45)]: 5 });
    org = await orgAsStaff(owner.orgId);
    expectActive(org, at(90));
    expect(org.last_request_at).toBe(at(45));

    await advanceTo(at(60));
    expectActive(await orgAsStaff(owner.orgId), at(90));
    await advanceTo(at(90, -1));
    expectActive(await orgAsStaff(owner.orgId), at(90));
    await advanceTo(at(90));
    expectDeactivatedByInactivity(await orgAsStaff(owner.orgId), at(90));
  });
});

describe('paid plans', () => {
  it('never deactivates a Plus org', async () => {
    await open();
    const owner = await signUpOwner(t);
    await billingHelpers(t).subscribePlus(owner);
    expectActive((await t.call('GET', `/v1/orgs/${owner.orgId}`, { cookie: owner.cookie })).body, null);
    await advanceTo(at(120));
    const org = await orgAsStaff(owner.orgId);
    expect(org.plan).toBe('plus');
    expectActive(org, null);
    expectStatus(await logIn(owner), 200);
  });

  it('never deactivates an Enterprise org set by sales', async () => {
    await open();
    const owner = await signUpOwner(t);
    const set = await t.call('PUT', `/v1/admin/orgs/${owner.orgId}/subscription`, {
      cookie: await staff(),
      body: {
        plan: 'enterprise',
        terms: { monthly_fee: 250_000, included_requests: 10_000_000, overage_per_million: 1_500, net_days: 30 },
      },
    });
    expectStatus(set, 200);
    expectActive(await orgAsStaff(owner.orgId), null);
    await advanceTo(at(120));
    const org = await orgAsStaff(owner.orgId);
    expect(org.plan).toBe('enterprise');
    expectActive(org, null);
    expect(await emails(owner.email, 'inactivity_warning_7d')).toEqual([]);
  });

  it('makes a downgraded org eligible from its last login: login and downgrade on day 40 → day 70', async () => {
    await open();
    const owner = await signUpOwner(t);
    const h = billingHelpers(t);
    await h.subscribePlus(owner);
    await advanceTo(at(40));
    const loggedIn = await logIn(owner);
    expectStatus(loggedIn, 200);
    expect(loggedIn.body.org.projected_deactivation_at).toBeNull();
    owner.cookie = loggedIn.cookie as string;
    expectStatus(await h.downgrade(owner), 200);
    const org = await h.org(owner);
    expect(org.plan).toBe('free');
    expectActive(org, at(70));

    await advanceTo(at(70, -1));
    expectActive(await orgAsStaff(owner.orgId), at(70));
    await advanceTo(at(70));
    expectDeactivatedByInactivity(await orgAsStaff(owner.orgId), at(70));
  });

  it('deactivates at once an org downgraded when its last login is over 30 days old (t* = D), unwarned', async () => {
    // Decision (docs/decisions.md): t* never comes before the org became free; when L + 30 days has
    // passed at the downgrade D, t* = D and the next pass of due work deactivates it.
    await open();
    const owner = await signUpOwner(t);
    await billingHelpers(t).subscribePlus(owner);
    await advanceTo(at(50));
    const toFree = await t.call('PUT', `/v1/admin/orgs/${owner.orgId}/subscription`, {
      cookie: await staff(),
      body: { plan: 'free' },
    });
    expectStatus(toFree, 200);
    const org = await orgAsStaff(owner.orgId);
    expect(org.plan).toBe('free');
    expectActive(org, at(50));
    await advanceTo(at(50));
    expectDeactivatedByInactivity(await orgAsStaff(owner.orgId), at(50));
    expect(await warnings(owner.email)).toEqual({ sevenDays: [], oneDay: [] });
  });
});

describe('warnings', () => {
  /** An owner with an org_admin, an admin through a team and a plain member, all joined at T0. */
  async function orgWithPeople() {
    const owner = await signUpOwner(t);
    const cookie = await staff();
    const admin = await joinOrg(t, owner, ['org_admin'], cookie);
    const member = await joinOrg(t, owner, ['member'], cookie);
    const teamAdmin = await joinOrg(t, owner, ['member'], cookie);
    const team = await t.call('POST', `/v1/orgs/${owner.orgId}/teams`, {
      cookie: owner.cookie,
      body: { name: 'Operators', roles: ['org_admin'] },
    });
    expectStatus(team, 201);
    expectStatus(
      await t.call('PUT', `/v1/orgs/${owner.orgId}/teams/${team.body.id}/members/${teamAdmin.userId}`, {
        cookie: owner.cookie,
      }),
      200,
    );
    return { owner, admin, member, teamAdmin };
  }

  it('emails each org admin once 7 days and once 1 day before t*, and no plain member', async () => {
    await open();
    const { owner, admin, member, teamAdmin } = await orgWithPeople();
    const admins: Array<Owner | Person> = [owner, admin, teamAdmin];

    await advanceTo(at(23, -1));
    for (const person of [...admins, member])
      expect(await warnings(person.email)).toEqual({ sevenDays: [], oneDay: [] });
    await advanceTo(at(23));
    for (const person of admins) expect(await warnings(person.email)).toEqual({ sevenDays: [at(23)], oneDay: [] });
    const [seven] = await emails(owner.email, 'inactivity_warning_7d');
    expect(seven.body).toContain(longDate(at(30)));

    await advanceTo(at(29, -1));
    for (const person of admins) expect(await warnings(person.email)).toEqual({ sevenDays: [at(23)], oneDay: [] });
    await advanceTo(at(29));
    for (const person of admins) {
      expect(await warnings(person.email)).toEqual({ sevenDays: [at(23)], oneDay: [at(29)] });
    }

    await advanceTo(at(30));
    expectDeactivatedByInactivity(await orgAsStaff(owner.orgId), at(30));
    for (const person of admins) {
      expect(await warnings(person.email)).toEqual({ sevenDays: [at(23)], oneDay: [at(29)] });
    }
    expect(await warnings(member.email)).toEqual({ sevenDays: [], oneDay: [] });
  });

  it('follow t* when a login moves it: one of each for the new t*, none more for the old', async () => {
    await open();
    const { owner, admin } = await orgWithPeople();
    await advanceTo(at(23));
    expect(await warnings(admin.email)).toEqual({ sevenDays: [at(23)], oneDay: [] });

    await advanceTo(at(25));
    const loggedIn = await logIn(owner);
    expectStatus(loggedIn, 200);
    expect(loggedIn.body.org.projected_deactivation_at).toBe(at(55));

    await advanceTo(at(47));
    for (const person of [owner, admin])
      expect(await warnings(person.email)).toEqual({ sevenDays: [at(23)], oneDay: [] });
    await advanceTo(at(54));
    for (const person of [owner, admin]) {
      expect(await warnings(person.email)).toEqual({ sevenDays: [at(23), at(48)], oneDay: [at(54)] });
    }
    const [, seven] = await emails(admin.email, 'inactivity_warning_7d');
    expect(seven.body).toContain(longDate(at(55)));
    await advanceTo(at(55));
    expectDeactivatedByInactivity(await orgAsStaff(owner.orgId), at(55));
    for (const person of [owner, admin]) {
      expect(await warnings(person.email)).toEqual({ sevenDays: [at(23), at(48)], oneDay: [at(54)] });
    }
  });

  it('follow t* when late traffic moves it a few days: the new t* gets its own 7-day warning', async () => {
    await open();
    const owner = await signUpOwner(t);
    const gateway = await billingHelpers(t).runtime(owner);
    // A login on day 26 moves t* from day 30 to day 56: warnings on day 23 (old t*) and day 49.
    await advanceTo(at(26));
    expectStatus(await logIn(owner), 200);
    await advanceTo(at(50));
    expect(await warnings(owner.email)).toEqual({ sevenDays: [at(23), at(49)], oneDay: [] });

    // A report arriving on day 50 with requests of day 29 (cycle 0, 21 days old): t* = day 60.
    await gateway.report({ [at(29)]: 10 });
    expectActive(await orgAsStaff(owner.orgId), at(60));
    await advanceTo(at(53));
    expect(await warnings(owner.email)).toEqual({ sevenDays: [at(23), at(49), at(53)], oneDay: [] });
    await advanceTo(at(60));
    expect(await warnings(owner.email)).toEqual({ sevenDays: [at(23), at(49), at(53)], oneDay: [at(59)] });
    expectDeactivatedByInactivity(await orgAsStaff(owner.orgId), at(60));
  });
});

describe('plan changes at a warning instant', () => {
  it('keeps the checks of a t* when sales move the org to Enterprise and back at its 7-day warning', async () => {
    // The test clock stands still between advances: the warning and both changes happen at day 23.
    await open();
    const owner = await signUpOwner(t);
    await advanceTo(at(23));
    expect(await warnings(owner.email)).toEqual({ sevenDays: [at(23)], oneDay: [] });
    const cookie = await staff();
    const terms = { monthly_fee: 250_000, included_requests: 10_000_000, overage_per_million: 1_500, net_days: 30 };
    const setSubscription = (body: object) =>
      t.call('PUT', `/v1/admin/orgs/${owner.orgId}/subscription`, { cookie, body });
    expectStatus(await setSubscription({ plan: 'enterprise', terms }), 200);
    expectStatus(await setSubscription({ plan: 'free' }), 200);
    // Free again at day 23 with its last login at day 0: t* = max(day 30, day 23) = day 30.
    expectActive(await orgAsStaff(owner.orgId), at(30));

    await advanceTo(at(30));
    expect(await warnings(owner.email)).toEqual({ sevenDays: [at(23)], oneDay: [at(29)] });
    expectDeactivatedByInactivity(await orgAsStaff(owner.orgId), at(30));
  });
});

describe('the lifecycle forecast', () => {
  const forecast = async (query: string, cookie?: string) =>
    t.call('GET', `/v1/admin/lifecycle/forecast?${query}`, { cookie: cookie ?? (await staff()) });

  it('lists the orgs whose t* is within N days, soonest first, without paid or deactivated orgs', async () => {
    await open();
    const a = await signUpOwner(t, { org_name: 'Alpha' });
    await advanceTo(at(1));
    const b = await signUpOwner(t, { org_name: 'Bravo' });
    const plus = await signUpOwner(t, { org_name: 'Paid' });
    await billingHelpers(t).subscribePlus(plus);
    await advanceTo(at(2));
    const c = await signUpOwner(t, { org_name: 'Charlie' });
    const gone = await signUpOwner(t, { org_name: 'Gone' });
    expectStatus(
      await t.call('POST', `/v1/admin/orgs/${gone.orgId}/deactivate`, {
        cookie: await staff(),
        body: { reason: 'owner_request' },
      }),
      200,
    );
    await advanceTo(at(3));
    expectStatus(await logIn(a), 200);
    // t*: Bravo day 31, Charlie day 32, Alpha day 33 (its login on day 3).

    const listed = async (days: number) => {
      const response = await forecast(`days=${days}`);
      expectStatus(response, 200);
      return response.body.data.map((org: any) => [org.id, org.deactivates_at]);
    };
    expect(await listed(27)).toEqual([]);
    expect(await listed(28)).toEqual([[b.orgId, at(31)]]);
    expect(await listed(29)).toEqual([
      [b.orgId, at(31)],
      [c.orgId, at(32)],
    ]);
    const all = [
      [b.orgId, at(31)],
      [c.orgId, at(32)],
      [a.orgId, at(33)],
    ];
    expect(await listed(30)).toEqual(all);
    expect(await listed(366)).toEqual(all);

    const whole = await forecast('days=30');
    expect(whole.body).toMatchObject({ as_of: at(3), until: at(33), next_cursor: null });
    expect(whole.body.data[0]).toMatchObject({ id: b.orgId, name: 'Bravo', status: 'active', plan: 'free' });
    expect(whole.body.data[0].projected_deactivation_at).toBe(at(31));

    const first = await forecast('days=30&limit=2');
    expect(first.body.data.map((org: any) => org.id)).toEqual([b.orgId, c.orgId]);
    expect(first.body.next_cursor).toEqual(expect.any(String));
    const second = await forecast(`days=30&limit=2&cursor=${encodeURIComponent(first.body.next_cursor)}`);
    expect(second.body.data.map((org: any) => org.id)).toEqual([a.orgId]);
    expect(second.body.next_cursor).toBeNull();

    // The same forecast counted per UTC day, for a chart.
    const daily = await t.call('GET', '/v1/admin/lifecycle/forecast/daily?days=30', { cookie: await staff() });
    expectStatus(daily, 200);
    expect(daily.body).toMatchObject({ as_of: at(3), until: at(33) });
    expect(daily.body.days).toEqual([
      { day: at(31).slice(0, 10), count: 1 },
      { day: at(32).slice(0, 10), count: 1 },
      { day: at(33).slice(0, 10), count: 1 },
    ]);
  });

  it('answers 400 naming days for a bad or missing days, 403 to non-staff and 401 to anonymous callers', async () => {
    await open();
    const owner = await signUpOwner(t);
    for (const query of ['days=x', 'days=-1', 'days=367', 'days=1.5', '']) {
      const response = await forecast(query);
      expect(response.status, query).toBe(400);
      expect(response.body.error.code).toBe('validation_failed');
      expect(response.body.error.field, query).toBe('days');
    }
    expectError(await forecast('days=30', owner.cookie), 403, 'staff_required');
    const token = await t.call('POST', '/v1/me/tokens', { cookie: owner.cookie, body: { name: 'ci' } });
    expectError(
      await t.call('GET', '/v1/admin/lifecycle/forecast?days=30', { token: token.body.token }),
      403,
      'staff_required',
    );
    expectError(await t.call('GET', '/v1/admin/lifecycle/forecast?days=30'), 401, 'unauthenticated');
  });
});
