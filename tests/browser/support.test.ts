import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanUpProcesses } from '../helpers/server-process.ts';
import {
  ApiClient,
  advanceClock,
  createStaffMember,
  launchBrowser,
  logIn,
  openPage,
  PASSWORD,
  screenshot,
  seriousAccessibilityViolations,
  signUpOrg,
  staffClient,
  startTierline,
  submitLogin,
  subscribePlus,
  type Tierline,
  uniqueEmail,
} from './support.ts';

// The support console in a real browser, with staff holding only the role each task needs: support
// deactivates and reactivates an org (its admin refused, then let in again), finds a locked email and
// unlocks it; sales sets Enterprise, then Plus on a card picked from the org's; anyone on staff reads
// the deactivation forecast.

const CLOCK_START = '2026-08-03T09:00:00.000Z';
let tierline: Tierline;
let browser: Browser;

beforeAll(async () => {
  [tierline, browser] = await Promise.all([startTierline(CLOCK_START), launchBrowser()]);
});

afterAll(async () => {
  await browser?.close();
  await cleanUpProcesses();
});

async function expectAccessible(page: Page) {
  expect(await seriousAccessibilityViolations(page)).toEqual([]);
}

/** Staff log in through the login page and land in the console. */
async function logInAsStaff(page: Page, credentials: { email: string; password: string }) {
  await submitLogin(page, tierline, credentials.email, credentials.password);
  await page.waitForURL('**/support');
  await page.getByRole('heading', { name: 'Organizations', level: 1 }).waitFor();
}

async function openOrg(page: Page, name: string) {
  await page.getByLabel('Search organizations').fill(name);
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await page.getByRole('link', { name, exact: true }).click();
  await page.getByRole('heading', { name, level: 1 }).waitFor();
}

