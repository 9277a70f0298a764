import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { onTestFailed } from 'vitest';
import {
  baseEnv,
  freshDatabaseUrl,
  freshTemporaryDir,
  type Server,
  startServer,
  waitForUrl,
} from '../helpers/server-process.ts';

// Browser tests drive Debian's Chromium through playwright-core against a real server process on the
// test clock. Data is seeded through the API (as Documenso seeds through functions, not clicks); the
// browser only does what the test is about.

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const screenshotDir = join(repoRoot, 'test-output', 'screenshots');
export const CHROMIUM = '/usr/bin/chromium';
export const ADMIN = { email: 'admin@tierline.test', password: 'admin-password-1' };
export const PASSWORD = 'correct-horse-battery';

export interface Tierline {
  server: Server;
  /** http://127.0.0.1:<port>, as the browser and the seeding client use it. */
  url: string;
}

/** Starts the real server on the test clock at `clockStart`, with an admin staff user, on a fresh database. */
export async function startTierline(clockStart: string): Promise<Tierline> {
  const env: Record<string, string> = {
    ...baseEnv(),
    PORT: '0',
    HOST: '127.0.0.1',
    TIERLINE_DATA_DIR: await freshTemporaryDir(),
    TIERLINE_TEST_CLOCK: '1',
    TIERLINE_TEST_CLOCK_START: clockStart,
    TIERLINE_ADMIN_EMAIL: ADMIN.email,
    TIERLINE_ADMIN_PASSWORD: ADMIN.password,
    TIERLINE_LOG_LEVEL: 'warn',
  };
  const databaseUrl = await freshDatabaseUrl();
  if (databaseUrl) env.DATABASE_URL = databaseUrl;
  const server = startServer(env);
  const announced = await waitForUrl(server);
  return { server, url: `http://127.0.0.1:${announced.port}` };
}

/** A seeding client: JSON over fetch, keeping the session cookie it was given. */
export class ApiClient {
  readonly baseUrl: string;
  private cookie = '';

  constructor(baseUrl: string) {
    this.baseUrl = baseUrl;
  }

  async request<T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(this.cookie ? { cookie: this.cookie } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const session = response.headers.getSetCookie().find((value) => value.startsWith('tierline_session='));
    if (session) this.cookie = session.split(';')[0];
    const text = await response.text();
    const json = text ? JSON.parse(text) : undefined;
    return { status: response.status, body: json as T };
  }

  /** Like request, but any status other than `expected` fails the test with the server's answer. */
  async expect<T = any>(
    expected: number,
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ) {
    const result = await this.request<T>(method, path, body, headers);
    if (result.status !== expected) {
      throw new Error(`${method} ${path} answered ${result.status}, not ${expected}: ${JSON.stringify(result.body)}`);
    }
    return result.body;
  }
}

let counter = 0;

/** A unique email per call, so tests sharing a server never collide. */
export function uniqueEmail(label: string) {
  counter += 1;
  return `${label}-${Date.now().toString(36)}-${counter}@example.test`;
}

export interface SeededOrg {
  client: ApiClient;
  email: string;
  orgId: string;
  orgName: string;
  fullName: string;
}

/** Signs a new owner up with a new org, through the API. */
export async function signUpOrg(tierline: Tierline, label: string, orgName: string): Promise<SeededOrg> {
  const client = new ApiClient(tierline.url);
  const email = uniqueEmail(label);
  const fullName = 'Ada Lovelace';
  const result = await client.expect(201, 'POST', '/v1/signup', {
    email,
    password: PASSWORD,
    full_name: fullName,
    org_name: orgName,
  });
  return { client, email, orgId: result.org.id, orgName, fullName };
}

/** Logs the seeding client in again (a test clock advance past a day ends idle sessions). */
export async function logInAgain(org: SeededOrg) {
  await org.client.expect(200, 'POST', '/v1/auth/login', { email: org.email, password: PASSWORD, org_id: org.orgId });
}

export const GOOD_CARD = '4242424242424242';
export const DECLINED_CARD = '4000000000000002';

/** Verified when added, but every charge to it fails. */
export const FAILING_CARD = '4000000000000341';

/** Puts the org on Plus with a card (a good one unless told), through the API. */
export async function subscribePlus(org: SeededOrg, cardNumber = GOOD_CARD) {
  const method = await org.client.expect(201, 'POST', `/v1/orgs/${org.orgId}/payment-methods`, {
    card: { number: cardNumber, exp_month: 12, exp_year: 2035, cvc: '123' },
    billing_details: {
      name: org.fullName,
      email: org.email,
      address: { line1: '1 Analytical Way', city: 'London', postal_code: 'N1 9GU', country: 'GB' },
    },
  });
  return org.client.expect(200, 'POST', `/v1/orgs/${org.orgId}/subscription`, {
    plan: 'plus',
    payment_method_id: method.id,
  });
}

