import { describe, expect, it } from 'vitest';
import type { Org, Subscription } from './api.ts';
import { addMonthsFromAnchor, previousPeriodStart } from './billing.ts';
import { formatMoney, formatRelative, minorToDecimal, parseCountInput, parseMoneyInput } from './format.ts';
import { deactivationNotice } from './lifecycle.ts';
import {
  actionLabel,
  canRetryDelivery,
  deliveriesByDay,
  deliveryState,
  dueWithin,
  forecastByDay,
  lastResponseLabel,
  reasonLabel,
} from './support.ts';

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

  it('tells an active free org its projected deactivation within 30 days, as information', () => {
    expect(deactivationNotice(org({}), new Date('2027-05-11T00:00:00.000Z'))).toEqual({
      at: new Date('2027-06-10T00:00:00.000Z'),
      isUrgent: false,
    });
    expect(deactivationNotice(org({}), new Date('2027-05-10T23:59:59.000Z'))).toBeNull();
    expect(deactivationNotice(org({}), new Date('2027-06-02T23:59:59.000Z'))?.isUrgent).toBe(false);
  });

  it('warns within 7 days, and still when the instant has passed but the sweep has not run', () => {
    expect(deactivationNotice(org({}), new Date('2027-06-03T00:00:00.000Z'))?.isUrgent).toBe(true);
    expect(deactivationNotice(org({}), new Date('2027-06-10T00:00:01.000Z'))?.isUrgent).toBe(true);
  });

  it('never shows for paid, deactivated or unprojected orgs', () => {
    const now = new Date('2027-06-09T00:00:00.000Z');
    expect(deactivationNotice(org({ plan: 'plus' }), now)).toBeNull();
    expect(deactivationNotice(org({ plan: 'enterprise' }), now)).toBeNull();
    expect(deactivationNotice(org({ status: 'deactivated' }), now)).toBeNull();
    expect(deactivationNotice(org({ projected_deactivation_at: null }), now)).toBeNull();
  });
});

describe('what people type and read', () => {
  it('parses money typed by a person exactly, as text', () => {
    expect(parseMoneyInput('2,500', 'usd')).toBe(250000);
    expect(parseMoneyInput('19.99', 'usd')).toBe(1999);
    expect(parseMoneyInput('0.5', 'usd')).toBe(50);
    expect(parseMoneyInput('0', 'usd')).toBe(0);
    expect(parseMoneyInput('1500', 'jpy')).toBe(1500);
    expect(parseMoneyInput('19.999', 'usd')).toBeNull();
    expect(parseMoneyInput('-5', 'usd')).toBeNull();
    expect(parseMoneyInput('1e3', 'usd')).toBeNull();
    expect(parseMoneyInput('', 'usd')).toBeNull();
    expect(parseMoneyInput('15.5', 'jpy')).toBeNull();
  });

  it('parses counts with separators', () => {
    expect(parseCountInput('50,000,000')).toBe(50_000_000);
    expect(parseCountInput('0')).toBe(0);
    expect(parseCountInput('1.5')).toBeNull();
    expect(parseCountInput('many')).toBeNull();
  });

  it('says how long ago something happened', () => {
    const now = new Date('2027-06-10T12:00:00.000Z');
    expect(formatRelative('2027-06-10T11:59:30.000Z', now)).toBe('just now');
    expect(formatRelative('2027-06-10T11:57:00.000Z', now)).toBe('3 minutes ago');
    expect(formatRelative('2027-06-10T09:00:00.000Z', now)).toBe('3 hours ago');
    expect(formatRelative('2027-06-09T12:00:00.000Z', now)).toBe('yesterday');
    expect(formatRelative('2027-06-15T12:00:00.000Z', now)).toBe('in 5 days');
    expect(formatRelative('2027-07-10T12:00:00.000Z', now)).toBe('in 30 days');
    expect(formatRelative('2027-09-10T12:00:00.000Z', now)).toBe('in 3 months');
  });
});

