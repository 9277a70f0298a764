import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanUpProcesses } from '../helpers/server-process.ts';
import {
  ADMIN,
  ApiClient,
  advanceClock,
  DECLINED_CARD,
  FAILING_CARD,
  GOOD_CARD,
  launchBrowser,
  logIn,
  logInAgain,
  openPage,
  reportDailyUsage,
  type SeededOrg,
  screenshot,
  seriousAccessibilityViolations,
  signUpOrg,
  startTierline,
  subscribePlus,
  type Tierline,
} from './support.ts';

// Settings → Billing and Usage in a real browser: upgrade, a declined card, Contact Sales, and
// Cancel Plan with its prorated final charge. Every test seeds its own org through the API.

const CLOCK_START = '2026-03-02T09:00:00.000Z';
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

async function fillBillingDetails(page: Page, org: SeededOrg, cardNumber: string) {
  await page.getByLabel('Card number', { exact: true }).fill(cardNumber);
  await page.getByLabel('Expiration month', { exact: true }).selectOption('12');
  await page.getByLabel('Expiration year', { exact: true }).selectOption('2031');
  await page.getByLabel('CVC', { exact: true }).fill('314');
  await page.getByLabel('Name', { exact: true }).fill(org.fullName);
  await page.getByLabel('Email', { exact: true }).fill(org.email);
  await page.getByLabel('Address', { exact: true }).fill('12 Engine Street');
  await page.getByLabel('City', { exact: true }).fill('London');
  await page.getByLabel('Postal code', { exact: true }).fill('EC1A 1BB');
  await page.getByLabel('Country', { exact: true }).selectOption('GB');
}

async function currentClock() {
  return (await new ApiClient(tierline.url).expect(200, 'GET', '/v1/test-clock')).now as string;
}