describe('Support console', () => {
  it('deactivates an org; its admin is refused at login; reactivated, the admin logs in again', async () => {
    const org = await signUpOrg(tierline, 'closing', 'Analytical Society');
    await org.client.expect(201, 'POST', `/v1/orgs/${org.orgId}/runtimes`, { name: 'edge-1' });
    // A second person, an org admin through a team, whose roles deactivation removes and reactivation restores.
    const admin = uniqueEmail('society-admin');
    await org.client.expect(201, 'POST', `/v1/orgs/${org.orgId}/invitations`, { email: admin, roles: ['member'] });
    const outbox = await (await staffClient(tierline)).expect(200, 'GET', `/v1/admin/outbox?to=${admin}`);
    const token = /token=(\S+)/.exec(outbox.data[0].body)![1];
    const joined = await new ApiClient(tierline.url).expect(200, 'POST', '/v1/invitations/accept', {
      token,
      password: PASSWORD,
      full_name: 'Mary Somerville',
    });
    const team = await org.client.expect(201, 'POST', `/v1/orgs/${org.orgId}/teams`, {
      name: 'Operators',
      roles: ['org_admin'],
    });
    await org.client.expect(200, 'PUT', `/v1/orgs/${org.orgId}/teams/${team.id}/members/${joined.user.id}`);

    const support = await createStaffMember(tierline, 'support', ['support']);
    const { page, errors, close } = await openPage(browser);
    await logInAsStaff(page, support);
    const navigation = page.getByRole('navigation', { name: 'Sections' });
    expect(await navigation.getByRole('link').allInnerTexts()).toEqual([
      'Organizations',
      'Deactivation forecast',
      'Email locks',
      'Outbox',
    ]);
    await openOrg(page, 'Analytical Society');
    // Support has no sales tools.
    expect(await page.getByRole('button', { name: 'Set plan' }).count()).toBe(0);
    await page.getByRole('region', { name: 'Runtimes' }).getByText('edge-1').waitFor();
    await page.getByRole('region', { name: 'Subscription' }).getByText('the organization is on Free').waitFor();
    await screenshot(page, 'support-org');
    await expectAccessible(page);

    await page.getByRole('button', { name: 'Deactivate', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: 'Deactivate Analytical Society?' });
    const effects = await dialog.getByTestId('deactivation-effects').innerText();
    expect(effects).toContain('Nobody can log in to Analytical Society');
    expect(effects).toContain(`The email ${org.email} is locked`);
    expect(effects).toContain('its 1 runtime is refused');
    await dialog.getByRole('button', { name: 'Deactivate Analytical Society' }).click();
    await dialog.getByText('Choose why.').waitFor();
    await dialog.getByRole('radio', { name: 'Other' }).check();
    await dialog.getByRole('button', { name: 'Deactivate Analytical Society' }).click();
    await dialog.getByText('Describe the reason in a sentence.').waitFor();
    await dialog.getByRole('radio', { name: 'The owner asked' }).check();
    await screenshot(page, 'support-deactivate');
    await expectAccessible(page);
    await dialog.getByRole('button', { name: 'Deactivate Analytical Society' }).click();
    await dialog.waitFor({ state: 'detached' });
    const deactivated = page.getByTestId('deactivated');
    await deactivated.getByText('Reason: The owner asked').waitFor();
    // The detail says the email is still locked, with Unlock for support.
    await deactivated.getByTestId('email-lock').getByText('is still locked').waitFor();
    await deactivated.getByRole('button', { name: `Unlock ${org.email}` }).waitFor();
    await page.getByTestId('audit-trail').getByText('Organization deactivated').waitFor();
    await page.getByRole('button', { name: 'Reactivate' }).waitFor();
    await screenshot(page, 'support-org-deactivated');
    await expectAccessible(page);

    // The org's owner is refused at the login page, in plain words.
    const owner = await openPage(browser);
    await submitLogin(owner.page, tierline, org.email);
    await owner.page.getByRole('alert').getByText('This organization has been deactivated').waitFor();
    expect(owner.page.url()).toMatch(/\/login$/);

    await page.getByRole('button', { name: 'Reactivate' }).click();
    const reactivate = page.getByRole('dialog', { name: 'Reactivate Analytical Society?' });
    await reactivate.getByRole('checkbox', { name: 'Restore removed roles and team memberships' }).check();
    await screenshot(page, 'support-reactivate');
    await expectAccessible(page);
    await reactivate.getByRole('button', { name: 'Reactivate Analytical Society' }).click();
    await reactivate.waitFor({ state: 'detached' });
    await page.getByRole('button', { name: 'Deactivate', exact: true }).waitFor();
    await page.getByTestId('audit-trail').getByText('Organization reactivated').waitFor();
    // Reactivation lifted the lock.
    expect(await page.getByTestId('email-lock').count()).toBe(0);

    // Now the owner gets in, and the team admin too, with the team membership given back.
    await logIn(owner.page, tierline, org.email);
    expect(owner.errors).toEqual([]);
    await owner.close();
    const members = await new ApiClient(tierline.url);
    await members.expect(200, 'POST', '/v1/auth/login', { email: admin, password: PASSWORD, org_id: org.orgId });
    const me = await members.expect(200, 'GET', '/v1/me');
    expect(me.roles).toEqual(['org_admin', 'member']);
    expect(errors).toEqual([]);
    await close();
  });

  it('finds a lock by email, opens its org and unlocks it there as support, so it can sign up again', async () => {
    const org = await signUpOrg(tierline, 'locked', 'Difference Society');
    const other = await signUpOrg(tierline, 'locked-too', 'Engine Society');
    const admin = await staffClient(tierline);
    await admin.expect(200, 'POST', `/v1/admin/orgs/${org.orgId}/deactivate`, { reason: 'abuse' });
    await admin.expect(200, 'POST', `/v1/admin/orgs/${other.orgId}/deactivate`, { reason: 'support_request' });
    const refused = await new ApiClient(tierline.url).request('POST', '/v1/signup', {
      email: org.email,
      password: PASSWORD,
      full_name: org.fullName,
      org_name: 'Second Try',
    });
    expect(refused.body.error.code).toBe('email_locked');

    const support = await createStaffMember(tierline, 'unlocker', ['support']);
    const { page, errors, close } = await openPage(browser);
    await logInAsStaff(page, support);
    await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Email locks' }).click();
    await page.getByRole('heading', { name: 'Email locks', level: 1 }).waitFor();
    // Every lock names its organization.
    const row = page.getByTestId(`lock-${org.email}`);
    await row.getByText('Abuse').waitFor();
    await row.getByRole('link', { name: 'Difference Society' }).waitFor();
    await page.getByTestId(`lock-${other.email}`).getByRole('link', { name: 'Engine Society' }).waitFor();
    await screenshot(page, 'support-email-locks');
    await expectAccessible(page);

    // Searching by email (in any case) keeps only that email's locks.
    await page.getByRole('textbox', { name: 'Email' }).fill(org.email.toUpperCase());
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.getByText(`Locks on ${org.email.toUpperCase()}, newest first.`).waitFor();
    await expect.poll(() => page.getByTestId(`lock-${other.email}`).count()).toBe(0);
    expect(await page.getByRole('table').getByRole('row').count()).toBe(2);
    await screenshot(page, 'support-email-locks-search');
    await expectAccessible(page);

    // The org's page says the email is still locked, and support unlocks it there.
    await row.getByRole('link', { name: 'Difference Society' }).click();
    await page.getByRole('heading', { name: 'Difference Society', level: 1 }).waitFor();
    const lock = page.getByTestId('email-lock');
    await lock.getByText('is still locked').waitFor();
    await lock.getByRole('button', { name: `Unlock ${org.email}` }).click();
    const dialog = page.getByRole('dialog', { name: `Unlock ${org.email}?` });
    await dialog.getByText('stays deactivated').waitFor();
    await dialog.getByRole('button', { name: 'Unlock email' }).click();
    await dialog.waitFor({ state: 'detached' });
    await lock.getByText('is not locked any more').waitFor();
    expect(await lock.getByRole('button').count()).toBe(0);
    await page.getByTestId('deactivated').waitFor();
    await screenshot(page, 'support-org-unlocked');
    await expectAccessible(page);

    // Back on Email locks, the search finds nothing for it; the other lock is unlocked from the list.
    await page.goBack();
    await page.getByText(`No lock on ${org.email.toUpperCase()}.`).waitFor();
    await page.getByRole('button', { name: 'All locks' }).click();
    const otherRow = page.getByTestId(`lock-${other.email}`);
    await otherRow.getByRole('button', { name: `Unlock ${other.email}` }).click();
    const listDialog = page.getByRole('dialog', { name: `Unlock ${other.email}?` });
    await listDialog.getByRole('button', { name: 'Unlock email' }).click();
    await listDialog.waitFor({ state: 'detached' });
    await expect.poll(() => otherRow.count()).toBe(0);
    expect(await row.count()).toBe(0);

    const again = await new ApiClient(tierline.url).request('POST', '/v1/signup', {
      email: org.email,
      password: PASSWORD,
      full_name: org.fullName,
      org_name: 'Second Try',
    });
    expect(again.status).toBe(201);
    const detail = await admin.expect(200, 'GET', `/v1/admin/orgs/${org.orgId}`);
    expect(detail.org.status).toBe('deactivated');
    expect(detail.email_locks).toEqual([]);
    expect(errors).toEqual([]);
    await close();
  });

  it('sets Enterprise with contract terms as sales, from the sales inquiry', async () => {
    const org = await signUpOrg(tierline, 'enterprise', 'Jacquard Mills');
    await subscribePlus(org);
    // A second card; the newest becomes the one Plus charges.
    await org.client.expect(201, 'POST', `/v1/orgs/${org.orgId}/payment-methods`, {
      card: { number: '5555555555554444', exp_month: 4, exp_year: 2031, cvc: '123' },
      billing_details: {
        name: 'Jacquard Accounts',
        email: org.email,
        address: { line1: '2 Loom Street', city: 'Lyon', postal_code: '69001', country: 'FR' },
      },
    });
    await org.client.expect(201, 'POST', `/v1/orgs/${org.orgId}/sales-inquiries`, {
      name: org.fullName,
      email: org.email,
      company: 'Jacquard Mills Ltd',
      message: 'About 400 million requests a month across 150 runtimes.\nWe pay by bank transfer.',
    });

    const sales = await createStaffMember(tierline, 'sales', ['sales']);
    const { page, errors, close } = await openPage(browser);
    await logInAsStaff(page, sales);
    const navigation = page.getByRole('navigation', { name: 'Sections' });
    expect(await navigation.getByRole('link', { name: 'Email locks' }).count()).toBe(0);
    await navigation.getByRole('link', { name: 'Sales inquiries' }).click();
    const inquiry = page.getByRole('article', { name: 'Jacquard Mills Ltd' });
    await inquiry.getByText('We pay by bank transfer.').waitFor();
    await screenshot(page, 'support-sales-inquiries');
    await expectAccessible(page);

    await inquiry.getByRole('link', { name: 'Open the organization to set its plan' }).click();
    await page.getByRole('heading', { name: 'Jacquard Mills', level: 1 }).waitFor();
    // Sales has no support tools.
    expect(await page.getByRole('button', { name: 'Deactivate', exact: true }).count()).toBe(0);
    await page.getByRole('button', { name: 'Set plan' }).click();
    const dialog = page.getByRole('dialog', { name: 'Set the plan of Jacquard Mills' });
    await dialog.getByLabel('Monthly fee').fill('2,500.999');
    await dialog.getByLabel('Included requests').fill('50,000,000');
    await dialog.getByLabel('Overage per million requests').fill('15');
    // Net 0 charges a card: one of the org's, the one Plus charges now chosen first.
    await dialog.getByLabel('Payment terms (net days)').fill('0');
    const card = dialog.getByRole('combobox', { name: 'Payment method' });
    expect(await card.inputValue()).toBe('Mastercard ending 4444, expires 04/2031 (charged now)');
    await dialog.getByLabel('Payment terms (net days)').fill('30');
    await expect.poll(() => card.count()).toBe(0);
    await dialog.getByRole('button', { name: 'Set Enterprise' }).click();
    await dialog.getByText('Enter an amount such as 2500 or 2500.00.').waitFor();
    await dialog.getByLabel('Monthly fee').fill('2,500');
    const summary = await dialog.getByTestId('plan-change-summary').innerText();
    expect(summary).toContain('The current Plus subscription ends now');
    expect(summary).toContain('$2,500.00 a month with 50,000,000 requests included, then $15.00 per million');
    expect(summary).toContain('due 30 days after each billing date');
    await screenshot(page, 'support-set-plan');
    await expectAccessible(page);
    await dialog.getByRole('button', { name: 'Set Enterprise' }).click();
    await dialog.waitFor({ state: 'detached' });
    await page.getByText('Jacquard Mills is on Enterprise').waitFor();
    await expect.poll(() => page.getByRole('main').getByText('Enterprise', { exact: true }).count()).toBeGreaterThan(0);
    await page.getByTestId('audit-trail').getByText('Subscription started').first().waitFor();
    const subscription = page.getByTestId('staff-subscription');
    await subscription.getByText('$2,500.00 a month').waitFor();
    await subscription.getByText('Due 30 days after each billing date').waitFor();
    await screenshot(page, 'support-org-enterprise');

    const billing = await org.client.expect(200, 'GET', `/v1/orgs/${org.orgId}/billing`);
    expect(billing.plan).toBe('enterprise');
    expect(billing.subscription.terms).toMatchObject({
      monthly_fee: 250000,
      included_requests: 50000000,
      overage_per_million: 1500,
      net_days: 30,
    });

    // Back to Plus, charged to the older card, picked from the org's cards.
    await page.getByRole('button', { name: 'Set plan' }).click();
    const toPlus = page.getByRole('dialog', { name: 'Set the plan of Jacquard Mills' });
    await toPlus.getByRole('radio', { name: 'Plus' }).check();
    await toPlus.getByRole('combobox', { name: 'Payment method' }).click();
    const options = page.getByRole('listbox').getByRole('option');
    // Both were added at the same (test clock) instant, so their order is not asserted.
    expect((await options.allInnerTexts()).sort()).toEqual([
      'Mastercard ending 4444, expires 04/2031',
      'Visa ending 4242, expires 12/2035',
    ]);
    await options.filter({ hasText: 'Visa ending 4242' }).click();
    await toPlus.getByText('Plus starts now, billed monthly to Visa ending 4242.').waitFor();
    await screenshot(page, 'support-set-plan-card');
    await expectAccessible(page);
    await toPlus.getByRole('button', { name: 'Set Plus' }).click();
    await toPlus.waitFor({ state: 'detached' });
    await subscription.getByText('Visa ending 4242, expires 12/2035').waitFor();
    const plus = await org.client.expect(200, 'GET', `/v1/orgs/${org.orgId}/billing`);
    expect(plus.plan).toBe('plus');
    expect(plus.payment_method).toMatchObject({ brand: 'visa', last4: '4242' });
    expect(plus.subscription.payment_method_id).toBe(plus.payment_method.id);
    expect(errors).toEqual([]);
    await close();
  });

  it('says there is no such organization or webhook endpoint for an unknown id, with the way back', async () => {
    const { page, errors, close } = await openPage(browser);
    const admin = await createStaffMember(tierline, 'looker', ['admin']);
    await logInAsStaff(page, admin);
    for (const [path, title, back, heading] of [
      ['/support/orgs/org_nosuchorg', 'There is no organization with this id', 'Organizations', 'Organizations'],
      ['/support/webhooks/whe_nosuchendpoint', 'There is no webhook endpoint with this id', 'Webhooks', 'Webhooks'],
    ] as const) {
      await page.goto(`${tierline.url}${path}`);
      const alert = page.getByRole('alert').filter({ hasText: title });
      await alert.waitFor();
      // Nothing to retry: the id names nothing.
      expect(await alert.getByRole('button', { name: 'Try again' }).count()).toBe(0);
      await expectAccessible(page);
      await page.getByRole('main').getByRole('link', { name: back }).click();
      await page.getByRole('heading', { name: heading, level: 1 }).waitFor();
    }
    expect(errors).toEqual([]);
    await close();
  });

  it('charts the orgs falling due per day, and fits a phone', async () => {
    // Orgs created on different days fall due on different days (30 days after their last login).
    const start = new Date((await new ApiClient(tierline.url).expect(200, 'GET', '/v1/test-clock')).now);
    for (const [offset, names] of [
      [0, ['Forecast One', 'Forecast Two']],
      [2, ['Forecast Three']],
      [5, ['Forecast Four', 'Forecast Five', 'Forecast Six']],
    ] as const) {
      await advanceClock(tierline, new Date(start.getTime() + offset * 86_400_000 + 60_000).toISOString());
      for (const name of names) await signUpOrg(tierline, 'forecast', name);
    }
    const staff = await staffClient(tierline);
    const forecast = await staff.expect(200, 'GET', '/v1/admin/lifecycle/forecast?days=40&limit=100');

    const { page, errors, close } = await openPage(browser);
    const admin = await createStaffMember(tierline, 'viewer', ['admin']);
    await logInAsStaff(page, admin);
    await page
      .getByRole('navigation', { name: 'Sections' })
      .getByRole('link', { name: 'Deactivation forecast' })
      .click();
    await page.getByRole('heading', { name: 'Deactivation forecast', level: 1 }).waitFor();
    const daily = page.waitForResponse((response) =>
      response.url().endsWith('/v1/admin/lifecycle/forecast/daily?days=90'),
    );
    await page.getByText('90 days').click();
    expect((await daily).status()).toBe(200);
    await page.getByRole('link', { name: 'Forecast Six' }).waitFor();
    // The chart counts every org falling due, from the API's counts per day.
    const counts = await staff.expect(200, 'GET', '/v1/admin/lifecycle/forecast/daily?days=90');
    const total = counts.days.reduce((sum: number, day: { count: number }) => sum + day.count, 0);
    expect(total).toBe(forecast.data.length);
    await page.getByRole('img', { name: `Bar chart: ${total} organizations fall due over the next 90 days` }).waitFor();
    // One bar per day: the days with orgs falling due are drawn.
    await expect.poll(() => page.locator('.recharts-bar-rectangle path').count()).toBeGreaterThanOrEqual(3);
    const rows = await page.getByRole('region', { name: 'Soonest first' }).getByRole('row').count();
    expect(rows - 1).toBe(forecast.data.length);
    await screenshot(page, 'support-forecast');
    await expectAccessible(page);
    await close();

    const phone = await openPage(browser, { width: 390, height: 844 });
    await logInAsStaff(phone.page, admin);
    await openOrg(phone.page, 'Forecast Six');
    expect(await phone.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await screenshot(phone.page, 'support-org-phone');
    await expectAccessible(phone.page);
    expect([...errors, ...phone.errors]).toEqual([]);
    await phone.close();
  });
});
