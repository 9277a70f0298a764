import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestInstance, logInAdmin, signUpOwner, type TestInstance } from '../helpers/instance.ts';

type Owner = Awaited<ReturnType<typeof signUpOwner>>;
interface Registered {
  id: string;
  token: string;
}
interface UsageEntry {
  timestamp: string;
  requests: unknown;
  service?: string;
}

// The test clock stands still at NOW for the whole file, so the accepted range is exact.
const NOW = '2027-03-10T12:00:00.000Z';
const NOW_MS = Date.parse(NOW);
const DAY = 86_400_000;
const MINUTE = 60_000;
const iso = (ms: number) => new Date(ms).toISOString();

let t: TestInstance;
let staff: string;

/** A fresh org with one runtime, so its usage totals start at zero. */
async function orgWithRuntime(): Promise<Owner & { runtime: Registered }> {
  const owner = await signUpOwner(t);
  return { ...owner, runtime: await register(owner) };
}

async function register(owner: Owner): Promise<Registered> {
  const response = await t.call('POST', `/v1/orgs/${owner.orgId}/runtimes`, {
    cookie: owner.cookie,
    body: { name: `rt-${randomBytes(2).toString('hex')}` },
  });
  expect(response.status).toBe(201);
  return { id: response.body.runtime.id, token: response.body.token };
}

function report(token: string, reportId: string, usage: UsageEntry[]) {
  return t.call('POST', '/v1/runtime/usage', { token, body: { report_id: reportId, usage } });
}

async function usage(owner: Owner, query = '', cookie = owner.cookie) {
  const response = await t.call('GET', `/v1/orgs/${owner.orgId}/usage${query ? `?${query}` : ''}`, { cookie });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body;
}

/** All the org's usage in the accepted range (35 days back to 5 minutes ahead), by day. */
async function total(owner: Owner): Promise<number> {
  const body = await usage(owner, `start=${iso(NOW_MS - 36 * DAY)}&end=${iso(NOW_MS + DAY)}`);
  const sum = body.series.reduce((acc: number, point: { requests: number }) => acc + point.requests, 0);
  expect(body.total).toBe(sum);
  return body.total;
}

function expectError(response: { status: number; body: any }, status: number, code: string, field?: string) {
  expect(response.status, JSON.stringify(response.body)).toBe(status);
  expect(response.body.error.code).toBe(code);
  if (field) expect(response.body.error.field).toBe(field);
}

beforeAll(async () => {
  t = await createTestInstance({ start: NOW });
  staff = await logInAdmin(t);
});
afterAll(async () => {
  await t.close();
});

