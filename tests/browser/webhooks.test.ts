import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanUpProcesses } from '../helpers/server-process.ts';
import {
  ADMIN,
  ApiClient,
  advanceClock,
  createStaffMember,
  launchBrowser,
  openPage,
  screenshot,
  screenshotDir,
  seriousAccessibilityViolations,
  signUpOrg,
  staffClient,
  startTierline,
  submitLogin,
  type Tierline,
} from './support.ts';

// Webhooks in the support console, in a real browser: an admin adds an endpoint that points at a
// receiver this test runs (it answers 500 to the first request, then 200), copies the secret shown
// once, sees an org's deactivation fail to arrive, retries it and sees it delivered; disables,
// enables and rotates the secret; edits an endpoint and deletes one. Staff without the admin role are
// not offered the page.

const CLOCK_START = '2026-09-07T09:00:00.000Z';
let tierline: Tierline;
let browser: Browser;
let receiver: Server;
let receiverUrl: string;
const received: { path: string; headers: IncomingHttpHeaders; body: string }[] = [];
/** Orgs whose events the receiver always refuses with a 500. */
const refusedOrgs = new Set<string>();
/** Where the receiver refuses every event with a 500. */
const REFUSING_PATH = '/hooks/refusing';

beforeAll(async () => {
  receiver = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const path = request.url ?? '';
      received.push({ path, headers: request.headers, body });
      const isRefused = received.length === 1 || refusedOrgs.has(JSON.parse(body).org_id) || path === REFUSING_PATH;
      response.writeHead(isRefused ? 500 : 200, { 'content-type': 'text/plain' });
      response.end(isRefused ? 'receiver not ready' : 'ok');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/tierline`;
  [tierline, browser] = await Promise.all([startTierline(CLOCK_START), launchBrowser()]);
});

afterAll(async () => {
  await browser?.close();
  await cleanUpProcesses();
  receiver?.closeAllConnections();
  await new Promise((resolve) => receiver?.close(resolve));
});

async function expectAccessible(page: Page) {
  expect(await seriousAccessibilityViolations(page)).toEqual([]);
}

/** Closes the notifications on screen, so that a screenshot shows the page. */
async function dismissNotifications(page: Page) {
  const dismiss = page.getByRole('button', { name: 'Dismiss' });
  while ((await dismiss.count()) > 0) {
    // One that is closing by itself meanwhile cannot be clicked: it goes all the same.
    await dismiss
      .first()
      .click({ timeout: 1_000 })
      .catch(() => undefined);
  }
}

async function logInAsStaff(page: Page, credentials: { email: string; password: string }) {
  await submitLogin(page, tierline, credentials.email, credentials.password);
  await page.waitForURL('**/support');
  await page.getByRole('heading', { name: 'Organizations', level: 1 }).waitFor();
}

/** What a receiver does with the secret: recompute the HMAC of "t.body" and find it among the v1s. */
function isSignedWith(entry: { headers: IncomingHttpHeaders; body: string }, secret: string) {
  const header = String(entry.headers['tierline-signature']);
  const timestamp = /(?:^|,)t=(\d+)/.exec(header)?.[1];
  const expected = createHmac('sha256', secret).update(`${timestamp}.${entry.body}`).digest('hex');
  return [...header.matchAll(/(?:^|,)v1=([0-9a-f]{64})/g)].some((match) => match[1] === expected);
}

describe('Webhooks in the support console', () => {
  it('adds an endpoint, shows its secret once, and retries a failed delivery until it is delivered', async () => {
    const { page, errors, close } = await openPage(browser);
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: tierline.url });
    await logInAsStaff(page, ADMIN);
    const navigation = page.getByRole('navigation', { name: 'Sections' });
    expect(await navigation.getByRole('link').allInnerTexts()).toContain('Webhooks');
    await navigation.getByRole('link', { name: 'Webhooks' }).click();
    await page.getByRole('heading', { name: 'Webhooks', level: 1 }).waitFor();
    await page.getByText('No endpoint yet.').waitFor();

    // The form says what is missing before anything is sent.
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    const form = page.getByRole('dialog', { name: 'Add a webhook endpoint' });
    await form.getByRole('button', { name: 'Add endpoint' }).click();
    await form.getByText('Enter an http:// or https:// URL.').waitFor();
    await form.getByText('Choose at least one event type.').waitFor();
    await form.getByLabel('URL', { exact: true }).fill(receiverUrl);
    await form.getByLabel('Description (optional)').fill('Operations receiver');
    await form.getByRole('combobox', { name: 'Event types' }).click();
    await page.getByRole('option', { name: /^org\.deactivated/ }).click();
    await page.getByRole('option', { name: /^org\.reactivated/ }).click();
    await page.keyboard.press('Escape');
    await screenshot(page, 'support-webhooks-add');
    await expectAccessible(page);
    await form.getByRole('button', { name: 'Add endpoint' }).click();

    // The secret, once, with a copy button that puts it on the clipboard.
    const shown = page.getByRole('dialog', { name: 'Endpoint added' });
    const secret = (await shown.getByTestId('webhook-secret').innerText()).trim();
    expect(secret).toMatch(/^whsec_[0-9A-Za-z]{40}$/);
    await shown.getByRole('button', { name: 'Copy secret' }).click();
    await shown.getByRole('button', { name: 'Copied' }).waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
    await screenshot(page, 'support-webhooks-secret');
    await expectAccessible(page);
    await shown.getByRole('button', { name: 'Done' }).click();
    await shown.waitFor({ state: 'detached' });
    await page.getByRole('heading', { name: receiverUrl, level: 1 }).waitFor();
    await page.getByText('No delivery yet.').waitFor();
    expect(await page.getByTestId('webhook-secret').count()).toBe(0);

    // An org is deactivated; the clock moves on and the pass sends the event: the receiver answers 500.
    const org = await signUpOrg(tierline, 'hooked', 'Hollerith Tabulating');
    const admin = await staffClient(tierline);
    await admin.expect(200, 'POST', `/v1/admin/orgs/${org.orgId}/deactivate`, { reason: 'support_request' });
    await page.getByRole('region', { name: 'Test clock' }).getByRole('button', { name: '+1 hour' }).click();
    const row = page.getByTestId('deliveries').getByRole('row').filter({ hasText: 'org.deactivated' });
    await row.getByText('HTTP 500').waitFor();
    await row.getByText('Retrying').waitFor();
    expect(await row.getByRole('cell').nth(2).innerText()).toBe('1');
    await dismissNotifications(page);
    expect(received).toHaveLength(1);
    const event = JSON.parse(received[0].body);
    expect(event).toMatchObject({ type: 'org.deactivated', org_id: org.orgId });
    expect(isSignedWith(received[0], secret)).toBe(true);
    await page.getByRole('img', { name: /1 deliveries, 0 delivered, 1 pending or retrying, 0 failed/ }).waitFor();
    await screenshot(page, 'support-webhooks-failed');
    await expectAccessible(page);

    // The attempt, as the log keeps it.
    await row.getByRole('button', { name: /^Attempts/ }).click();
    const detail = page.getByRole('dialog', { name: 'Delivery of org.deactivated' });
    const attempts = detail.getByTestId('delivery-attempts');
    await attempts.getByText('HTTP 500').waitFor();
    await attempts.getByText('receiver not ready').waitFor();
    expect(await attempts.getByRole('row').count()).toBe(2);
    await screenshot(page, 'support-webhooks-attempts');
    await expectAccessible(page);
    await detail.getByRole('button', { name: 'Close', exact: true }).first().click();
    await detail.waitFor({ state: 'detached' });

    // Retry: due now, so a clock step shorter than the schedule's next minute sends it.
    await row.getByRole('button', { name: /^Retry/ }).click();
    await page.getByText('Retry queued').waitFor();
    const clock = await new ApiClient(tierline.url).expect(200, 'GET', '/v1/test-clock');
    await advanceClock(tierline, new Date(Date.parse(clock.now) + 1_000).toISOString());
    await row.getByText('Delivered').waitFor();
    await row.getByText('HTTP 200').waitFor();
    expect(await row.getByRole('cell').nth(2).innerText()).toBe('2');
    expect(await row.getByRole('button', { name: /^Retry/ }).count()).toBe(0);
    expect(received).toHaveLength(2);
    expect(received[1].body).toBe(received[0].body);
    expect(received[1].headers['tierline-delivery-attempt']).toBe('2');
    expect(isSignedWith(received[1], secret)).toBe(true);
    await page.getByRole('img', { name: /1 deliveries, 1 delivered, 0 pending or retrying, 0 failed/ }).waitFor();
    await dismissNotifications(page);
    await screenshot(page, 'support-webhooks-endpoint');
    await expectAccessible(page);

    // Disabled, it says so; enabled again.
    await page.getByRole('button', { name: 'Disable', exact: true }).click();
    const disable = page.getByRole('dialog', { name: 'Disable this endpoint?' });
    await disable.getByRole('button', { name: 'Disable endpoint' }).click();
    await disable.waitFor({ state: 'detached' });
    await page.getByText('Disabled', { exact: true }).waitFor();
    await page.getByRole('button', { name: 'Enable', exact: true }).click();
    await page.getByRole('button', { name: 'Disable', exact: true }).waitFor();
    await page.getByText('Enabled', { exact: true }).waitFor();

    // A rotated secret is shown once too; with an overlap the old one still signs for an hour.
    await page.getByRole('button', { name: 'Rotate secret' }).click();
    const rotate = page.getByRole('dialog', { name: 'Rotate the signing secret?' });
    await rotate.getByRole('radio', { name: 'For 1 hour' }).check();
    await rotate.getByRole('button', { name: 'Rotate secret' }).click();
    const rotated = page.getByRole('dialog', { name: 'Secret rotated' });
    const newSecret = (await rotated.getByTestId('webhook-secret').innerText()).trim();
    expect(newSecret).toMatch(/^whsec_/);
    expect(newSecret).not.toBe(secret);
    await rotated.getByText('The old secret also signs until').waitFor();
    await rotated.getByRole('button', { name: 'Done' }).click();
    await rotated.waitFor({ state: 'detached' });

    // The list: the endpoint with its types, state and when it was added.
    await page.getByRole('link', { name: 'Webhooks' }).first().click();
    await page.getByRole('heading', { name: 'Webhooks', level: 1 }).waitFor();
    const listed = page.getByRole('row').filter({ hasText: receiverUrl });
    await listed.getByText('Operations receiver').waitFor();
    await listed.getByText('org.deactivated').waitFor();
    await listed.getByText('org.reactivated').waitFor();
    await listed.getByText('Enabled').waitFor();
    await dismissNotifications(page);
    await screenshot(page, 'support-webhooks');
    await expectAccessible(page);
    expect(errors).toEqual([]);
    await close();
  });

  it('charts a week of deliveries by day and status, as the API counts them', async () => {
    const admin = await staffClient(tierline);
    const [endpoint] = (await admin.expect(200, 'GET', '/v1/admin/webhook-endpoints')).data;
    // Each day some orgs are deactivated; the receiver refuses one org's events every time.
    const start = Date.parse((await new ApiClient(tierline.url).expect(200, 'GET', '/v1/test-clock')).now);
    for (const [day, count] of [3, 1, 4, 2, 5, 3].entries()) {
      for (let index = 0; index < count; index++) {
        const org = await signUpOrg(tierline, 'weekly', `Weekly ${day}-${index}`);
        if ((day === 0 || day === 4) && index === 0) refusedOrgs.add(org.orgId);
        await admin.expect(200, 'POST', `/v1/admin/orgs/${org.orgId}/deactivate`, { reason: 'owner_request' });
      }
      await advanceClock(tierline, new Date(start + (day + 1) * 86_400_000).toISOString());
      await admin.expect(200, 'POST', '/v1/auth/login', ADMIN);
    }
    const daily = await admin.expect(200, 'GET', `/v1/admin/webhook-endpoints/${endpoint.id}/deliveries/daily?days=14`);
    const sum = (status: string) => daily.days.reduce((total: number, day: any) => total + day[status], 0);
    // Refused six days ago: failed for good after three days. Refused two days ago: still retrying.
    expect(sum('failed')).toBe(1);
    expect(sum('pending')).toBe(1);
    expect(sum('succeeded')).toBe(1 + 18 - 2);

    const { page, errors, close } = await openPage(browser);
    await logInAsStaff(page, ADMIN);
    await page.goto(`${tierline.url}/support/webhooks/${endpoint.id}`);
    await page
      .getByRole('img', {
        name: `Bar chart of the last 14 days: ${sum('succeeded') + 2} deliveries, ${sum('succeeded')} delivered, 1 pending or retrying, 1 failed. The log below lists each.`,
      })
      .waitFor();
    // A bar for each day with deliveries.
    await expect
      .poll(() => page.locator('.recharts-bar-rectangle path').count())
      .toBeGreaterThanOrEqual(daily.days.length);
    const log = page.getByRole('region', { name: 'Deliveries', exact: true });
    const rows = log.getByTestId('deliveries').getByRole('row');
    await log
      .locator('label')
      .filter({ hasText: /^Failed$/ })
      .click();
    await expect.poll(() => rows.count()).toBe(2);
    await rows.nth(1).getByText('Failed').waitFor();
    await log.locator('label').filter({ hasText: /^All$/ }).click();
    // Every delivery of the endpoint, and a header row.
    await expect.poll(() => rows.count()).toBe(20);
    await screenshot(page, 'support-webhooks-week');
    // The top of it, as the README's pictures show a page: the chart and the latest deliveries.
    await page.setViewportSize({ width: 1280, height: 1280 });
    await page.screenshot({ path: join(screenshotDir, 'support-webhooks-week-top.png') });
    await expectAccessible(page);
    expect(errors).toEqual([]);
    await close();
  });

  it('edits an endpoint: a refused URL shows at its field and changes nothing; saved changes show and apply', async () => {
    const admin = await staffClient(tierline);
    const origin = new URL(receiverUrl).origin;
    const endpoint = await admin.expect(201, 'POST', '/v1/admin/webhook-endpoints', {
      url: `${origin}/hooks/before`,
      description: 'Invoices receiver',
      events: ['invoice.paid'],
    });
    const { page, errors, close } = await openPage(browser);
    await logInAsStaff(page, ADMIN);
    await page.goto(`${tierline.url}/support/webhooks/${endpoint.id}`);
    await page.getByRole('heading', { name: `${origin}/hooks/before`, level: 1 }).waitFor();

    // The form starts from what the endpoint has.
    await page.getByRole('button', { name: 'Edit', exact: true }).click();
    const form = page.getByRole('dialog', { name: 'Edit the webhook endpoint' });
    const url = form.getByLabel('URL', { exact: true });
    const description = form.getByLabel('Description (optional)');
    expect(await url.inputValue()).toBe(`${origin}/hooks/before`);
    expect(await description.inputValue()).toBe('Invoices receiver');
    expect(await form.getByRole('radio', { name: 'Only the event types chosen below' }).isChecked()).toBe(true);
    await form.getByText('invoice.paid', { exact: true }).waitFor();

    // A URL the API refuses: its reason at the URL field, and the endpoint as it was.
    await url.fill('https://ops:hunter2@example.com/hooks');
    await form.getByRole('button', { name: 'Save changes' }).click();
    const refusal = 'The URL must not carry a user name or password.';
    await form.getByText(refusal).waitFor();
    expect(await url.getAttribute('aria-invalid')).toBe('true');
    const describedBy = await url.evaluate((input) =>
      (input.getAttribute('aria-describedby') ?? '')
        .split(' ')
        .map((id) => document.getElementById(id)?.textContent ?? '')
        .join(' '),
    );
    expect(describedBy).toContain(refusal);
    await expectAccessible(page);
    expect(await admin.expect(200, 'GET', `/v1/admin/webhook-endpoints/${endpoint.id}`)).toMatchObject({
      url: `${origin}/hooks/before`,
      description: 'Invoices receiver',
      events: ['invoice.paid'],
    });

    // A new URL, note and event types.
    await url.fill(`${origin}/hooks/after`);
    await description.fill('Sign-ups receiver');
    await form.getByRole('combobox', { name: 'Event types' }).click();
    await page.keyboard.press('Backspace');
    await page.getByRole('option', { name: /^org\.created/ }).click();
    await page.getByRole('option', { name: /^subscription\.started/ }).click();
    await page.keyboard.press('Escape');
    expect(await form.getByText('invoice.paid', { exact: true }).count()).toBe(0);
    expect(await form.getByText(refusal).count()).toBe(0);
    await screenshot(page, 'support-webhooks-edit');
    await expectAccessible(page);
    await form.getByRole('button', { name: 'Save changes' }).click();
    await form.waitFor({ state: 'detached' });
    await page.getByText('Endpoint saved').waitFor();
    await page.getByRole('heading', { name: `${origin}/hooks/after`, level: 1 }).waitFor();
    await page.getByText('Sign-ups receiver').waitFor();
    await page.getByText('org.created', { exact: true }).waitFor();
    await page.getByText('subscription.started', { exact: true }).waitFor();
    expect(await page.getByText('invoice.paid', { exact: true }).count()).toBe(0);
    expect(await page.getByText('Invoices receiver').count()).toBe(0);
    expect(await admin.expect(200, 'GET', `/v1/admin/webhook-endpoints/${endpoint.id}`)).toMatchObject({
      url: `${origin}/hooks/after`,
      description: 'Sign-ups receiver',
      events: ['org.created', 'subscription.started'],
    });

    // Events of the new types go to the new URL.
    const org = await signUpOrg(tierline, 'edited', 'Babbage Engines');
    const clock = await new ApiClient(tierline.url).expect(200, 'GET', '/v1/test-clock');
    await advanceClock(tierline, new Date(Date.parse(clock.now) + 60_000).toISOString());
    const toEndpoint = (path: string) =>
      received.filter((entry) => entry.path === path && JSON.parse(entry.body).org_id === org.orgId);
    await expect
      .poll(() => toEndpoint('/hooks/after').map((entry) => JSON.parse(entry.body).type))
      .toEqual(['org.created']);
    expect(toEndpoint('/hooks/before')).toEqual([]);
    expect(errors).toEqual([]);
    await close();
  });

  it('deletes an endpoint after confirming: it leaves the list, and its waiting delivery is never sent', async () => {
    const admin = await staffClient(tierline);
    const doomedUrl = `${new URL(receiverUrl).origin}${REFUSING_PATH}`;
    const endpoint = await admin.expect(201, 'POST', '/v1/admin/webhook-endpoints', {
      url: doomedUrl,
      description: 'Retired receiver',
      events: ['org.created'],
    });
    // An event it refuses: its delivery waits for a retry.
    await signUpOrg(tierline, 'doomed', 'Jacquard Looms');
    const start = Date.parse((await new ApiClient(tierline.url).expect(200, 'GET', '/v1/test-clock')).now);
    await advanceClock(tierline, new Date(start + 60_000).toISOString());
    const toDoomed = () => received.filter((entry) => entry.path === REFUSING_PATH).length;
    await expect.poll(toDoomed).toBe(1);
    const waiting = await admin.expect(
      200,
      'GET',
      `/v1/admin/webhook-endpoints/${endpoint.id}/deliveries?status=pending`,
    );
    expect(waiting.data).toHaveLength(1);

    const { page, errors, close } = await openPage(browser);
    await logInAsStaff(page, ADMIN);
    await page.goto(`${tierline.url}/support/webhooks/${endpoint.id}`);
    await page.getByRole('heading', { name: doomedUrl, level: 1 }).waitFor();
    await page.getByRole('button', { name: 'Delete endpoint' }).click();
    const confirm = page.getByRole('dialog', { name: 'Delete this endpoint?' });
    await confirm.getByText(/Deliveries not yet made, .* are dropped and never sent/).waitFor();
    expect(await confirm.getByTestId('waiting-deliveries').innerText()).toBe('It has 1 delivery waiting now.');
    await screenshot(page, 'support-webhooks-delete');
    await expectAccessible(page);
    await confirm.getByRole('button', { name: 'Delete endpoint' }).click();

    // Back on the list, without it.
    await page.waitForURL(`${tierline.url}/support/webhooks`);
    await page.getByRole('heading', { name: 'Webhooks', level: 1 }).waitFor();
    await page.getByText('Endpoint deleted').waitFor();
    await page.getByRole('link', { name: receiverUrl }).waitFor();
    expect(await page.getByTestId(`endpoint-${endpoint.id}`).count()).toBe(0);
    expect(await page.getByText(doomedUrl).count()).toBe(0);
    await expectAccessible(page);
    expect(await admin.expect(404, 'GET', `/v1/admin/webhook-endpoints/${endpoint.id}`)).toMatchObject({
      error: { code: 'not_found' },
    });
    const listed = await admin.expect(200, 'GET', '/v1/admin/webhook-endpoints?limit=100');
    expect(listed.data.map((entry: { id: string }) => entry.id)).not.toContain(endpoint.id);

    // A day on, past every retry it would have had: nothing more was sent to it.
    await advanceClock(tierline, new Date(start + 86_400_000).toISOString());
    expect(toDoomed()).toBe(1);
    expect(errors).toEqual([]);
    await close();
  });

  it('is not offered to staff without the admin role, and says what it needs', async () => {
    const support = await createStaffMember(tierline, 'hookless', ['support', 'sales']);
    const { page, errors, close } = await openPage(browser);
    await logInAsStaff(page, support);
    const links = await page.getByRole('navigation', { name: 'Sections' }).getByRole('link').allInnerTexts();
    expect(links).not.toContain('Webhooks');
    await page.goto(`${tierline.url}/support/webhooks`);
    await page.getByText('This needs the admin role').waitFor();
    expect(await page.getByRole('button', { name: 'Add endpoint' }).count()).toBe(0);
    await expectAccessible(page);
    expect(errors).toEqual([]);
    await close();
  });
});
