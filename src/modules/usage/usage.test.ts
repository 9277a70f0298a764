import { describe, expect, it } from 'vitest';
import {
  aggregateReport,
  billingHold,
  buildSeries,
  expiredUsageMonths,
  MAX_AGE_MS,
  MAX_AHEAD_MS,
  type MinuteBucket,
  minuteOf,
  missingUsageMonths,
  newestContiguousMonths,
  type OpenWindow,
  seriesLength,
  truncate,
  type UsageBillingClass,
  type UsageMonth,
  usageMonth,
  usageMonthNamed,
  usageMonthsAt,
  usageRetentionCutoff,
} from './usage.ts';

const now = new Date('2027-03-10T12:00:00.000Z');
const at = (text: string) => new Date(text);
const iso = (ms: number) => new Date(ms).toISOString();

function accepted(result: ReturnType<typeof aggregateReport>) {
  if ('code' in result) throw new Error(`refused: ${result.field} ${result.message}`);
  return result;
}

/** Buckets as plain text, sorted, so they compare regardless of order. */
function plain(buckets: readonly MinuteBucket[]) {
  return buckets
    .map((bucket) => ({
      minute: bucket.minute.toISOString(),
      service: bucket.service,
      subscriptionId: bucket.subscriptionId,
      requests: bucket.requests,
    }))
    .sort((a, b) =>
      `${a.minute}|${a.service}|${a.subscriptionId}`.localeCompare(`${b.minute}|${b.service}|${b.subscriptionId}`),
    );
}