describe('Billing and Usage', () => {
  it('upgrades Free to Plus through Change Plan, Upgrade and the billing details form', async () => {
    const org = await signUpOrg(tierline, 'upgrade', 'Analytical Engines');
    await reportDailyUsage(
      tierline,
      org,
      new Date(await currentClock()),
      [1200, 3400, 2800, 5100, 4700, 6100, 5800, 7200, 6900, 8100, 7600, 9400, 8800, 10200],
    );
    const { page, errors, close } = await openPage(browser);
    await logIn(page, tierline, org.email);

    const plan = page.getByTestId('current-plan');
    await expect.poll(() => plan.innerText()).toContain('Free');
    await expect.poll(() => page.getByRole('button', { name: 'Cancel Plan' }).count()).toBe(0);
    await screenshot(page, 'billing-free');
    await expectAccessible(page);

    await page.getByRole('link', { name: 'Change Plan' }).click();
    await page.getByRole('heading', { name: 'Change Plan', level: 1 }).waitFor();
    for (const name of ['Free', 'Plus', 'Enterprise']) {
      await page.getByRole('heading', { name, exact: true }).waitFor();
    }
    await screenshot(page, 'change-plan');
    await expectAccessible(page);

    await page.getByRole('link', { name: 'Upgrade', exact: true }).click();
    await page.getByRole('heading', { name: 'Upgrade to Plus' }).waitFor();
    await fillBillingDetails(page, org, GOOD_CARD);
    await screenshot(page, 'upgrade-form');
    await expectAccessible(page);
    await page.getByRole('button', { name: 'Subscribe' }).click();

    await page.waitForURL('**/settings/billing');
    await expect.poll(() => plan.innerText()).toContain('Plus');
    await page.getByRole('button', { name: 'Cancel Plan' }).waitFor();
    await page.getByText('Visa ending 4242').first().waitFor();
    await screenshot(page, 'billing-plus');
    await expectAccessible(page);

    const billing = await org.client.expect(200, 'GET', `/v1/orgs/${org.orgId}/billing`);
    expect(billing.plan).toBe('plus');
    expect(billing.payment_method).toMatchObject({ last4: '4242', exp_month: 12, exp_year: 2031 });
    expect(billing.payment_method.billing_details).toMatchObject({
      name: org.fullName,
      address: { line1: '12 Engine Street', city: 'London', postal_code: 'EC1A 1BB', country: 'GB' },
    });
    expect(errors).toEqual([]);
    await close();
  });

  it('shows the declined card in the API’s words and changes nothing', async () => {
    const org = await signUpOrg(tierline, 'declined', 'Difference Engines');
    // The same refusal through the API (nothing is created by a declined card), for its exact words.
    const refusal = await org.client.request('POST', `/v1/orgs/${org.orgId}/payment-methods`, {
      card: { number: DECLINED_CARD, exp_month: 12, exp_year: 2031, cvc: '314' },
      billing_details: {
        name: org.fullName,
        email: org.email,
        address: { line1: '12 Engine Street', city: 'London', postal_code: 'EC1A 1BB', country: 'GB' },
      },
    });
    expect(refusal.status).toBe(402);
    expect(refusal.body.error.code).toBe('card_declined');

    const { page, errors, close } = await openPage(browser);
    await logIn(page, tierline, org.email);
    await page.getByRole('link', { name: 'Change Plan' }).click();
    await page.getByRole('link', { name: 'Upgrade', exact: true }).click();
    await fillBillingDetails(page, org, DECLINED_CARD);
    await page.getByRole('button', { name: 'Subscribe' }).click();

    const alert = page.getByTestId('billing-error');
    await alert.waitFor();
    expect(await alert.innerText()).toContain('Your card was declined');
    expect(await alert.innerText()).toContain(refusal.body.error.message);
    expect(page.url()).toMatch(/\/settings\/billing\/upgrade$/);
    await screenshot(page, 'upgrade-declined');
    await expectAccessible(page);

    const billing = await org.client.expect(200, 'GET', `/v1/orgs/${org.orgId}/billing`);
    expect(billing.plan).toBe('free');
    expect(billing.subscription).toBeNull();
    const methods = await org.client.expect(200, 'GET', `/v1/orgs/${org.orgId}/payment-methods`);
    expect(methods.data).toEqual([]);
    expect(errors).toEqual([]);
    await close();
  });

  it('sends Contact Sales for Enterprise and confirms it', async () => {
    const org = await signUpOrg(tierline, 'sales', 'Jacquard Looms');
    const { page, errors, close } = await openPage(browser);
    await logIn(page, tierline, org.email);
    await page.getByRole('link', { name: 'Change Plan' }).click();
    await page.getByRole('link', { name: 'Contact Sales' }).click();
    await page.getByRole('heading', { name: 'Contact Sales', level: 1 }).waitFor();

    await page.getByLabel('Name', { exact: true }).fill('Ada Lovelace');
    await page.getByLabel('Email', { exact: true }).fill(org.email);
    await page.getByLabel('Company', { exact: true }).fill('Jacquard Looms Ltd');
    const message = 'We proxy about 400 million requests a month through 150 runtimes.';
    await page.getByLabel('Message', { exact: true }).fill(message);
    await expectAccessible(page);
    await page.getByRole('button', { name: 'Contact Sales' }).click();

    const confirmation = page.getByTestId('sales-confirmation');
    await confirmation.waitFor();
    expect(await confirmation.innerText()).toContain('your message is with our sales team');
    expect(await confirmation.innerText()).toContain(org.email);
    await screenshot(page, 'contact-sales-sent');
    await expectAccessible(page);

    const staff = new ApiClient(tierline.url);
    await staff.expect(200, 'POST', '/v1/auth/login', ADMIN);
    const inquiries = await staff.expect(200, 'GET', '/v1/admin/sales-inquiries');
    expect(inquiries.data).toContainEqual(
      expect.objectContaining({ org_id: org.orgId, company: 'Jacquard Looms Ltd', message }),
    );
    expect(errors).toEqual([]);
    await close();
  });

  it('cancels Plus with Confirm Downgrade after showing the prorated final charge', async () => {
    const org = await signUpOrg(tierline, 'cancel', 'Babbage & Co');
    await subscribePlus(org);
    // Ten days and some hours into the period, with usage on most of those days.
    const later = new Date(new Date(await currentClock()).getTime() + 10 * 86_400_000 + 5 * 3_600_000);
    await advanceClock(tierline, later.toISOString());
    await logInAgain(org);
    await reportDailyUsage(
      tierline,
      org,
      later,
      [21000, 54000, 38000, 61000, 47000, 72000, 66000, 80500, 59000, 91000],
    );

    const { page, errors, close } = await openPage(browser);
    await logIn(page, tierline, org.email);
    await expect.poll(() => page.getByTestId('current-plan').innerText()).toContain('Plus');
    await page.getByRole('heading', { name: 'Usage', exact: true }).waitFor();
    await screenshot(page, 'billing-plus-usage');

    await page.getByRole('button', { name: 'Cancel Plan' }).click();
    const dialog = page.getByRole('dialog');
    const charge = dialog.getByTestId('final-charge');
    await charge.waitFor();

    // The clock stands still between advances, so the same preview through the API is exactly what the page shows.
    const preview = await org.client.expect(200, 'POST', `/v1/orgs/${org.orgId}/subscription/preview`, {
      plan: 'free',
    });
    expect(preview.invoice.total).toBeGreaterThan(0);
    expect(preview.invoice.total).toBeLessThan(10000);
    const expected = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' }).format(
      preview.invoice.total / 100,
    );
    expect(await charge.innerText()).toBe(expected);
    await screenshot(page, 'cancel-plan');
    await expectAccessible(page);

    await dialog.getByRole('button', { name: 'Confirm Downgrade' }).click();
    await dialog.waitFor({ state: 'detached' });
    await expect.poll(() => page.getByTestId('current-plan').innerText()).toContain('Free');
    await expect.poll(() => page.getByRole('button', { name: 'Cancel Plan' }).count()).toBe(0);
    await page.getByText('Final invoice', { exact: true }).first().waitFor();
    await screenshot(page, 'billing-after-downgrade');
    await expectAccessible(page);

    const billing = await org.client.expect(200, 'GET', `/v1/orgs/${org.orgId}/billing`);
    expect(billing.plan).toBe('free');
    const invoices = await org.client.expect(200, 'GET', `/v1/orgs/${org.orgId}/invoices`);
    expect(invoices.data[0]).toMatchObject({ kind: 'final', total: preview.invoice.total });
    expect(errors).toEqual([]);
    await close();
  });

  it('warns about a failed payment and pays it with a new card added through the form', async () => {
    const org = await signUpOrg(tierline, 'pastdue', 'Punched Cards');
    const subscription = await subscribePlus(org, FAILING_CARD);
    // Past the first billing date: the charge to the failing card fails and the invoice is past due.
    await advanceClock(tierline, new Date(new Date(subscription.next_billing_at).getTime() + 60_000).toISOString());
    await logInAgain(org);
    const before = await org.client.expect(200, 'GET', `/v1/orgs/${org.orgId}/invoices`);
    expect(before.data[0]).toMatchObject({ status: 'past_due', kind: 'cycle' });

    const { page, errors, close } = await openPage(browser);
    await logIn(page, tierline, org.email);
    const notice = page.getByRole('alert').filter({ hasText: 'A payment failed' });
    await notice.waitFor();
    expect(await notice.innerText()).toContain(before.data[0].number);
    await page.getByText('Past due', { exact: true }).waitFor();
    await screenshot(page, 'billing-past-due');
    await expectAccessible(page);

    await notice.getByRole('link', { name: 'Add a new card' }).click();
    await page.getByRole('heading', { name: 'Add payment method' }).waitFor();
    await fillBillingDetails(page, org, GOOD_CARD);
    await page.getByRole('button', { name: 'Add card' }).click();
    await page.waitForURL('**/settings/billing');
    await page.getByText('Paid', { exact: true }).first().waitFor();
    expect(await page.getByRole('alert').filter({ hasText: 'A payment failed' }).count()).toBe(0);
    await screenshot(page, 'billing-paid-with-new-card');

    const after = await org.client.expect(200, 'GET', `/v1/orgs/${org.orgId}/invoices`);
    expect(after.data[0]).toMatchObject({ id: before.data[0].id, status: 'paid' });
    expect(errors).toEqual([]);
    await close();
  });
});