describe('usage reports', () => {
  it('accepts a report, answers what was counted, and a fresh query sees it at once', async () => {
    const org = await orgWithRuntime();
    const response = await report(org.runtime.token, 'first', [
      { timestamp: '2027-03-10T11:00:00Z', requests: 120, service: 'api' },
      { timestamp: '2027-03-10T11:00:10Z', requests: 3 },
    ]);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ accepted: true, duplicate: false, report_id: 'first', records: 2, requests: 123 });
    // Durable before the answer: a new request right after sees it.
    expect(await total(org)).toBe(123);
  });

  it('accepts an empty report', async () => {
    const org = await orgWithRuntime();
    const response = await report(org.runtime.token, 'empty', []);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ accepted: true, duplicate: false, records: 0, requests: 0 });
    expect(await total(org)).toBe(0);
  });

  it('counts a report sent twice once', async () => {
    const org = await orgWithRuntime();
    const records = [{ timestamp: '2027-03-10T10:00:00Z', requests: 50, service: 'api' }];
    const first = await report(org.runtime.token, 'twice', records);
    const second = await report(org.runtime.token, 'twice', records);
    expect(first.body).toMatchObject({ accepted: true, duplicate: false });
    expect(second.status).toBe(200);
    expect(second.body).toMatchObject({ accepted: true, duplicate: true, report_id: 'twice', records: 1 });
    expect(await total(org)).toBe(50);
  });

  it('counts a report sent 10 times concurrently once', async () => {
    const org = await orgWithRuntime();
    const records = [
      { timestamp: '2027-03-10T09:00:00Z', requests: 7, service: 'api' },
      { timestamp: '2027-03-10T09:01:00Z', requests: 11, service: 'search' },
    ];
    const responses = await Promise.all(Array.from({ length: 10 }, () => report(org.runtime.token, 'race', records)));
    for (const response of responses) {
      expect(response.status, JSON.stringify(response.body)).toBe(200);
      expect(response.body).toMatchObject({ accepted: true, report_id: 'race', records: 2 });
    }
    expect(responses.filter((response) => response.body.duplicate === false)).toHaveLength(1);
    expect(await total(org)).toBe(18);
  });

  it('counts concurrent different reports of the same minutes, in any order, each once', async () => {
    const org = await orgWithRuntime();
    const second = await register(org);
    const minutes = Array.from({ length: 20 }, (_, index) => ({
      timestamp: iso(NOW_MS - (index + 1) * MINUTE),
      requests: 1,
      service: index % 2 ? 'api' : 'search',
    }));
    const responses = await Promise.all(
      Array.from({ length: 10 }, (_, index) =>
        report(
          index % 2 ? org.runtime.token : second.token,
          `batch-${index}`,
          index % 4 < 2 ? minutes : [...minutes].reverse(),
        ),
      ),
    );
    for (const response of responses) {
      expect(response.status, JSON.stringify(response.body)).toBe(200);
      expect(response.body.duplicate).toBe(false);
    }
    expect(await total(org)).toBe(200);
  });

  it('counts the same report_id from two runtimes twice: it is unique per runtime', async () => {
    const org = await orgWithRuntime();
    const second = await register(org);
    const records = [{ timestamp: '2027-03-10T08:00:00Z', requests: 5 }];
    const fromFirst = await report(org.runtime.token, 'shared-id', records);
    const fromSecond = await report(second.token, 'shared-id', records);
    expect(fromFirst.body.duplicate).toBe(false);
    expect(fromSecond.body.duplicate).toBe(false);
    expect(await total(org)).toBe(10);
  });

  it('refuses malformed reports by schema with a 400 naming the field', async () => {
    const org = await orgWithRuntime();
    const call = (body: unknown) => t.call('POST', '/v1/runtime/usage', { token: org.runtime.token, body });
    expectError(await call({ usage: [] }), 400, 'validation_failed', 'report_id');
    expectError(await call({ report_id: '', usage: [] }), 400, 'validation_failed', 'report_id');
    expectError(await call({ report_id: 'x' }), 400, 'validation_failed', 'usage');
    expectError(
      await call({ report_id: 'x', usage: [{ requests: 1 }] }),
      400,
      'validation_failed',
      'usage.0.timestamp',
    );
    expectError(
      await call({ report_id: 'x', usage: [{ timestamp: NOW }] }),
      400,
      'validation_failed',
      'usage.0.requests',
    );
    expect(await total(org)).toBe(0);
  });
});