describe('support console', () => {
  it('lays the daily counts over every UTC day, zero-filled, with the already due on the first day', () => {
    const days = forecastByDay(
      [
        { day: '2027-06-08', count: 1 },
        { day: '2027-06-09', count: 1 },
        { day: '2027-06-10', count: 1 },
        { day: '2027-06-12', count: 2 },
      ],
      '2027-06-10T12:00:00.000Z',
      '2027-06-13T12:00:00.000Z',
    );
    expect(days).toEqual([
      { day: '2027-06-10', count: 3 },
      { day: '2027-06-11', count: 0 },
      { day: '2027-06-12', count: 2 },
      { day: '2027-06-13', count: 0 },
    ]);
    expect(dueWithin(days, 1)).toBe(3);
    expect(dueWithin(days, 7)).toBe(5);
    expect(forecastByDay([], '2027-06-10T12:00:00.000Z', '2027-06-10T12:00:00.000Z')).toEqual([
      { day: '2027-06-10', count: 0 },
    ]);
  });

  it('reads reasons and actions as words', () => {
    expect(reasonLabel('abuse')).toBe('Abuse');
    expect(reasonLabel('inactivity')).toMatch(/^Inactivity/);
    expect(reasonLabel('Chargeback fraud on three cards')).toBe('Chargeback fraud on three cards');
    expect(reasonLabel('other')).toBe('other');
    expect(reasonLabel('plan_changed_by_sales')).toBe('Plan changed by sales');
    expect(actionLabel('org.deactivated')).toBe('Organization deactivated');
    expect(actionLabel('widget.frobbed')).toBe('Widget frobbed');
  });

  it('lays webhook deliveries per day over every UTC day of the window, pending and sending as waiting', () => {
    const days = deliveriesByDay({
      as_of: '2027-06-12T15:00:00.000Z',
      since: '2027-06-09T00:00:00.000Z',
      days: [
        { day: '2027-06-09', pending: 0, sending: 0, succeeded: 4, failed: 1 },
        { day: '2027-06-11', pending: 2, sending: 1, succeeded: 3, failed: 0 },
      ],
    });
    expect(days).toEqual([
      { day: '2027-06-09', delivered: 4, waiting: 0, failed: 1 },
      { day: '2027-06-10', delivered: 0, waiting: 0, failed: 0 },
      { day: '2027-06-11', delivered: 3, waiting: 3, failed: 0 },
      { day: '2027-06-12', delivered: 0, waiting: 0, failed: 0 },
    ]);
  });

  it('tells a retrying delivery from one not tried yet, and offers Retry for failed ones only', () => {
    const delivery = (status: 'pending' | 'sending' | 'succeeded' | 'failed', attempts: number) => ({
      status,
      attempt_count: attempts,
      last_response_status: attempts > 0 ? 500 : null,
      last_error: attempts > 0 ? 'HTTP 500' : null,
    });
    expect(deliveryState(delivery('pending', 0)).label).toBe('Pending');
    expect(deliveryState(delivery('pending', 2)).label).toBe('Retrying');
    expect(deliveryState(delivery('succeeded', 1)).label).toBe('Delivered');
    expect(deliveryState(delivery('failed', 12)).label).toBe('Failed');
    expect(canRetryDelivery(delivery('failed', 12))).toBe(true);
    expect(canRetryDelivery(delivery('pending', 2))).toBe(true);
    expect(canRetryDelivery(delivery('pending', 0))).toBe(false);
    expect(canRetryDelivery(delivery('sending', 1))).toBe(false);
    expect(canRetryDelivery(delivery('succeeded', 1))).toBe(false);
    expect(lastResponseLabel(delivery('pending', 0))).toBe('No attempt yet');
    expect(lastResponseLabel(delivery('pending', 1))).toBe('HTTP 500');
    expect(lastResponseLabel({ attempt_count: 1, last_response_status: null, last_error: 'ECONNREFUSED' })).toBe(
      'ECONNREFUSED',
    );
  });
});
