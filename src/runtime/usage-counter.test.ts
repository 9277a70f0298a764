import { describe, expect, it } from 'vitest';
import {
  backoffDelay,
  buildReports,
  maxRecordsPerReport,
  minuteStart,
  reportIdSequence,
  reportRequests,
  UsageCounter,
  type UsageRecord,
} from './usage-counter.ts';

describe('minuteStart', () => {
  it('gives the start of the minute in UTC, RFC 3339 with Z', () => {
    expect(minuteStart(new Date('2025-03-01T12:34:56.789Z'))).toBe('2025-03-01T12:34:00Z');
    expect(minuteStart(new Date('2025-03-01T12:34:00.000Z'))).toBe('2025-03-01T12:34:00Z');
    expect(minuteStart(new Date('2025-03-01T12:34:59.999Z'))).toBe('2025-03-01T12:34:00Z');
  });

  it('works across hours, days and years, and from other time zones', () => {
    expect(minuteStart(new Date('2024-12-31T23:59:59.999Z'))).toBe('2024-12-31T23:59:00Z');
    expect(minuteStart(new Date('2025-01-01T00:00:00.001Z'))).toBe('2025-01-01T00:00:00Z');
    expect(minuteStart(new Date('2024-02-29T10:15:30+05:30'))).toBe('2024-02-29T04:45:00Z');
  });
});

describe('UsageCounter', () => {
  it('counts per minute of arrival and per service, oldest first', () => {
    const counter = new UsageCounter();
    counter.count('echo', new Date('2025-03-01T12:35:10Z'));
    counter.count('echo', new Date('2025-03-01T12:34:10Z'));
    counter.count('echo', new Date('2025-03-01T12:34:59.999Z'));
    counter.count('billing', new Date('2025-03-01T12:34:00Z'));
    counter.count(undefined, new Date('2025-03-01T12:34:30Z'));
    expect(counter.drain()).toEqual([
      { timestamp: '2025-03-01T12:34:00Z', requests: 1 },
      { timestamp: '2025-03-01T12:34:00Z', requests: 1, service: 'billing' },
      { timestamp: '2025-03-01T12:34:00Z', requests: 2, service: 'echo' },
      { timestamp: '2025-03-01T12:35:00Z', requests: 1, service: 'echo' },
    ]);
  });

  it('starts again from zero after a drain', () => {
    const counter = new UsageCounter();
    expect(counter.isEmpty()).toBe(true);
    counter.count('echo', new Date('2025-03-01T12:34:10Z'));
    expect(counter.isEmpty()).toBe(false);
    expect(counter.drain()).toHaveLength(1);
    expect(counter.isEmpty()).toBe(true);
    expect(counter.drain()).toEqual([]);
  });

  it('takes drained records back, adding to what was counted since', () => {
    const counter = new UsageCounter();
    counter.count('echo', new Date('2025-03-01T12:34:10Z'));
    const drained = counter.drain();
    counter.count('echo', new Date('2025-03-01T12:34:20Z'));
    for (const record of drained) counter.add(record);
    expect(counter.drain()).toEqual([{ timestamp: '2025-03-01T12:34:00Z', requests: 2, service: 'echo' }]);
  });
});

describe('reports', () => {
  it('makes ids unique per run and sorting in order', () => {
    const next = reportIdSequence(new Date('2025-03-01T12:34:56.789Z'), 'a1b2c3d4');
    const ids = [next(), next(), next()];
    expect(ids[0]).toBe('20250301T123456Z-a1b2c3d4-000001');
    expect(ids).toEqual([...ids].sort());
    expect(new Set(ids).size).toBe(3);
    const other = reportIdSequence(new Date('2025-03-01T12:34:56.789Z'), 'ffffffff');
    expect(other()).not.toBe(ids[0]);
  });

  it('builds one report of the records with a new id, and none when there is nothing', () => {
    const next = reportIdSequence(new Date('2025-03-01T12:00:00Z'), '00000000');
    const records: UsageRecord[] = [
      { timestamp: '2025-03-01T12:34:00Z', requests: 120, service: 'echo' },
      { timestamp: '2025-03-01T12:35:00Z', requests: 17, service: 'echo' },
    ];
    const reports = buildReports(records, next);
    expect(reports).toEqual([{ report_id: '20250301T120000Z-00000000-000001', usage: records }]);
    expect(reportRequests(reports[0])).toBe(137);
    expect(buildReports([], next)).toEqual([]);
  });

  it('splits many records over several reports, keeping every request', () => {
    const next = reportIdSequence(new Date('2025-03-01T12:00:00Z'), '00000000');
    const records = Array.from({ length: maxRecordsPerReport * 2 + 1 }, (_, index) => ({
      timestamp: '2025-03-01T12:34:00Z',
      requests: 1,
      service: `service-${index}`,
    }));
    const reports = buildReports(records, next);
    expect(reports.map((report) => report.usage.length)).toEqual([maxRecordsPerReport, maxRecordsPerReport, 1]);
    expect(new Set(reports.map((report) => report.report_id)).size).toBe(3);
    expect(reports.reduce((sum, report) => sum + reportRequests(report), 0)).toBe(records.length);
  });
});

describe('backoffDelay', () => {
  it('doubles from the base on each failure and stops at the cap', () => {
    const delays = [1, 2, 3, 4, 5, 6, 7, 8].map((failures) => backoffDelay(failures, 1_000, 60_000, 1));
    expect(delays).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000]);
    expect(backoffDelay(1_000, 1_000, 60_000, 1)).toBe(60_000);
  });

  it('scales by a jitter between half and all of the delay', () => {
    expect(backoffDelay(3, 1_000, 60_000, 0)).toBe(2_000);
    expect(backoffDelay(3, 1_000, 60_000, 0.5)).toBe(3_000);
  });
});
