import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanUpProcesses } from '../helpers/server-process.ts';
import {
  ApiClient,
  launchBrowser,
  logIn,
  openPage,
  reportUsage,
  screenshot,
  seriousAccessibilityViolations,
  signUpOrg,
  startTierline,
  type Tierline,
} from './support.ts';

// Runtimes in a real browser: registering one (its token shown once), its state before and after it
// reports usage, deleting one, and the control plane's routes with the API's refusal at the field.

const CLOCK_START = '2026-06-01T10:00:00.000Z';
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

async function openRuntimes(page: Page) {
  await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Runtimes' }).click();
  await page.getByRole('heading', { name: 'Runtimes', level: 1 }).waitFor();
}

describe('Runtimes', () => {
  it('registers a runtime, shows its token once with a copy button, and shows it connected once it reports', async () => {
    const org = await signUpOrg(tierline, 'runtimes', 'Edge Networks');
    const { page, errors, close } = await openPage(browser);
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: tierline.url });
    await logIn(page, tierline, org.email);
    await openRuntimes(page);
    await page.getByText('No runtimes yet').waitFor();

    await page.getByRole('button', { name: 'Register runtime' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Name', { exact: true }).fill('edge-eu-1');
    await dialog.getByRole('button', { name: 'Register' }).click();
    await dialog.getByText('you will not see it again').waitFor();
    const token = (await dialog.getByTestId('runtime-token').innerText()).trim();
    expect(token).toMatch(/^tlrt_/);

    await dialog.getByRole('button', { name: 'Copy token' }).click();
    await dialog.getByRole('button', { name: 'Copied' }).waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(token);
    await screenshot(page, 'runtime-token');
    await expectAccessible(page);
    await dialog.getByRole('button', { name: 'Done' }).click();
    await dialog.waitFor({ state: 'detached' });

    // The token is nowhere on the page any more, and the list shows the runtime as never connected.
    const row = page.getByTestId('runtime-edge-eu-1');
    await expect.poll(() => row.getByText('Never connected').count()).toBe(1);
    expect(await page.content()).not.toContain(token);

    const clock = await new ApiClient(tierline.url).expect(200, 'GET', '/v1/test-clock');
    const report = await reportUsage(tierline, token, 'first', [
      { timestamp: new Date(new Date(clock.now).getTime() - 60_000).toISOString(), requests: 42, service: 'api' },
    ]);
    expect(report.status).toBe(200);

    await page.reload();
    await expect.poll(() => row.getByText('Connected', { exact: true }).count()).toBe(1);
    await row.getByText('just now').waitFor();
    await screenshot(page, 'runtimes');
    await expectAccessible(page);

    const listed = await org.client.expect(200, 'GET', `/v1/orgs/${org.orgId}/runtimes`);
    expect(listed.data).toEqual([expect.objectContaining({ name: 'edge-eu-1', state: 'connected' })]);
    expect(errors).toEqual([]);
    await close();
  });

  it('deletes a runtime after asking, and its token is refused afterwards', async () => {
    const org = await signUpOrg(tierline, 'delete-runtime', 'Retired Racks');
    const registered = await org.client.expect(201, 'POST', `/v1/orgs/${org.orgId}/runtimes`, { name: 'old-rack' });
    await org.client.expect(201, 'POST', `/v1/orgs/${org.orgId}/runtimes`, { name: 'new-rack' });

    const { page, errors, close } = await openPage(browser);
    await logIn(page, tierline, org.email);
    await openRuntimes(page);
    await page.getByRole('button', { name: 'Delete runtime old-rack' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete old-rack?' });
    await dialog.getByText('Its token stops working at once').waitFor();
    await expectAccessible(page);
    await dialog.getByRole('button', { name: 'Delete runtime' }).click();
    await dialog.waitFor({ state: 'detached' });
    await expect.poll(() => page.getByTestId('runtime-old-rack').count()).toBe(0);
    await page.getByTestId('runtime-new-rack').waitFor();

    const refused = await reportUsage(tierline, registered.token, 'after-delete', [
      { timestamp: new Date().toISOString(), requests: 1 },
    ]);
    expect(refused.status).toBe(401);
    expect(errors).toEqual([]);
    await close();
  });

  it('edits the control plane’s routes and shows the API’s refusal at the field it names', async () => {
    const org = await signUpOrg(tierline, 'routes', 'Route Masters');
    const { page, errors, close } = await openPage(browser);
    await logIn(page, tierline, org.email);
    await openRuntimes(page);

    const routes = page.getByRole('region', { name: 'Routes' });
    await routes.getByRole('button', { name: 'Add route' }).click();
    await routes.getByRole('button', { name: 'Add route' }).click();
    const first = routes.getByTestId('route-0');
    const second = routes.getByTestId('route-1');
    await first.getByLabel('Path prefix').fill('/payments');
    await first.getByLabel('Upstream URL').fill('https://payments.internal:8443');
    await second.getByLabel('Path prefix').fill('/search');
    await second.getByLabel('Upstream URL').fill('ftp://search.internal');
    await second.getByLabel('Service').fill('search-v2');
    await routes.getByRole('button', { name: 'Save routes' }).click();

    // The API refuses the second upstream and names routes.1.upstream_url: the message sits under that field.
    const upstream = second.getByLabel('Upstream URL');
    await expect.poll(() => upstream.getAttribute('aria-invalid')).toBe('true');
    await second.getByText('The upstream must be an http or https URL.').waitFor();
    await screenshot(page, 'routes-refused');
    await expectAccessible(page);

    await upstream.fill('http://search.internal:9200');
    await routes.getByRole('button', { name: 'Save routes' }).click();
    await page.getByText('Routes saved').waitFor();
    await expect.poll(() => routes.getByText('Version 2').count()).toBe(1);

    const controlPlane = await org.client.expect(200, 'GET', `/v1/orgs/${org.orgId}/control-plane`);
    expect(controlPlane.config.routes).toEqual([
      { path_prefix: '/payments', upstream_url: 'https://payments.internal:8443', service: 'payments' },
      { path_prefix: '/search', upstream_url: 'http://search.internal:9200', service: 'search-v2' },
    ]);
    expect(errors).toEqual([]);
    await close();
  });
});
