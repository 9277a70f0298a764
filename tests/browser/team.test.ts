import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanUpProcesses } from '../helpers/server-process.ts';
import {
  ApiClient,
  launchBrowser,
  logIn,
  openPage,
  PASSWORD,
  screenshot,
  seriousAccessibilityViolations,
  signUpOrg,
  staffClient,
  startTierline,
  type Tierline,
  uniqueEmail,
} from './support.ts';

// Team in a real browser: inviting by email, accepting through the emailed link, changing a member's
// roles, teams whose members inherit roles, and what a read-only admin and a plain member see.

const CLOCK_START = '2026-07-06T09:30:00.000Z';
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

async function openTeam(page: Page) {
  await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Team' }).click();
  await page.getByRole('heading', { name: 'Team', level: 1 }).waitFor();
}

/** The invitation link as it was emailed (read from the outbox by staff). */
async function invitationLink(email: string) {
  const staff = await staffClient(tierline);
  const outbox = await staff.expect(200, 'GET', `/v1/admin/outbox?to=${encodeURIComponent(email)}`);
  const body: string = outbox.data.find((entry: { kind: string }) => entry.kind === 'invitation').body;
  return /\/accept-invitation\?token=\S+/.exec(body)![0];
}

describe('Team', () => {
  it('invites a member, who accepts through the emailed link, then changes their role', async () => {
    const org = await signUpOrg(tierline, 'team-owner', 'Lovelace Labs');
    const { page, errors, close } = await openPage(browser);
    await logIn(page, tierline, org.email);
    await openTeam(page);
    await page.getByTestId(`member-${org.email}`).getByText('Owner').first().waitFor();

    const invitee = uniqueEmail('invitee');
    await page.getByRole('button', { name: 'Invite member' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Email', { exact: true }).fill(invitee);
    // Member is chosen already; add read-only admin.
    await dialog.getByRole('checkbox', { name: 'Read-only admin' }).check();
    await expectAccessible(page);
    await dialog.getByRole('button', { name: 'Send invitation' }).click();
    await dialog.waitFor({ state: 'detached' });
    const invitation = page.getByTestId(`invitation-${invitee}`);
    await invitation.getByText('Pending', { exact: true }).waitFor();

    // Inviting someone who is a member already is refused, at the field.
    await page.getByRole('button', { name: 'Invite member' }).click();
    await dialog.getByLabel('Email', { exact: true }).fill(org.email);
    await dialog.getByRole('button', { name: 'Send invitation' }).click();
    await dialog.getByText('already a member').waitFor();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached' });

    // The invited person opens the emailed link in their own browser and joins.
    const guest = await openPage(browser);
    await guest.page.goto(`${tierline.url}${await invitationLink(invitee)}`);
    await guest.page.getByRole('heading', { name: 'Join your team on Tierline' }).waitFor();
    await guest.page.getByLabel('Full name', { exact: true }).fill('Charles Babbage');
    await guest.page.getByLabel('Choose a password', { exact: true }).fill(PASSWORD);
    await screenshot(guest.page, 'accept-invitation');
    await expectAccessible(guest.page);
    await guest.page.getByRole('button', { name: 'Accept invitation' }).click();
    await guest.page.waitForURL('**/settings/billing');
    await expect.poll(() => guest.page.getByRole('banner').innerText()).toContain('Lovelace Labs');
    expect(guest.errors).toEqual([]);
    await guest.close();

    await page.reload();
    await invitation.getByText('Accepted', { exact: true }).waitFor();
    const row = page.getByTestId(`member-${invitee}`);
    await row.getByText('Charles Babbage').waitFor();
    expect(await row.locator('[data-column="effective"]').innerText()).toMatch(/Read-only admin[\s\S]*Member/);

    await row.getByRole('button', { name: 'Change roles of Charles Babbage' }).click();
    const roles = page.getByRole('dialog', { name: 'Roles of Charles Babbage' });
    await roles.getByRole('checkbox', { name: 'Read-only admin' }).uncheck();
    await roles.getByRole('checkbox', { name: 'Member' }).uncheck();
    await roles.getByRole('button', { name: 'Save roles' }).click();
    await roles.getByText('Choose at least one role.').waitFor();
    await roles.getByRole('checkbox', { name: 'Admin', exact: true }).check();
    await screenshot(page, 'team-change-role');
    await expectAccessible(page);
    await roles.getByRole('button', { name: 'Save roles' }).click();
    await roles.waitFor({ state: 'detached' });
    await expect.poll(() => row.locator('[data-column="own"]').innerText()).toBe('Admin');
    await screenshot(page, 'team');
    await expectAccessible(page);

    const members = await org.client.expect(200, 'GET', `/v1/orgs/${org.orgId}/members`);
    expect(members.data).toContainEqual(expect.objectContaining({ email: invitee, roles: ['org_admin'] }));
    expect(errors).toEqual([]);
    await close();
  });

  it('creates a team whose member inherits its roles, and revokes a pending invitation', async () => {
    const org = await signUpOrg(tierline, 'teams', 'Hollerith Tabulators');
    // A member joins through an invitation accepted through the API.
    const colleague = uniqueEmail('colleague');
    await org.client.expect(201, 'POST', `/v1/orgs/${org.orgId}/invitations`, { email: colleague, roles: ['member'] });
    const link = await invitationLink(colleague);
    const token = decodeURIComponent(link.split('token=')[1]);
    await new ApiClient(tierline.url).expect(200, 'POST', '/v1/invitations/accept', {
      token,
      password: PASSWORD,
      full_name: 'Herman Hollerith',
    });
    await org.client.expect(201, 'POST', `/v1/orgs/${org.orgId}/invitations`, {
      email: uniqueEmail('pending'),
      roles: ['member'],
    });

    const { page, errors, close } = await openPage(browser);
    await logIn(page, tierline, org.email);
    await openTeam(page);
    await page.getByRole('button', { name: 'Create team' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create a team' });
    await dialog.getByLabel('Name', { exact: true }).fill('Finance');
    await dialog.getByRole('checkbox', { name: 'Member' }).uncheck();
    await dialog.getByRole('checkbox', { name: 'Read-only admin' }).check();
    await dialog.getByRole('button', { name: 'Create team' }).click();
    await dialog.waitFor({ state: 'detached' });

    const team = page.getByTestId('team-Finance');
    await team.getByLabel('Add a member to Finance').selectOption({ label: `Herman Hollerith (${colleague})` });
    await team.getByRole('button', { name: 'Add to team' }).click();
    await team.getByText('Herman Hollerith').waitFor();
    const row = page.getByTestId(`member-${colleague}`);
    await expect.poll(() => row.locator('[data-column="teams"]').innerText()).toContain('Through Finance');
    expect(await row.locator('[data-column="effective"]').innerText()).toMatch(/Read-only admin[\s\S]*Member/);

    // Renaming it keeps its members.
    await team.getByRole('button', { name: 'Edit team Finance' }).click();
    const edit = page.getByRole('dialog', { name: 'Edit Finance' });
    await edit.getByLabel('Name', { exact: true }).fill('Finance and Legal');
    await edit.getByRole('button', { name: 'Save team' }).click();
    await edit.waitFor({ state: 'detached' });
    await page.getByTestId('team-Finance and Legal').getByText('Herman Hollerith').waitFor();

    await page.getByRole('button', { name: /^Revoke the invitation of pending-/ }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Revoke invitation' }).click();
    await page.getByRole('dialog').waitFor({ state: 'detached' });
    await page.getByText('Revoked (1)').waitFor();
    await screenshot(page, 'team-with-teams');
    await expectAccessible(page);
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await screenshot(page, 'team-phone');
    await expectAccessible(page);

    const teams = await org.client.expect(200, 'GET', `/v1/orgs/${org.orgId}/teams`);
    expect(teams.data).toEqual([
      expect.objectContaining({
        name: 'Finance and Legal',
        roles: ['org_admin_read_only'],
        members: [expect.objectContaining({ email: colleague })],
      }),
    ]);

    // Taking someone off a team works from the keyboard, and their inherited roles go with it.
    await page.getByRole('button', { name: 'Remove Herman Hollerith from Finance and Legal' }).focus();
    await page.keyboard.press('Enter');
    await page.getByTestId('team-Finance and Legal').getByText('Nobody is in this team yet.').waitFor();
    await expect.poll(() => row.locator('[data-column="effective"]').innerText()).toBe('Member');
    expect(errors).toEqual([]);
    await close();
  });

  it('shows a read-only admin everything, with no controls to change it', async () => {
    const org = await signUpOrg(tierline, 'readonly', 'Glass Walls');
    await org.client.expect(200, 'PUT', `/v1/orgs/${org.orgId}/control-plane/config`, {
      routes: [{ path_prefix: '/orders', upstream_url: 'http://orders.internal:8080' }],
    });
    await org.client.expect(201, 'POST', `/v1/orgs/${org.orgId}/runtimes`, { name: 'edge-ro' });
    const viewer = uniqueEmail('viewer');
    await org.client.expect(201, 'POST', `/v1/orgs/${org.orgId}/invitations`, {
      email: viewer,
      roles: ['org_admin_read_only'],
    });
    const token = decodeURIComponent((await invitationLink(viewer)).split('token=')[1]);
    await new ApiClient(tierline.url).expect(200, 'POST', '/v1/invitations/accept', {
      token,
      password: PASSWORD,
      full_name: 'Read Only',
    });

    const { page, errors, close } = await openPage(browser);
    await logIn(page, tierline, viewer);
    await openTeam(page);
    await page.getByTestId(`member-${org.email}`).waitFor();
    await page.getByTestId(`invitation-${viewer}`).getByText('Accepted', { exact: true }).waitFor();
    for (const name of ['Invite member', 'Create team', 'Roles', 'Remove', 'Revoke']) {
      expect(await page.getByRole('button', { name }).count()).toBe(0);
    }
    await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Runtimes' }).click();
    await page.getByTestId('runtime-edge-ro').getByText('Never connected').waitFor();
    const routes = page.getByRole('region', { name: 'Routes' });
    await routes.getByRole('cell', { name: 'http://orders.internal:8080' }).waitFor();
    expect(await routes.getByRole('textbox').count()).toBe(0);
    for (const name of ['Register runtime', 'Delete runtime edge-ro', 'Add route']) {
      expect(await page.getByRole('button', { name }).count()).toBe(0);
    }
    await screenshot(page, 'runtimes-read-only');
    await expectAccessible(page);
    expect(errors).toEqual([]);
    await close();
  });

  it('shows a plain member their roles and no admin controls', async () => {
    const org = await signUpOrg(tierline, 'plain', 'Quiet Quarters');
    const plain = uniqueEmail('plain-member');
    await org.client.expect(201, 'POST', `/v1/orgs/${org.orgId}/invitations`, { email: plain, roles: ['member'] });
    const token = decodeURIComponent((await invitationLink(plain)).split('token=')[1]);
    await new ApiClient(tierline.url).expect(200, 'POST', '/v1/invitations/accept', {
      token,
      password: PASSWORD,
      full_name: 'Plain Member',
    });

    const { page, errors, close } = await openPage(browser, { width: 390, height: 844 });
    await logIn(page, tierline, plain);
    await page.goto(`${tierline.url}/team`);
    await page.getByText('Only admins see the members, teams and invitations').waitFor();
    expect(await page.getByRole('button', { name: 'Invite member' }).count()).toBe(0);
    await page.goto(`${tierline.url}/runtimes`);
    await page.getByText('Only admins see the runtimes and routes').waitFor();
    expect(await page.getByRole('button', { name: 'Register runtime' }).count()).toBe(0);
    await screenshot(page, 'runtimes-member-phone');
    await expectAccessible(page);
    expect(errors).toEqual([]);
    await close();
  });
});