describe('a report with one bad record', () => {
  const good = [
    { timestamp: '2027-03-10T11:00:00Z', requests: 10, service: 'api' },
    { timestamp: '2027-03-09T11:00:00Z', requests: 20 },
  ];
  const cases: Array<{ name: string; bad: UsageEntry; code: string; field: string }> = [
    {
      name: '36 days old',
      bad: { timestamp: iso(NOW_MS - 36 * DAY), requests: 1 },
      code: 'timestamp_out_of_range',
      field: 'usage.1.timestamp',
    },
    {
      name: '6 minutes ahead',
      bad: { timestamp: iso(NOW_MS + 6 * MINUTE), requests: 1 },
      code: 'timestamp_out_of_range',
      field: 'usage.1.timestamp',
    },
    {
      name: 'not a date',
      bad: { timestamp: 'yesterday at noon', requests: 1 },
      code: 'validation_failed',
      field: 'usage.1.timestamp',
    },
    {
      name: 'a date without a time zone',
      bad: { timestamp: '2027-03-10T11:00:00', requests: 1 },
      code: 'validation_failed',
      field: 'usage.1.timestamp',
    },
    {
      name: 'negative requests',
      bad: { timestamp: NOW, requests: -1 },
      code: 'validation_failed',
      field: 'usage.1.requests',
    },
    {
      name: 'requests not an integer',
      bad: { timestamp: NOW, requests: 1.5 },
      code: 'validation_failed',
      field: 'usage.1.requests',
    },
    {
      name: 'requests as text',
      bad: { timestamp: NOW, requests: '5' },
      code: 'validation_failed',
      field: 'usage.1.requests',
    },
  ];

  for (const { name, bad, code, field } of cases) {
    it(`is refused whole when the record is ${name}, and nothing is counted`, async () => {
      const org = await orgWithRuntime();
      const refused = await report(org.runtime.token, 'mixed', [good[0], bad, good[1]]);
      expectError(refused, 400, code, field);
      expect(await total(org)).toBe(0);
      // The refused report did not use up its id: corrected, it is accepted and counted.
      const corrected = await report(org.runtime.token, 'mixed', good);
      expect(corrected.status).toBe(200);
      expect(corrected.body.duplicate).toBe(false);
      expect(await total(org)).toBe(30);
    });
  }
});

describe('the accepted time range, at its edges', () => {
  it('accepts exactly 35 days old and refuses 35 days + 1 ms', async () => {
    const org = await orgWithRuntime();
    const edge = iso(NOW_MS - 35 * DAY);
    const accepted = await report(org.runtime.token, 'old-edge', [{ timestamp: edge, requests: 4 }]);
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(200);
    expectError(
      await report(org.runtime.token, 'too-old', [{ timestamp: iso(NOW_MS - 35 * DAY - 1), requests: 8 }]),
      400,
      'timestamp_out_of_range',
      'usage.0.timestamp',
    );
    expect(await total(org)).toBe(4);
  });

  it('accepts exactly 5 minutes ahead and refuses 5 minutes + 1 ms', async () => {
    const org = await orgWithRuntime();
    const accepted = await report(org.runtime.token, 'ahead-edge', [
      { timestamp: iso(NOW_MS + 5 * MINUTE), requests: 4 },
    ]);
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(200);
    expectError(
      await report(org.runtime.token, 'too-far-ahead', [{ timestamp: iso(NOW_MS + 5 * MINUTE + 1), requests: 8 }]),
      400,
      'timestamp_out_of_range',
      'usage.0.timestamp',
    );
    // The same edges written with an offset: the instant counts, not the text.
    const withOffset = await report(org.runtime.token, 'ahead-offset', [
      { timestamp: '2027-03-10T13:05:00.000+01:00', requests: 16 },
    ]);
    expect(withOffset.status).toBe(200);
    expectError(
      await report(org.runtime.token, 'ahead-offset-too-far', [
        { timestamp: '2027-03-10T07:05:00.001-05:00', requests: 32 },
      ]),
      400,
      'timestamp_out_of_range',
    );
    expect(await total(org)).toBe(20);
  });
});

