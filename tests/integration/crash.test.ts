import { afterEach, describe, expect, it } from 'vitest';
import {
  baseEnv,
  cleanUpProcesses,
  freshDatabaseUrl,
  freshTemporaryDir,
  type Server,
  startServer,
  waitForUrl,
} from '../helpers/server-process.ts';

afterEach(cleanUpProcesses);

const START = Date.parse('2027-01-01T00:00:00.000Z');
const INVITATIONS = 400;

async function api(base: URL, method: string, path: string, options: { body?: unknown; cookie?: string } = {}) {
  const response = await fetch(new URL(path, base), {
    method,
    headers: {
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(options.cookie ? { cookie: options.cookie } : {}),
    },
    body: options.body !== undefined ? JSON.stringify(options.body) : undefined,
  });
  const text = await response.text();
  return {
    status: response.status,
    body: text ? JSON.parse(text) : null,
    cookie: response.headers.get('set-cookie')?.split(';')[0],
  };
}

/** Every audit event of the org, walking the pages. */
async function auditActions(base: URL, orgId: string, cookie: string) {
  const events: Array<{ action: string; target: { id: string } }> = [];
  let cursor: string | null = null;
  do {
    const page = await api(
      base,
      'GET',
      `/v1/orgs/${orgId}/audit-events?limit=100${cursor ? `&cursor=${cursor}` : ''}`,
      { cookie },
    );
    expect(page.status).toBe(200);
    events.push(...page.body.data);
    cursor = page.body.next_cursor;
  } while (cursor);
  return events;
}

describe('a crash between two due items', () => {
  it('loses and repeats nothing: the restarted server finishes exactly the work that was left', async () => {
    const dataDir = await freshTemporaryDir();
    const databaseUrl = await freshDatabaseUrl();
    const env = {
      ...baseEnv(),
      PORT: '0',
      TIERLINE_DATA_DIR: dataDir,
      TIERLINE_TEST_CLOCK: '1',
      TIERLINE_TEST_CLOCK_START: new Date(START).toISOString(),
      ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    };
    let server: Server = startServer(env);
    let base = await waitForUrl(server);

    const signup = await api(base, 'POST', '/v1/signup', {
      body: { email: 'crash@example.com', password: 'correct-horse-battery', full_name: 'C', org_name: 'Crash' },
    });
    expect(signup.status).toBe(201);
    const orgId = signup.body.org.id;
    const cookie = signup.cookie as string;
    // Each invitation expires 7 days after it was sent: one due item per invitation.
    for (let batch = 0; batch < INVITATIONS; batch += 20) {
      const sent = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          api(base, 'POST', `/v1/orgs/${orgId}/invitations`, {
            cookie,
            body: { email: `person${batch + i}@example.com`, roles: ['member'] },
          }),
        ),
      );
      for (const invited of sent) expect(invited.status).toBe(201);
    }

    // Invitations expire after 7 days; the org's first inactivity warning is due on day 23.
    const target = new Date(START + 20 * 86_400_000).toISOString();
    // Sessions do not outlive a 20-day jump of the clock: log in again for each look.
    const freshCookie = async () => {
      const login = await api(base, 'POST', '/v1/auth/login', {
        body: { email: 'crash@example.com', password: 'correct-horse-battery' },
      });
      expect(login.status).toBe(200);
      return login.cookie as string;
    };
    const countExpired = async () => {
      const list = await api(base, 'GET', `/v1/orgs/${orgId}/invitations`, { cookie: await freshCookie() });
      expect(list.status).toBe(200);
      return list.body.data.filter((invitation: { status: string }) => invitation.status === 'expired').length;
    };
    // Kill the process while it is part-way through the due items: start the advance, SIGKILL after
    // a delay, restart, and look. Too early (nothing done yet): wait longer next time.
    let expiredAtKill = 0;
    for (let delay = 20; expiredAtKill === 0 && delay < 5000; delay *= 2) {
      const advance = api(base, 'POST', '/v1/test-clock/advance', { body: { to: target } }).catch(() => 'killed');
      await new Promise((resolve) => setTimeout(resolve, delay));
      server.child.kill('SIGKILL');
      await server.exited;
      expect(await advance).toBe('killed');
      server = startServer(env);
      base = await waitForUrl(server);
      expiredAtKill = await countExpired();
    }
    expect(expiredAtKill).toBeGreaterThan(0);
    expect(expiredAtKill).toBeLessThan(INVITATIONS);

    const resumed = await api(base, 'POST', '/v1/test-clock/advance', { body: { to: target } });
    expect(resumed.status).toBe(200);
    expect(resumed.body.processed).toBe(INVITATIONS - expiredAtKill);
    expect(await countExpired()).toBe(INVITATIONS);

    const events = await auditActions(base, orgId, await freshCookie());
    const expired = events.filter((event) => event.action === 'invitation.expired').map((event) => event.target.id);
    expect(expired).toHaveLength(INVITATIONS);
    expect(new Set(expired).size).toBe(INVITATIONS);
    server.child.kill('SIGTERM');
    await server.exited;
  }, 180_000);
});
