import type { Random } from './random.ts';
import type { Answer, CrashServer } from './server.ts';

export const DAY = 86_400_000;
export const HOUR = 3_600_000;
export const MINUTE = 60_000;

/** The test provider's cards (spec 5). */
export const CARD_OK = '4242424242424242';
export const CARD_FAILS = '4000000000000341';

/**
 * What each org of the crash world is for:
 * - plus_ok: Plus, charges succeed; reports usage every round.
 * - plus_fail: Plus, every charge fails: retried 1, 3, 7 days after B_1, then given up and downgraded.
 * - plus_downgrade: Plus, charges succeed; its admin downgrades to Free in one round (then it reports on Free).
 * - plus_deactivate: Plus, charges succeed; staff deactivate it in one round (billing stops, final invoice).
 * - free_reporting: Free, reports every round: never inactive.
 * - free_fading: Free, reports until a round, then is silent: the sweep deactivates it at its t* if that comes.
 * - idle: Free, no traffic and no login after sign-up: deactivated 30 days after it; some hold a team,
 *   a system account and a pending invitation, so deactivation has something to remove.
 */
export type Group =
  | 'plus_ok'
  | 'plus_fail'
  | 'plus_downgrade'
  | 'plus_deactivate'
  | 'free_reporting'
  | 'free_fading'
  | 'idle';

export const GROUPS: readonly Group[] = [
  'plus_ok',
  'plus_fail',
  'plus_downgrade',
  'plus_deactivate',
  'free_reporting',
  'free_fading',
  'idle',
];

export interface RuntimeState {
  id: string;
  orgId: string;
  token: string;
  /** Report ids are `<prefix>-<n>`, n counting up, as the reference runtime numbers its reports. */
  prefix: string;
  next: number;
}

export interface Org {
  index: number;
  group: Group;
  id: string;
  email: string;
  ownerUserId: string;
  /** A personal access token of the owner: reads and acts without logging in (a login would move t*). */
  token: string;
  createdAt: number;
  lastLoginAt: number;
  runtimes: RuntimeState[];
  subscriptionId?: string;
  subscriptionStartedAt?: number;
  /** free_fading: the last round it reports in. */
  lastReportingRound?: number;
  /** plus_downgrade and plus_deactivate: the round of the action, and what happened. */
  actionRound?: number;
  actionDoneAt?: number;
  hasExtras: boolean;
}

/** One usage report as a runtime sends it, and what became of it. */
export interface Report {
  runtime: RuntimeState;
  reportId: string;
  usage: Array<{ timestamp: string; requests: number }>;
  requests: bigint;
  latestEventAt: number;
  round: number;
  /** acked: a 200; refused: a 403 (control plane decommissioned); never both. */
  outcome: 'unsent' | 'acked' | 'refused';
  sends: number;
  /** A send got no answer (the server was killed): it may or may not have been stored. */
  wasInterrupted: boolean;
}

export interface Sizes {
  waves: number;
  orgs: Record<Group, number>;
  /** Runtimes per reporting org (at most 3: the free plan's limit). */
  runtimesPerOrg: [number, number];
  /** Reports per runtime per round. */
  reportsPerRound: [number, number];
  recordsPerReport: [number, number];
  requestsPerRecord: [number, number];
  seedConcurrency: number;
}

export const SIZES: Record<'small' | 'full', Sizes> = {
  small: {
    waves: 3,
    orgs: {
      plus_ok: 5,
      plus_fail: 3,
      plus_downgrade: 2,
      plus_deactivate: 1,
      free_reporting: 2,
      free_fading: 3,
      idle: 10,
    },
    runtimesPerOrg: [1, 2],
    reportsPerRound: [3, 6],
    recordsPerReport: [1, 4],
    requestsPerRecord: [1, 120_000],
    seedConcurrency: 6,
  },
  full: {
    waves: 6,
    orgs: {
      plus_ok: 30,
      plus_fail: 12,
      plus_downgrade: 8,
      plus_deactivate: 5,
      free_reporting: 10,
      free_fading: 20,
      idle: 160,
    },
    runtimesPerOrg: [1, 3],
    reportsPerRound: [4, 10],
    recordsPerReport: [1, 6],
    requestsPerRecord: [1, 150_000],
    seedConcurrency: 8,
  },
};

export function isReporting(group: Group): boolean {
  return group !== 'idle';
}

export function isPlus(group: Group): boolean {
  return group.startsWith('plus_');
}

export interface World {
  seed: number;
  start: number;
  /** When seeding ended: the clock at the first round. */
  seededAt: number;
  orgs: Org[];
  reports: Report[];
}

function expectAnswer(answer: Answer, status: number, what: string) {
  if (answer.status !== status) {
    throw new Error(`${what}: expected ${status}, got ${answer.status} ${JSON.stringify(answer.body)}`);
  }
  return answer.body;
}

async function inParallel<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) await work(items[next++]);
    }),
  );
}

const billingDetails = {
  name: 'Crash Test Ltd',
  email: 'billing@example.com',
  address: { line1: '1 Kill Street', city: 'London', postal_code: 'N1 9GU', country: 'GB' },
};

/**
 * Creates the orgs through the API, in waves at different instants (so subscriptions have different
 * anchors and the inactivity sweep has several instants), with nothing killed yet.
 */