describe('usage totals', () => {
  let org: Owner & { runtime: Registered };
  // Spread over several hours of two days (UTC), with two records in the same minute and service.
  const records = [
    { timestamp: '2027-03-09T22:10:00Z', requests: 5, service: 'api' },
    { timestamp: '2027-03-09T22:10:45.5Z', requests: 7, service: 'api' },
    { timestamp: '2027-03-09T22:10:20Z', requests: 9, service: 'search' },
    { timestamp: '2027-03-09T22:59:59.999Z', requests: 1 },
    { timestamp: '2027-03-09T23:00:00Z', requests: 100, service: 'api' },
    { timestamp: '2027-03-10T00:00:00Z', requests: 1000, service: 'api' },
    { timestamp: '2027-03-10T01:30:00+01:00', requests: 20, service: 'search' }, // 00:30 UTC
    { timestamp: '2027-03-09T19:15:00-05:00', requests: 300, service: 'billing' }, // 00:15 UTC on the 10th
    { timestamp: '2027-03-10T11:59:59.999Z', requests: 3, service: 'api' },
  ];

  beforeAll(async () => {
    org = await orgWithRuntime();
    const first = await report(org.runtime.token, 'part-1', records.slice(0, 5));
    const second = await report(org.runtime.token, 'part-2', records.slice(5));
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
  });

  it('sums by hour, zero-filled, with total equal to the sum of the series', async () => {
    const body = await usage(org, 'start=2027-03-09T21:00:00Z&end=2027-03-10T12:00:00Z&granularity=hour');
    expect(body.start).toBe('2027-03-09T21:00:00.000Z');
    expect(body.end).toBe('2027-03-10T12:00:00.000Z');
    expect(body.granularity).toBe('hour');
    expect(body.series).toHaveLength(15);
    const expected: Record<string, number> = {
      '2027-03-09T22:00:00.000Z': 22,
      '2027-03-09T23:00:00.000Z': 100,
      '2027-03-10T00:00:00.000Z': 1320,
      '2027-03-10T11:00:00.000Z': 3,
    };
    for (const [index, point] of body.series.entries()) {
      expect(point.start).toBe(iso(Date.parse('2027-03-09T21:00:00Z') + index * 3_600_000));
      expect(point.requests, point.start).toBe(expected[point.start] ?? 0);
    }
    expect(body.total).toBe(1445);
  });

  it('sums by day over two days', async () => {
    const body = await usage(org, 'start=2027-03-09T00:00:00Z&end=2027-03-11T00:00:00Z&granularity=day');
    expect(body.series).toEqual([
      { start: '2027-03-09T00:00:00.000Z', requests: 122 },
      { start: '2027-03-10T00:00:00.000Z', requests: 1323 },
    ]);
    expect(body.total).toBe(1445);
  });

  it('counts [start, end): end is exclusive, start inclusive', async () => {
    const before = await usage(org, 'start=2027-03-09T23:00:00Z&end=2027-03-10T00:00:00Z&granularity=hour');
    expect(before.series).toEqual([{ start: '2027-03-09T23:00:00.000Z', requests: 100 }]);
    expect(before.total).toBe(100);
    const narrow = await usage(org, 'start=2027-03-10T11:59:00Z&end=2027-03-10T12:00:00Z&granularity=hour');
    expect(narrow.total).toBe(3);
    expect(narrow.series).toEqual([{ start: '2027-03-10T11:00:00.000Z', requests: 3 }]);
  });

  it('accepts offsets in the query and answers in UTC', async () => {
    const body = await usage(
      org,
      `start=${encodeURIComponent('2027-03-10T00:00:00+01:00')}&end=${encodeURIComponent('2027-03-10T02:00:00+01:00')}&granularity=hour`,
    );
    expect(body.start).toBe('2027-03-09T23:00:00.000Z');
    expect(body.end).toBe('2027-03-10T01:00:00.000Z');
    expect(body.series).toEqual([
      { start: '2027-03-09T23:00:00.000Z', requests: 100 },
      { start: '2027-03-10T00:00:00.000Z', requests: 1320 },
    ]);
  });

  it('defaults to the last 30 days by day, ending now', async () => {
    const body = await usage(org);
    expect(body).toMatchObject({ start: iso(NOW_MS - 30 * DAY), end: NOW, granularity: 'day', total: 1445 });
    expect(body.series).toHaveLength(31);
    expect(body.series.at(-1)).toEqual({ start: '2027-03-10T00:00:00.000Z', requests: 1323 });
  });

  it('is readable by a plain member', async () => {
    const email = `member-${randomBytes(4).toString('hex')}@example.com`;
    const invited = await t.call('POST', `/v1/orgs/${org.orgId}/invitations`, {
      cookie: org.cookie,
      body: { email, roles: ['member'] },
    });
    expect(invited.status).toBe(201);
    const outbox = await t.call('GET', `/v1/admin/outbox?to=${encodeURIComponent(email)}`, { cookie: staff });
    const token = /token=(\S+)/.exec(outbox.body.data[0].body)?.[1];
    const accepted = await t.call('POST', '/v1/invitations/accept', {
      body: { token, password: 'member-password-1', full_name: 'Plain Member' },
    });
    expect(accepted.status).toBe(200);
    const body = await usage(org, '', accepted.cookie);
    expect(body.total).toBe(1445);
    expectError(
      await t.call('GET', `/v1/orgs/${org.orgId}/runtimes`, { cookie: accepted.cookie }),
      403,
      'insufficient_role',
    );
  });
});