describe('aggregateReport: minute buckets', () => {
  it('sums records of the same minute and service, keeps services and minutes apart', () => {
    const result = accepted(
      aggregateReport(
        [
          { timestamp: '2027-03-10T11:00:05Z', requests: 3, service: 'api' },
          { timestamp: '2027-03-10T11:00:59.999Z', requests: 4, service: 'api' },
          { timestamp: '2027-03-10T11:00:30Z', requests: 10, service: 'search' },
          { timestamp: '2027-03-10T11:01:00Z', requests: 5, service: 'api' },
          { timestamp: '2027-03-10T11:00:10Z', requests: 1 },
          { timestamp: '2027-03-10T11:00:20Z', requests: 2, service: '' },
        ],
        now,
        null,
      ),
    );
    expect(plain(result.buckets)).toEqual([
      { minute: '2027-03-10T11:00:00.000Z', service: '', subscriptionId: '', requests: 3n },
      { minute: '2027-03-10T11:00:00.000Z', service: 'api', subscriptionId: '', requests: 7n },
      { minute: '2027-03-10T11:00:00.000Z', service: 'search', subscriptionId: '', requests: 10n },
      { minute: '2027-03-10T11:01:00.000Z', service: 'api', subscriptionId: '', requests: 5n },
    ]);
    expect(result.requests).toBe(25n);
    expect(result.latest?.toISOString()).toBe('2027-03-10T11:01:00.000Z');
  });

  it('buckets by the UTC minute of timestamps written with an offset', () => {
    const result = accepted(
      aggregateReport(
        [
          { timestamp: '2027-03-10T12:00:30+01:00', requests: 1 },
          { timestamp: '2027-03-10T11:00:45Z', requests: 2 },
          { timestamp: '2027-03-10T05:30:15-05:30', requests: 4 },
          { timestamp: '2027-03-10T16:45:59.5+05:45', requests: 8 },
        ],
        now,
        null,
      ),
    );
    expect(plain(result.buckets)).toEqual([
      { minute: '2027-03-10T11:00:00.000Z', service: '', subscriptionId: '', requests: 15n },
    ]);
    expect(result.latest?.toISOString()).toBe('2027-03-10T11:00:59.500Z');
  });

  it('buckets a +01:00 timestamp just after local midnight into the previous UTC day', () => {
    const result = accepted(
      aggregateReport([{ timestamp: '2027-01-01T00:00:30+01:00', requests: 7 }], at('2027-01-01T00:00:00Z'), null),
    );
    expect(plain(result.buckets)).toEqual([
      { minute: '2026-12-31T23:00:00.000Z', service: '', subscriptionId: '', requests: 7n },
    ]);
  });

  it('floors instants before 1970 to their minute too', () => {
    const old = new Date('1969-12-31T23:59:30.250Z');
    const result = accepted(aggregateReport([{ timestamp: '1969-12-31T23:59:30.250Z', requests: 1 }], old, null));
    expect(result.buckets[0].minute.toISOString()).toBe('1969-12-31T23:59:00.000Z');
  });

  it('returns buckets in one order (minute, service, subscription) whatever the record order', () => {
    // Concurrent reports upsert the same minute rows; one lock order keeps PostgreSQL from deadlocking.
    const records = [
      { timestamp: '2027-03-10T11:02:00Z', requests: 1, service: 'b' },
      { timestamp: '2027-03-10T11:00:00Z', requests: 1, service: 'b' },
      { timestamp: '2027-03-10T11:01:00Z', requests: 1, service: 'a' },
      { timestamp: '2027-03-10T11:00:00Z', requests: 1, service: 'a' },
      { timestamp: '2027-03-10T11:00:00Z', requests: 1 },
    ];
    const window = { subscriptionId: 'sub_1', startedAt: at('2027-03-10T11:01:00Z') };
    const keys = (result: ReturnType<typeof aggregateReport>) =>
      accepted(result).buckets.map(
        (bucket) => `${bucket.minute.toISOString()}|${bucket.service}|${bucket.subscriptionId}`,
      );
    const forward = keys(aggregateReport(records, now, window));
    expect(forward).toEqual([
      '2027-03-10T11:00:00.000Z||',
      '2027-03-10T11:00:00.000Z|a|',
      '2027-03-10T11:00:00.000Z|b|',
      '2027-03-10T11:01:00.000Z|a|sub_1',
      '2027-03-10T11:02:00.000Z|b|sub_1',
    ]);
    expect(keys(aggregateReport([...records].reverse(), now, window))).toEqual(forward);
  });

  it('keeps the latest event time of each bucket', () => {
    const result = accepted(
      aggregateReport(
        [
          { timestamp: '2027-03-10T11:00:40Z', requests: 1 },
          { timestamp: '2027-03-10T11:00:59.999Z', requests: 1 },
          { timestamp: '2027-03-10T11:00:10Z', requests: 1 },
          { timestamp: '2027-03-10T11:01:05Z', requests: 1 },
        ],
        now,
        null,
      ),
    );
    expect(result.buckets.map((bucket) => bucket.latestAt.toISOString())).toEqual([
      '2027-03-10T11:00:59.999Z',
      '2027-03-10T11:01:05.000Z',
    ]);
  });

  it('accepts an empty report with nothing to count', () => {
    const result = accepted(aggregateReport([], now, null));
    expect(result).toEqual({ buckets: [], requests: 0n, latest: null });
  });

  it('counts zero-request records without error', () => {
    const result = accepted(aggregateReport([{ timestamp: '2027-03-10T11:59:00Z', requests: 0 }], now, null));
    expect(result.requests).toBe(0n);
    expect(result.buckets).toHaveLength(1);
  });

  it('sums large counts exactly as bigint', () => {
    const records = Array.from({ length: 10 }, () => ({ timestamp: '2027-03-10T11:59:00Z', requests: 1_000_000_000 }));
    const result = accepted(aggregateReport(records, now, null));
    expect(result.requests).toBe(10_000_000_000n);
    expect(result.buckets[0].requests).toBe(10_000_000_000n);
  });
});

