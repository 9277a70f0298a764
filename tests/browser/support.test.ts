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
// deactivates and reactivates an org (its admin refused, then let in again) and unlocks an email;
// sales sets Enterprise; anyone on staff reads the deactivation forecast.

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

  it('unlocks an email as support, so it can sign up again', async () => {
    const org = await signUpOrg(tierline, 'locked', 'Difference Society');
    const admin = await staffClient(tierline);
    await admin.expect(200, 'POST', `/v1/admin/orgs/${org.orgId}/deactivate`, { reason: 'abuse' });
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
    const row = page.getByTestId(`lock-${org.email}`);
    await row.getByText('Abuse').waitFor();
    await screenshot(page, 'support-email-locks');
    await expectAccessible(page);
    await row.getByRole('button', { name: `Unlock ${org.email}` }).click();
    const dialog = page.getByRole('dialog', { name: `Unlock ${org.email}?` });
    await dialog.getByText('stays deactivated').waitFor();
    await dialog.getByRole('button', { name: 'Unlock email' }).click();
    await dialog.waitFor({ state: 'detached' });
    await expect.poll(() => row.count()).toBe(0);

    const again = await new ApiClient(tierline.url).request('POST', '/v1/signup', {
      email: org.email,
      password: PASSWORD,
      full_name: org.fullName,
      org_name: 'Second Try',
    });
    expect(again.status).toBe(201);
    const detail = await admin.expect(200, 'GET', `/v1/admin/orgs/${org.orgId}`);
    expect(detail.org.status).toBe('deactivated');
    expect(errors).toEqual([]);
    await close();
  });

  it('sets Enterprise with contract terms as sales, from the sales inquiry', async () => {
    const org = await signUpOrg(tierline, 'enterprise', 'Jacquard Mills');
    await subscribePlus(org);
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
    await dialog.getByLabel('Payment terms (net days)').fill('30');
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
    await screenshot(page, 'support-org-enterprise');

    const billing = await org.client.expect(200, 'GET', `/v1/orgs/${org.orgId}/billing`);
    expect(billing.plan).toBe('enterprise');
    expect(billing.subscription.terms).toMatchObject({
      monthly_fee: 250000,
      included_requests: 50000000,
      overage_per_million: 1500,
      net_days: 30,
    });
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
    await page.getByText('90 days').click();
    await page.getByRole('link', { name: 'Forecast Six' }).waitFor();
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