export async function seedWorld(
  server: CrashServer,
  random: Random,
  sizes: Sizes,
  start: number,
  rounds: number,
): Promise<World> {
  const plan: Array<{ group: Group; wave: number }> = [];
  for (const group of GROUPS) {
    for (let i = 0; i < sizes.orgs[group]; i++) {
      // Most idle orgs share the first wave: the sweep then deactivates them together, set-based.
      const wave = group === 'idle' && random.chance(0.5) ? 0 : random.int(0, sizes.waves - 1);
      plan.push({ group, wave });
    }
  }
  const waveOffsets = [0];
  for (let w = 1; w < sizes.waves; w++) {
    waveOffsets.push(waveOffsets[w - 1] + random.int(1, 20) * HOUR + random.int(0, 59) * MINUTE);
  }
  const tag = random.hex(8);
  const orgs: Org[] = [];
  for (let wave = 0; wave < sizes.waves; wave++) {
    const at = start + waveOffsets[wave];
    if (wave > 0) {
      const moved = await server.call('POST', '/v1/test-clock/advance', { body: { to: new Date(at).toISOString() } });
      expectAnswer(moved, 200, 'advance between waves');
    }
    const members = plan.map((entry, index) => ({ ...entry, index })).filter((entry) => entry.wave === wave);
    const choices = members.map((entry) => ({
      ...entry,
      runtimes: isReporting(entry.group) ? random.int(sizes.runtimesPerOrg[0], sizes.runtimesPerOrg[1]) : 0,
      hasExtras: entry.group === 'idle' && random.chance(0.5),
      lastReportingRound: entry.group === 'free_fading' ? random.int(0, Math.max(0, rounds - 2)) : undefined,
      actionRound:
        entry.group === 'plus_downgrade' || entry.group === 'plus_deactivate' ? random.int(0, rounds - 1) : undefined,
      prefixes: Array.from({ length: 3 }, () => random.hex(6)),
    }));
    await inParallel(choices, sizes.seedConcurrency, async (choice) => {
      orgs.push(await seedOrg(server, { ...choice, tag }));
    });
  }
  orgs.sort((a, b) => a.index - b.index);
  const clock = expectAnswer(await server.call('GET', '/v1/test-clock'), 200, 'read the clock');
  return { seed: 0, start, seededAt: Date.parse(clock.now), orgs, reports: [] };
}

async function seedOrg(
  server: CrashServer,
  choice: {
    index: number;
    group: Group;
    runtimes: number;
    hasExtras: boolean;
    lastReportingRound?: number;
    actionRound?: number;
    prefixes: string[];
    tag: string;
  },
): Promise<Org> {
  const email = `crash-${choice.tag}-${choice.index}@example.com`;
  const signup = await server.call('POST', '/v1/signup', {
    body: {
      email,
      password: 'crash-password-1',
      full_name: `Owner ${choice.index}`,
      org_name: `Crash ${choice.index}`,
    },
  });
  const signed = expectAnswer(signup, 201, `sign up ${email}`);
  const cookie = signup.cookie as string;
  const orgId = signed.org.id as string;
  const token = expectAnswer(
    await server.call('POST', '/v1/me/tokens', { cookie, body: { name: 'crash suite', expires_in_days: 3650 } }),
    201,
    'personal token',
  ).token as string;
  const runtimes: RuntimeState[] = [];
  for (let r = 0; r < choice.runtimes; r++) {
    const created = expectAnswer(
      await server.call('POST', `/v1/orgs/${orgId}/runtimes`, { cookie, body: { name: `gw-${r}` } }),
      201,
      'register a runtime',
    );
    runtimes.push({ id: created.runtime.id, orgId, token: created.token, prefix: choice.prefixes[r], next: 1 });
  }
  const org: Org = {
    index: choice.index,
    group: choice.group,
    id: orgId,
    email,
    ownerUserId: signed.user.id,
    token,
    createdAt: Date.parse(signed.org.created_at),
    lastLoginAt: Date.parse(signed.org.last_login_at ?? signed.org.created_at),
    runtimes,
    lastReportingRound: choice.lastReportingRound,
    actionRound: choice.actionRound,
    hasExtras: choice.hasExtras,
  };
  if (isPlus(choice.group)) {
    const card = choice.group === 'plus_fail' ? CARD_FAILS : CARD_OK;
    const method = expectAnswer(
      await server.call('POST', `/v1/orgs/${orgId}/payment-methods`, {
        cookie,
        body: { card: { number: card, exp_month: 12, exp_year: 2035, cvc: '123' }, billing_details: billingDetails },
      }),
      201,
      'add a card',
    );
    const subscription = expectAnswer(
      await server.call('POST', `/v1/orgs/${orgId}/subscription`, {
        cookie,
        body: { plan: 'plus', payment_method_id: method.id },
      }),
      200,
      'subscribe to Plus',
    );
    org.subscriptionId = subscription.id;
    org.subscriptionStartedAt = Date.parse(subscription.started_at);
  }
  if (choice.hasExtras) {
    const team = expectAnswer(
      await server.call('POST', `/v1/orgs/${orgId}/teams`, { cookie, body: { name: 'Ops', roles: ['org_admin'] } }),
      201,
      'create a team',
    );
    expectAnswer(
      await server.call('PUT', `/v1/orgs/${orgId}/teams/${team.id}/members/${org.ownerUserId}`, { cookie }),
      200,
      'join the team',
    );
    expectAnswer(
      await server.call('POST', `/v1/orgs/${orgId}/system-accounts`, {
        cookie,
        body: { name: 'ci', roles: ['member'] },
      }),
      201,
      'create a system account',
    );
    expectAnswer(
      await server.call('POST', `/v1/orgs/${orgId}/invitations`, {
        cookie,
        body: { email: `invitee-${choice.tag}-${choice.index}@example.com`, roles: ['member'] },
      }),
      201,
      'invite someone',
    );
  }
  return org;
}