describe('aggregateReport: the open billing window', () => {
  const window: OpenWindow = { subscriptionId: 'sub_1', startedAt: at('2027-03-10T11:30:30.000Z') };

  it('marks records before the window start unbillable and from it on billable', () => {
    const result = accepted(
      aggregateReport(
        [
          { timestamp: '2027-03-10T11:00:00Z', requests: 1 },
          { timestamp: '2027-03-10T11:30:30.000Z', requests: 2 },
          { timestamp: '2027-03-10T11:45:00Z', requests: 4 },
        ],
        now,
        window,
      ),
    );
    expect(plain(result.buckets)).toEqual([
      { minute: '2027-03-10T11:00:00.000Z', service: '', subscriptionId: '', requests: 1n },
      { minute: '2027-03-10T11:30:00.000Z', service: '', subscriptionId: 'sub_1', requests: 2n },
      { minute: '2027-03-10T11:45:00.000Z', service: '', subscriptionId: 'sub_1', requests: 4n },
    ]);
  });

  it('splits one minute across the window start into an unbillable and a billable bucket', () => {
    const result = accepted(
      aggregateReport(
        [
          { timestamp: '2027-03-10T11:30:00Z', requests: 1, service: 'api' },
          { timestamp: '2027-03-10T11:30:30.499+00:00', requests: 2, service: 'api' }, // 1 ms before
          { timestamp: '2027-03-10T11:30:30.500Z', requests: 4, service: 'api' },
          { timestamp: '2027-03-10T11:30:59.999Z', requests: 8, service: 'api' },
        ],
        now,
        { subscriptionId: 'sub_1', startedAt: at('2027-03-10T11:30:30.500Z') },
      ),
    );
    expect(plain(result.buckets)).toEqual([
      { minute: '2027-03-10T11:30:00.000Z', service: 'api', subscriptionId: '', requests: 3n },
      { minute: '2027-03-10T11:30:00.000Z', service: 'api', subscriptionId: 'sub_1', requests: 12n },
    ]);
    expect(result.requests).toBe(15n);
  });

  it('compares instants, not text: an offset timestamp at the window start is billable', () => {
    const result = accepted(
      aggregateReport(
        [
          { timestamp: '2027-03-10T12:30:30+01:00', requests: 1 },
          { timestamp: '2027-03-10T12:30:29.999+01:00', requests: 2 },
        ],
        now,
        window,
      ),
    );
    expect(plain(result.buckets)).toEqual([
      { minute: '2027-03-10T11:30:00.000Z', service: '', subscriptionId: '', requests: 2n },
      { minute: '2027-03-10T11:30:00.000Z', service: '', subscriptionId: 'sub_1', requests: 1n },
    ]);
  });

  it('marks nothing billable without an open window', () => {
    const result = accepted(aggregateReport([{ timestamp: '2027-03-10T11:59:00Z', requests: 1 }], now, null));
    expect(result.buckets[0].subscriptionId).toBe('');
  });
});