describe('bad usage queries', () => {
  let org: Owner;
  beforeAll(async () => {
    org = await signUpOwner(t);
  });
  const query = (text: string) => t.call('GET', `/v1/orgs/${org.orgId}/usage?${text}`, { cookie: org.cookie });

  it('refuses a start or end that is not RFC 3339, naming it', async () => {
    for (const start of ['yesterday', '2027-03-01', '2027-03-01 00:00:00Z', '2027-02-30T00:00:00Z', '1773100800000']) {
      expectError(await query(`start=${encodeURIComponent(start)}`), 400, 'validation_failed', 'start');
    }
    expectError(await query('end=tomorrow'), 400, 'validation_failed', 'end');
  });

  it('refuses start at or after end, naming start', async () => {
    expectError(await query(`start=${NOW}&end=${NOW}`), 400, 'validation_failed', 'start');
    expectError(await query(`start=2027-03-10T00:00:00Z&end=2027-03-09T00:00:00Z`), 400, 'validation_failed', 'start');
    expectError(await query(`start=${iso(NOW_MS + 1)}`), 400, 'validation_failed', 'start');
  });

  it('refuses more than 2000 points, naming start; exactly 2000 is fine', async () => {
    const end = '2027-03-10T00:00:00.000Z';
    const fine = await query(`start=${iso(Date.parse(end) - 2000 * 3_600_000)}&end=${end}&granularity=hour`);
    expect(fine.status).toBe(200);
    expect(fine.body.series).toHaveLength(2000);
    expect(fine.body.total).toBe(0);
    expectError(
      await query(`start=${iso(Date.parse(end) - 2001 * 3_600_000)}&end=${end}&granularity=hour`),
      400,
      'validation_failed',
      'start',
    );
    expectError(
      await query(`start=2000-01-01T00:00:00Z&end=${end}&granularity=day`),
      400,
      'validation_failed',
      'start',
    );
  });

  it('refuses an unknown granularity, naming it', async () => {
    expectError(await query('granularity=week'), 400, 'validation_failed', 'granularity');
  });

  it('answers 401 without credentials', async () => {
    expectError(await t.call('GET', `/v1/orgs/${org.orgId}/usage`), 401, 'unauthenticated');
  });
});

describe('another org', () => {
  it('its runtime’s reports count only for its own org, and its members cannot read this org’s usage', async () => {
    const mine = await orgWithRuntime();
    const theirs = await orgWithRuntime();
    const records = [{ timestamp: '2027-03-10T06:00:00Z', requests: 9 }];
    expect((await report(mine.runtime.token, 'same-id', records)).status).toBe(200);
    expect((await report(theirs.runtime.token, 'same-id', records)).body.duplicate).toBe(false);
    expect((await report(theirs.runtime.token, 'only-theirs', records)).status).toBe(200);
    expect(await total(mine)).toBe(9);
    expect(await total(theirs)).toBe(18);
    expectError(await t.call('GET', `/v1/orgs/${mine.orgId}/usage`, { cookie: theirs.cookie }), 404, 'not_found');
  });
});