/** Registers a runtime and reports requests per day through it (the last `days` days before `now`). */
export async function reportDailyUsage(tierline: Tierline, org: SeededOrg, now: Date, perDay: number[]) {
  const registered = await org.client.expect(201, 'POST', `/v1/orgs/${org.orgId}/runtimes`, { name: 'edge-1' });
  const usage = perDay.map((requests, index) => ({
    timestamp: new Date(now.getTime() - (perDay.length - index) * 86_400_000 + 3_600_000).toISOString(),
    requests,
    service: 'api',
  }));
  const response = await fetch(`${tierline.url}/v1/runtime/usage`, {
    method: 'POST',
    headers: { authorization: `Bearer ${registered.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ report_id: `seed-${org.orgId}-${now.getTime()}`, usage }),
  });
  if (response.status !== 200) throw new Error(`usage report answered ${response.status}: ${await response.text()}`);
}

/** Moves the server's test clock forward, running all work that falls due. */
export async function advanceClock(tierline: Tierline, to: string) {
  return new ApiClient(tierline.url).expect(200, 'POST', '/v1/test-clock/advance', { to });
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
}

/** A fresh browser profile at desktop size, English (US) and UTC, so money and dates read the same everywhere. */
export async function newContext(browser: Browser, viewport = { width: 1280, height: 900 }): Promise<BrowserContext> {
  return browser.newContext({ viewport, locale: 'en-US', timezoneId: 'UTC', reducedMotion: 'reduce' });
}

/**
 * A page in a fresh context, collecting uncaught page errors; if the test fails, the page as it was
 * is saved beside the screenshots (FAILED-<test>.png) with the browser's console.
 */
export async function openPage(browser: Browser, viewport?: { width: number; height: number }) {
  const context = await newContext(browser, viewport);
  const page = await context.newPage();
  const errors: string[] = [];
  const consoleLines: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => consoleLines.push(`${message.type()}: ${message.text()}`));
  onTestFailed(async ({ task }) => {
    const name = `FAILED-${task.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 80)}`;
    await mkdir(screenshotDir, { recursive: true });
    await page.screenshot({ path: join(screenshotDir, `${name}.png`), fullPage: true }).catch(() => undefined);
    console.error(`${task.name}: at ${page.url()}; browser console:\n${consoleLines.join('\n')}`);
  });
  return { page, errors, close: () => context.close() };
}

/** Logs in through the login page and waits for Billing and Usage. */
export async function logIn(page: Page, tierline: Tierline, email: string, password = PASSWORD) {
  await page.goto(`${tierline.url}/login`);
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL('**/settings/billing');
  await page.getByRole('heading', { name: 'Plan Details' }).waitFor();
}

/** Saves a full-page screenshot once nothing on the page is loading any more. */
export async function screenshot(page: Page, name: string) {
  await page.waitForFunction(() => document.querySelectorAll('.mantine-Loader-root').length === 0, undefined, {
    timeout: 15_000,
  });
  // From the top, so the fixed header and navigation are drawn where a person sees them. With a dialog
  // open only the window is taken: the dimmed backdrop covers the window, not the whole page.
  await page.evaluate(() => window.scrollTo(0, 0));
  const hasDialog = await page.evaluate(() => document.querySelector('[role="dialog"]') !== null);
  await mkdir(screenshotDir, { recursive: true });
  await page.screenshot({ path: join(screenshotDir, `${name}.png`), fullPage: !hasDialog });
}

const axeSource: string = (createRequire(import.meta.url)('axe-core') as { source: string }).source;

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: unknown[]; failureSummary?: string }[];
}

/** Runs axe-core in the page and answers the serious and critical violations, described for a person. */
export async function seriousAccessibilityViolations(page: Page): Promise<string[]> {
  // Evaluated through the DevTools protocol, so the page's Content-Security-Policy does not block it.
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run: (context: unknown, options: unknown) => Promise<any> } }).axe;
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations as AxeViolation[];
  });
  return violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map(
      (violation) =>
        `${violation.impact} ${violation.id}: ${violation.help} — ${violation.nodes
          .slice(0, 3)
          .map((node) => `${JSON.stringify(node.target)} (${node.failureSummary?.replaceAll('\n', ' ') ?? ''})`)
          .join(', ')}`,
    );
}

/** Reports usage as a runtime does, with its token; answers the API's status and body. */
export async function reportUsage(
  tierline: Tierline,
  token: string,
  reportId: string,
  usage: { timestamp: string; requests: number; service?: string }[],
) {
  const response = await fetch(`${tierline.url}/v1/runtime/usage`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ report_id: reportId, usage }),
  });
  return { status: response.status, body: (await response.json()) as any };
}

/** A staff session for the seeding client: the admin from the environment, or a staff member it creates. */
export async function staffClient(tierline: Tierline, credentials: { email: string; password: string } = ADMIN) {
  const client = new ApiClient(tierline.url);
  await client.expect(200, 'POST', '/v1/auth/login', credentials);
  return client;
}

/** Creates a staff member with the roles (through the admin) and answers the credentials to log in with. */
export async function createStaffMember(tierline: Tierline, label: string, roles: ('support' | 'sales' | 'admin')[]) {
  const admin = await staffClient(tierline);
  const email = uniqueEmail(label);
  await admin.expect(201, 'POST', '/v1/admin/staff', {
    email,
    password: PASSWORD,
    full_name: `${label[0].toUpperCase()}${label.slice(1)} Staff`,
    roles,
  });
  return { email, password: PASSWORD };
}

/** Logs in through the login page without waiting for a particular page (staff land in the console). */
export async function submitLogin(page: Page, tierline: Tierline, email: string, password = PASSWORD) {
  await page.goto(`${tierline.url}/login`);
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
}