describe('aggregateReport: the accepted time range', () => {
  const oldest = now.getTime() - MAX_AGE_MS;
  const newest = now.getTime() + MAX_AHEAD_MS;

  it('is 35 days back and 5 minutes ahead', () => {
    expect(MAX_AGE_MS).toBe(35 * 24 * 3_600_000);
    expect(MAX_AHEAD_MS).toBe(5 * 60_000);
  });

  it('accepts exactly 35 days old and exactly 5 minutes ahead', () => {
    const result = accepted(
      aggregateReport(
        [
          { timestamp: iso(oldest), requests: 1 },
          { timestamp: iso(newest), requests: 2 },
          { timestamp: now.toISOString(), requests: 4 },
        ],
        now,
        null,
      ),
    );
    expect(result.requests).toBe(7n);
    expect(result.latest?.toISOString()).toBe(iso(newest));
  });

  it('refuses 35 days + 1 ms old and 5 minutes + 1 ms ahead', () => {
    expect(aggregateReport([{ timestamp: iso(oldest - 1), requests: 1 }], now, null)).toMatchObject({
      code: 'timestamp_out_of_range',
      field: 'usage.0.timestamp',
    });
    expect(aggregateReport([{ timestamp: iso(newest + 1), requests: 1 }], now, null)).toMatchObject({
      code: 'timestamp_out_of_range',
      field: 'usage.0.timestamp',
    });
  });

  it('checks the instant of offset timestamps against the range', () => {
    // 12:05 UTC written as 13:05+01:00: exactly 5 minutes ahead.
    accepted(aggregateReport([{ timestamp: '2027-03-10T13:05:00+01:00', requests: 1 }], now, null));
    expect(aggregateReport([{ timestamp: '2027-03-10T13:05:00.001+01:00', requests: 1 }], now, null)).toMatchObject({
      code: 'timestamp_out_of_range',
    });
  });

  it('names the first bad record; a good report before it does not matter', () => {
    const records = [
      { timestamp: '2027-03-10T11:00:00Z', requests: 1 },
      { timestamp: '2027-03-10T11:00:00Z', requests: 1 },
      { timestamp: iso(oldest - 86_400_000), requests: 1 },
      { timestamp: 'not a date', requests: 1 },
    ];
    expect(aggregateReport(records, now, null)).toMatchObject({
      code: 'timestamp_out_of_range',
      field: 'usage.2.timestamp',
    });
  });

  it('reads every RFC 3339 form to the millisecond', () => {
    const result = accepted(
      aggregateReport(
        [
          { timestamp: '2027-03-10T11:00:07.123Z', requests: 1 },
          { timestamp: '2027-03-10t11:00:08.456z', requests: 1 },
          { timestamp: '2027-03-10T11:00:09.5Z', requests: 1 },
          { timestamp: '2027-03-10T12:00:10.789+01:00', requests: 1 },
          { timestamp: '2027-03-10T11:00:11Z', requests: 1 },
        ],
        now,
        null,
      ),
    );
    expect(result.latest?.toISOString()).toBe('2027-03-10T11:00:11.000Z');
    expect(result.buckets).toHaveLength(1);
    const single = (timestamp: string) => accepted(aggregateReport([{ timestamp, requests: 1 }], now, null)).latest;
    expect(single('2027-03-10T11:00:07.123Z')?.toISOString()).toBe('2027-03-10T11:00:07.123Z');
    expect(single('2027-03-10t11:00:08.456z')?.toISOString()).toBe('2027-03-10T11:00:08.456Z');
    expect(single('2027-03-10T12:00:10.789+01:00')?.toISOString()).toBe('2027-03-10T11:00:10.789Z');
    expect(single('2027-03-10T11:00:59.999Z')?.toISOString()).toBe('2027-03-10T11:00:59.999Z');
  });

  it('refuses text that is not an RFC 3339 instant as a validation error', () => {
    for (const timestamp of [
      'not a date',
      '',
      '2027-03-10',
      '2027-03-10 11:00:00Z',
      '2027-03-10T11:00:00',
      '2027-02-30T11:00:00Z',
      '2027-03-10T24:00:00Z',
      '1773140400000',
      // The shape runtimes usually send (24 characters ending .sssZ), but not a valid instant.
      '2027-03-10T11:00:60.000Z',
      '2027-02-30T11:00:00.000Z',
      '2027-03-10T24:00:00.000Z',
      '2027-03-10T11:60:00.000Z',
      '2027-03-10T11:00:0x.000Z',
      '2027-03-10T11:00:00.0x0Z',
      '2027-03-10T11:00:-1.000Z',
      '2027-03-10T11:00.00.000Z',
      '2027-03-10 11:00:00.000Z',
      '2027/03/10T11:00:00.000Z',
      'abcd-ef-ghTij:kl:mn.opqZ',
    ]) {
      const result = aggregateReport(
        [
          { timestamp: '2027-03-10T11:00:00Z', requests: 1 },
          { timestamp, requests: 1 },
        ],
        now,
        null,
      );
      expect(result, timestamp).toMatchObject({ code: 'validation_failed', field: 'usage.1.timestamp' });
    }
  });

  it('names the first index of a bad timestamp that appears twice', () => {
    const result = aggregateReport(
      [
        { timestamp: '2027-03-10T11:00:00Z', requests: 1 },
        { timestamp: 'yesterday', requests: 1 },
        { timestamp: 'yesterday', requests: 1 },
      ],
      now,
      null,
    );
    expect(result).toMatchObject({ field: 'usage.1.timestamp' });
  });
});

