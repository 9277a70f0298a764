import { describe, expect, it } from 'vitest';
import type { Org, Subscription } from './api.ts';
import { addMonthsFromAnchor, previousPeriodStart } from './billing.ts';
import { formatMoney, minorToDecimal } from './format.ts';
import { upcomingDeactivation } from './lifecycle.ts';

// The few rules the pages hold themselves: exact money text, the billing anchor for the chart's
// previous period, and when the deactivation banner shows.

describe('money', () => {
  it('turns minor units into an exact decimal, never through a float', () => {
    expect(minorToDecimal(3293, 2)).toBe('32.93');
    expect(minorToDecimal(5, 2)).toBe('0.05');
    expect(minorToDecimal(0, 2)).toBe('0.00');
    expect(minorToDecimal(-1250, 2)).toBe('-12.50');
    expect(minorToDecimal(900719925474099, 2)).toBe('9007199254740.99');
    expect(minorToDecimal(1500, 0)).toBe('1500');
  });

  it('formats amounts in the currency of the object', () => {
    expect(formatMoney(10000, 'usd')).toBe('$100.00');
    expect(formatMoney(3293, 'usd')).toBe('$32.93');
    expect(formatMoney(1500, 'jpy')).toBe('¥1,500');
  });
});

describe('billing anchor', () => {
  const at = (iso: string) => new Date(iso);

  it('counts months from the anchor and clamps to the month end (Jan 31 → Feb 28/29 → Mar 31)', () => {
    const anchor = at('2027-01-31T10:15:00.000Z');
    expect(addMonthsFromAnchor(anchor, 1).toISOString()).toBe('2027-02-28T10:15:00.000Z');
    expect(addMonthsFromAnchor(anchor, 2).toISOString()).toBe('2027-03-31T10:15:00.000Z');
    expect(addMonthsFromAnchor(anchor, 3).toISOString()).toBe('2027-04-30T10:15:00.000Z');
    expect(addMonthsFromAnchor(anchor, 13).toISOString()).toBe('2028-02-29T10:15:00.000Z');
    expect(addMonthsFromAnchor(anchor, -1).toISOString()).toBe('2026-12-31T10:15:00.000Z');
    expect(addMonthsFromAnchor(at('2028-02-29T00:00:00.000Z'), 12).toISOString()).toBe('2029-02-28T00:00:00.000Z');
  });

  it('finds the period before the current one from the anchor', () => {
    const subscription = {
      started_at: '2027-01-31T10:15:00.000Z',
      current_period: { start: '2027-03-31T10:15:00.000Z', end: '2027-04-30T10:15:00.000Z' },
    } as Subscription;
    expect(previousPeriodStart(subscription)?.toISOString()).toBe('2027-02-28T10:15:00.000Z');
    const first = {
      started_at: '2027-03-31T10:15:00.000Z',
      current_period: { start: '2027-03-31T10:15:00.000Z', end: '2027-04-30T10:15:00.000Z' },
    } as Subscription;
    expect(previousPeriodStart(first)?.toISOString()).toBe('2027-02-28T10:15:00.000Z');
  });
});

describe('deactivation banner', () => {
  const org = (overrides: Partial<Org>) =>
    ({
      plan: 'free',
      status: 'active',
      projected_deactivation_at: '2027-06-10T00:00:00.000Z',
      ...overrides,
    }) as Org;

  it('shows within 7 days of the projected deactivation of an active free org', () => {
    expect(upcomingDeactivation(org({}), new Date('2027-06-03T00:00:00.000Z'))?.toISOString()).toBe(
      '2027-06-10T00:00:00.000Z',
    );
    expect(upcomingDeactivation(org({}), new Date('2027-06-02T23:59:59.000Z'))).toBeNull();
  });

  it('never shows for paid, deactivated or unprojected orgs', () => {
    const now = new Date('2027-06-09T00:00:00.000Z');
    expect(upcomingDeactivation(org({ plan: 'plus' }), now)).toBeNull();
    expect(upcomingDeactivation(org({ status: 'deactivated' }), now)).toBeNull();
    expect(upcomingDeactivation(org({ projected_deactivation_at: null }), now)).toBeNull();
  });
});