describe('truncate', () => {
  it('truncates to the UTC hour and day', () => {
    const instant = at('2027-03-10T23:59:59.999Z');
    expect(truncate(instant, 'hour').toISOString()).toBe('2027-03-10T23:00:00.000Z');
    expect(truncate(instant, 'day').toISOString()).toBe('2027-03-10T00:00:00.000Z');
    expect(truncate(at('2027-03-10T00:00:00Z'), 'day').toISOString()).toBe('2027-03-10T00:00:00.000Z');
    expect(truncate(at('2028-02-29T13:14:15Z'), 'day').toISOString()).toBe('2028-02-29T00:00:00.000Z');
  });
});

describe('buildSeries and seriesLength', () => {
  it('zero-fills every hour in [start, end) and puts totals where they belong', () => {
    const start = at('2027-03-10T10:00:00Z');
    const end = at('2027-03-10T15:00:00Z');
    const series = buildSeries(
      [
        { start: at('2027-03-10T11:00:00Z'), requests: 5n },
        { start: at('2027-03-10T14:00:00Z'), requests: 7n },
      ],
      start,
      end,
      'hour',
    );
    expect(series).toEqual([
      { start: '2027-03-10T10:00:00.000Z', requests: 0 },
      { start: '2027-03-10T11:00:00.000Z', requests: 5 },
      { start: '2027-03-10T12:00:00.000Z', requests: 0 },
      { start: '2027-03-10T13:00:00.000Z', requests: 0 },
      { start: '2027-03-10T14:00:00.000Z', requests: 7 },
    ]);
    expect(seriesLength(start, end, 'hour')).toBe(series.length);
  });

  it('starts at the truncated start and covers an end inside a step', () => {
    const start = at('2027-03-10T10:30:00Z');
    const end = at('2027-03-12T00:00:00.001Z');
    const series = buildSeries([{ start: at('2027-03-12T00:00:00Z'), requests: 3n }], start, end, 'day');
    expect(series).toEqual([
      { start: '2027-03-10T00:00:00.000Z', requests: 0 },
      { start: '2027-03-11T00:00:00.000Z', requests: 0 },
      { start: '2027-03-12T00:00:00.000Z', requests: 3 },
    ]);
    expect(seriesLength(start, end, 'day')).toBe(3);
  });

  it('has one point for a range inside one step', () => {
    const start = at('2027-03-10T10:15:00Z');
    const end = at('2027-03-10T10:45:00Z');
    expect(buildSeries([], start, end, 'hour')).toEqual([{ start: '2027-03-10T10:00:00.000Z', requests: 0 }]);
    expect(seriesLength(start, end, 'hour')).toBe(1);
  });

  it('agrees with seriesLength over many ranges', () => {
    const base = at('2027-03-10T00:00:00Z').getTime();
    for (const granularity of ['hour', 'day'] as const) {
      for (const startOffset of [0, 1, 59 * 60_000, 3_600_000, 86_399_999]) {
        for (const length of [1, 3_600_000, 3_600_001, 86_400_000, 3 * 86_400_000 + 5]) {
          const start = new Date(base + startOffset);
          const end = new Date(start.getTime() + length);
          expect(buildSeries([], start, end, granularity)).toHaveLength(seriesLength(start, end, granularity));
        }
      }
    }
  });

  it('sums to the totals given', () => {
    const start = at('2027-03-01T00:00:00Z');
    const end = at('2027-03-11T00:00:00Z');
    const totals = [
      { start: at('2027-03-01T00:00:00Z'), requests: 1n },
      { start: at('2027-03-05T00:00:00Z'), requests: 20n },
      { start: at('2027-03-10T00:00:00Z'), requests: 300n },
    ];
    const series = buildSeries(totals, start, end, 'day');
    expect(series).toHaveLength(10);
    expect(series.reduce((sum, point) => sum + point.requests, 0)).toBe(321);
  });

  it('counts 30 days by hour as 720 points and by day as 30', () => {
    const end = at('2027-03-31T00:00:00Z');
    const start = new Date(end.getTime() - 30 * 86_400_000);
    expect(seriesLength(start, end, 'hour')).toBe(720);
    expect(seriesLength(start, end, 'day')).toBe(30);
  });
});

describe('usage months: the partitions of usage_minutes', () => {
  const names = (months: ReadonlyArray<{ name: string }>) => months.map((month) => month.name);

  it('is the UTC calendar month, across year ends and leap days', () => {
    expect(usageMonth(at('2028-02-29T23:59:59.999Z'))).toEqual({
      start: at('2028-02-01T00:00:00.000Z'),
      end: at('2028-03-01T00:00:00.000Z'),
      name: 'usage_minutes_2028_02',
    });
    expect(usageMonth(at('2027-12-31T23:59:59.999Z'), 1).name).toBe('usage_minutes_2028_01');
    expect(usageMonth(at('2027-01-01T00:00:00.000Z'), -1)).toEqual({
      start: at('2026-12-01T00:00:00.000Z'),
      end: at('2027-01-01T00:00:00.000Z'),
      name: 'usage_minutes_2026_12',
    });
  });

  it('reads the month back from a partition name, and nothing from others', () => {
    expect(usageMonthNamed('usage_minutes_2027_11')).toEqual(usageMonth(at('2027-11-15T00:00:00.000Z')));
    expect(usageMonthNamed('usage_minutes_default')).toBeUndefined();
    expect(usageMonthNamed('usage_minutes_2027_13')).toBeUndefined();
    expect(usageMonthNamed('usage_minutes_2027_1')).toBeUndefined();
  });

  it('needs every month a report accepted now may write to, and the next two', () => {
    // 35 days before Mar 10 is Feb 3.
    expect(names(usageMonthsAt(now))).toEqual([
      'usage_minutes_2027_02',
      'usage_minutes_2027_03',
      'usage_minutes_2027_04',
      'usage_minutes_2027_05',
    ]);
    // 35 days before Mar 1 is Jan 25 (not a leap year); five minutes ahead is still March.
    expect(names(usageMonthsAt(at('2027-03-01T00:00:00.000Z')))).toEqual([
      'usage_minutes_2027_01',
      'usage_minutes_2027_02',
      'usage_minutes_2027_03',
      'usage_minutes_2027_04',
      'usage_minutes_2027_05',
    ]);
    // Five minutes ahead of Dec 31 23:58 is next year's January: created ahead.
    expect(names(usageMonthsAt(at('2027-12-31T23:58:00.000Z')))).toEqual([
      'usage_minutes_2027_11',
      'usage_minutes_2027_12',
      'usage_minutes_2028_01',
      'usage_minutes_2028_02',
    ]);
  });

  it('tells which of the needed months are missing', () => {
    const wanted = usageMonthsAt(now);
    expect(names(missingUsageMonths(wanted, [usageMonth(now), usageMonth(now, 1)]))).toEqual([
      'usage_minutes_2027_02',
      'usage_minutes_2027_05',
    ]);
    expect(missingUsageMonths(wanted, wanted)).toEqual([]);
  });

  it('finds the newest run of consecutive months', () => {
    const months = ['2026_09', '2027_01', '2027_03', '2027_02', '2026_10'].map(
      (name) => usageMonthNamed(`usage_minutes_${name}`) as NonNullable<ReturnType<typeof usageMonthNamed>>,
    );
    expect(newestContiguousMonths(months)).toEqual({
      start: at('2027-01-01T00:00:00.000Z'),
      end: at('2027-04-01T00:00:00.000Z'),
    });
    expect(newestContiguousMonths(months.slice(0, 1))).toEqual({
      start: at('2026-09-01T00:00:00.000Z'),
      end: at('2026-10-01T00:00:00.000Z'),
    });
    expect(newestContiguousMonths([])).toBeNull();
  });

  it("bounds a subscription's usage by the start of the minute it started in", () => {
    expect(minuteOf(at('2027-03-10T12:34:56.789Z'))).toEqual(at('2027-03-10T12:34:00.000Z'));
    expect(minuteOf(at('2027-03-10T12:34:00.000Z'))).toEqual(at('2027-03-10T12:34:00.000Z'));
  });
});

describe('usage retention: which months are old enough to drop', () => {
  const iso = (instant: Date | null) => instant?.toISOString() ?? null;
  const names = (months: readonly UsageMonth[]) => months.map((month) => month.name);
  /** Partitions of every month from `from` to `to` (YYYY_MM), in a scrambled order. */
  function partitionsBetween(from: string, to: string): UsageMonth[] {
    const months: UsageMonth[] = [];
    let month = usageMonthNamed(`usage_minutes_${from}`) as UsageMonth;
    for (; month.name <= `usage_minutes_${to}`; month = usageMonth(month.start, 1)) months.push(month);
    return months
      .map((m, i) => ({ m, key: (i * 7) % months.length }))
      .sort((a, b) => a.key - b.key)
      .map((e) => e.m);
  }

  it('keeps the current month and the N whole months before it', () => {
    expect(iso(usageRetentionCutoff(at('2027-07-15T12:00:00.000Z'), 3))).toBe('2027-04-01T00:00:00.000Z');
    expect(
      names(expiredUsageMonths(partitionsBetween('2027_01', '2027_09'), at('2027-07-15T12:00:00.000Z'), 3)),
    ).toEqual(['usage_minutes_2027_01', 'usage_minutes_2027_02', 'usage_minutes_2027_03']);
  });

  it('counts calendar months from the month of now, not days: Jan 31 and the last millisecond of a month', () => {
    const lastOfJanuary = at('2027-01-31T23:59:59.999Z');
    expect(iso(usageRetentionCutoff(lastOfJanuary, 3))).toBe('2026-10-01T00:00:00.000Z');
    expect(iso(usageRetentionCutoff(lastOfJanuary, 12))).toBe('2026-01-01T00:00:00.000Z');
    expect(names(expiredUsageMonths(partitionsBetween('2026_08', '2027_03'), lastOfJanuary, 3))).toEqual([
      'usage_minutes_2026_08',
      'usage_minutes_2026_09',
    ]);
    // Jan 31 minus one month is not "Dec 31 minus a few days": the whole of October stays.
    expect(iso(usageRetentionCutoff(at('2027-03-31T23:59:59.999Z'), 3))).toBe('2026-12-01T00:00:00.000Z');
    expect(iso(usageRetentionCutoff(at('2027-04-01T00:00:00.000Z'), 3))).toBe('2027-01-01T00:00:00.000Z');
  });

  it('handles Feb 29 and leap years', () => {
    const leapDay = at('2028-02-29T12:00:00.000Z');
    expect(iso(usageRetentionCutoff(leapDay, 3))).toBe('2027-11-01T00:00:00.000Z');
    expect(iso(usageRetentionCutoff(leapDay, 12))).toBe('2027-02-01T00:00:00.000Z');
    expect(iso(usageRetentionCutoff(leapDay, 48))).toBe('2024-02-01T00:00:00.000Z');
    // February 2028 (29 days) is the current month on its last day and ends at March 1.
    expect(iso(usageRetentionCutoff(at('2028-05-31T23:59:59.999Z'), 3))).toBe('2028-02-01T00:00:00.000Z');
    expect(
      names(expiredUsageMonths(partitionsBetween('2028_01', '2028_06'), at('2028-06-01T00:00:00.000Z'), 3)),
    ).toEqual(['usage_minutes_2028_01', 'usage_minutes_2028_02']);
  });

  it('crosses year boundaries', () => {
    expect(iso(usageRetentionCutoff(at('2027-01-01T00:00:00.000Z'), 3))).toBe('2026-10-01T00:00:00.000Z');
    expect(iso(usageRetentionCutoff(at('2026-12-31T23:59:59.999Z'), 3))).toBe('2026-09-01T00:00:00.000Z');
    expect(iso(usageRetentionCutoff(at('2027-02-10T00:00:00.000Z'), 14))).toBe('2025-12-01T00:00:00.000Z');
    expect(
      names(expiredUsageMonths(partitionsBetween('2026_08', '2027_04'), at('2027-02-10T00:00:00.000Z'), 3)),
    ).toEqual(['usage_minutes_2026_08', 'usage_minutes_2026_09', 'usage_minutes_2026_10']);
  });

  it('never names the current, next or a later month, nor one of the N before, whatever the instant', () => {
    const present = partitionsBetween('2026_01', '2030_12');
    for (
      let day = Date.parse('2027-01-01T00:00:00.000Z');
      day < Date.parse('2029-12-31T00:00:00.000Z');
      day += 86_400_000
    ) {
      for (const instant of [day, day + 86_400_000 - 1]) {
        const now = new Date(instant);
        for (const months of [3, 4, 12, 25]) {
          const expired = expiredUsageMonths(present, now, months);
          const oldestKept = usageMonth(now, -months);
          expect(expired.every((month) => month.end.getTime() <= oldestKept.start.getTime())).toBe(true);
          // Every older month with a partition is named, oldest first.
          expect(names(expired)).toEqual(
            names(present.filter((month) => month.start < oldestKept.start).sort((a, b) => (a.name < b.name ? -1 : 1))),
          );
        }
      }
    }
  });

  it('names nothing when retention is off (0), and refuses fewer than 3 months', () => {
    expect(usageRetentionCutoff(now, 0)).toBeNull();
    expect(expiredUsageMonths(partitionsBetween('2020_01', '2027_03'), now, 0)).toEqual([]);
    for (const months of [1, 2, -3, 3.5, Number.NaN]) {
      expect(() => usageRetentionCutoff(now, months)).toThrow(RangeError);
    }
  });
});

describe('usage retention: which rows billing still needs', () => {
  const pass = at('2027-07-15T12:00:00.000Z');
  const rows = (values: Partial<UsageBillingClass>): UsageBillingClass => ({
    billable: true,
    subscriptionStatus: 'active',
    billed: false,
    invoiceKind: null,
    invoiceStatus: null,
    latestBillingAt: null,
    rows: 1,
    requests: 10n,
    subscriptions: 1,
    exampleSubscriptionId: 'sub_1',
    ...values,
  });
  const billedBy = (kind: string, status: string, billingAt: string, subscriptionStatus = 'active') =>
    rows({
      billed: true,
      invoiceKind: kind,
      invoiceStatus: status,
      latestBillingAt: at(billingAt),
      subscriptionStatus,
    });

  it('needs unbilled rows of a subscription that has not ended: its next invoice bills them', () => {
    expect(billingHold(rows({}), pass)).toBe('unbilled');
  });

  it('needs rows on an open cycle invoice until its billing date: a downgrade before B_k voids it', () => {
    expect(billingHold(billedBy('cycle', 'open', '2027-07-15T12:00:00.001Z'), pass)).toBe('invoice_may_be_voided');
    // From B_k on, a downgrade falls in the next period and no longer voids it (net terms stay open).
    expect(billingHold(billedBy('cycle', 'open', '2027-07-15T12:00:00.000Z'), pass)).toBeNull();
    expect(billingHold(billedBy('cycle', 'open', '2027-06-30T00:00:00.000Z'), pass)).toBeNull();
  });

  it('is done with rows on an invoice that can no longer change', () => {
    for (const status of ['paid', 'past_due', 'uncollectible', 'void']) {
      expect(billingHold(billedBy('cycle', status, '2027-08-01T00:00:00.000Z'), pass)).toBeNull();
    }
    // A final invoice is never voided, whatever its status.
    expect(billingHold(billedBy('final', 'open', '2027-08-01T00:00:00.000Z'), pass)).toBeNull();
    expect(billingHold(billedBy('final', 'past_due', '2027-07-15T12:00:00.000Z'), pass)).toBeNull();
  });

  it('is done with rows of Free, of an ended subscription, or of a subscription or invoice it cannot find', () => {
    expect(billingHold(rows({ billable: false, subscriptionStatus: null }), pass)).toBeNull();
    expect(billingHold(rows({ subscriptionStatus: 'ended' }), pass)).toBeNull();
    expect(billingHold(billedBy('cycle', 'open', '2027-08-01T00:00:00.000Z', 'ended'), pass)).toBeNull();
    expect(billingHold(rows({ subscriptionStatus: null }), pass)).toBeNull();
    expect(billingHold(rows({ billed: true }), pass)).toBeNull();
  });
});
