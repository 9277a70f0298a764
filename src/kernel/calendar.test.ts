import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  addMonths,
  billingDate,
  calculationInstant,
  monthStart,
  parseInstant,
  periodIndexAt,
  startOfMonth,
  toRfc3339,
  wholeSecondsBetween,
} from './calendar.ts';

interface AnchorVector {
  start: string;
  billing_dates: string[];
  calculation_dates: string[];
}

// Reference values computed independently of this code (SPEC section 3).
const vectors = JSON.parse(readFileSync(new URL('../../../shared/vectors/billing.json', import.meta.url), 'utf8')) as {
  anchors: AnchorVector[];
};

const at = (text: string) => new Date(text);
const iso = (instant: Date) => instant.toISOString();

describe('billing dates and calculation instants from vectors/billing.json', () => {
  it('has anchors to check', () => {
    expect(vectors.anchors.length).toBeGreaterThan(0);
  });

  describe.each(vectors.anchors)('anchor $start', (anchor) => {
    const start = at(anchor.start);

    it('B_k = billingDate(S, k) = addMonths(S, k) for every k', () => {
      expect(anchor.billing_dates.length).toBeGreaterThan(0);
      anchor.billing_dates.forEach((expected, index) => {
        const k = index + 1;
        expect(iso(billingDate(start, k)), `k=${k}`).toBe(expected);
        expect(iso(addMonths(start, k)), `k=${k}`).toBe(expected);
      });
    });

    it('C_k = calculationInstant(B_k) for every k', () => {
      expect(anchor.calculation_dates).toHaveLength(anchor.billing_dates.length);
      anchor.calculation_dates.forEach((expected, index) => {
        const k = index + 1;
        expect(iso(calculationInstant(billingDate(start, k))), `k=${k}`).toBe(expected);
      });
    });

    it('every B_k starts period k+1, and the instant before it is still in period k', () => {
      anchor.billing_dates.forEach((text, index) => {
        const k = index + 1;
        const billingAt = at(text);
        expect(periodIndexAt(start, billingAt), `B_${k}`).toBe(k + 1);
        expect(periodIndexAt(start, new Date(billingAt.getTime() - 1)), `B_${k} - 1 ms`).toBe(k);
      });
    });
  });
});

describe('addMonths', () => {
  it('clamps Jan 31 to the end of each month, always from the anchor (2027, not leap)', () => {
    const start = at('2027-01-31T10:00:00.000Z');
    expect(iso(addMonths(start, 1))).toBe('2027-02-28T10:00:00.000Z');
    expect(iso(addMonths(start, 2))).toBe('2027-03-31T10:00:00.000Z');
    expect(iso(addMonths(start, 3))).toBe('2027-04-30T10:00:00.000Z');
    expect(iso(addMonths(start, 4))).toBe('2027-05-31T10:00:00.000Z');
  });

  it('clamps Jan 31 to Feb 29 in a leap year, then back to Mar 31 and Apr 30', () => {
    const start = at('2028-01-31T00:00:00.000Z');
    expect(iso(addMonths(start, 1))).toBe('2028-02-29T00:00:00.000Z');
    expect(iso(addMonths(start, 2))).toBe('2028-03-31T00:00:00.000Z');
    expect(iso(addMonths(start, 3))).toBe('2028-04-30T00:00:00.000Z');
  });

  it('is not chained: adding months to a clamped date would drift, the anchor does not', () => {
    const start = at('2027-01-31T00:00:00.000Z');
    const chained = addMonths(addMonths(start, 1), 1);
    expect(iso(chained)).toBe('2027-03-28T00:00:00.000Z');
    expect(iso(addMonths(start, 2))).toBe('2027-03-31T00:00:00.000Z');
  });

  it('takes Feb 29 2028 + 12 months to Feb 28 2029, and + 48 months to Feb 29 2032', () => {
    const start = at('2028-02-29T09:15:00.000Z');
    expect(iso(addMonths(start, 12))).toBe('2029-02-28T09:15:00.000Z');
    expect(iso(addMonths(start, 13))).toBe('2029-03-29T09:15:00.000Z');
    expect(iso(addMonths(start, 48))).toBe('2032-02-29T09:15:00.000Z');
  });

  it('keeps the time of day and the milliseconds', () => {
    const start = at('2027-01-30T23:59:59.999Z');
    expect(iso(addMonths(start, 1))).toBe('2027-02-28T23:59:59.999Z');
    expect(iso(addMonths(start, 5))).toBe('2027-06-30T23:59:59.999Z');
    expect(iso(addMonths(at('2027-03-15T00:00:00.001Z'), 1))).toBe('2027-04-15T00:00:00.001Z');
  });

  it('crosses year ends forwards and backwards, and 0 months is the anchor itself', () => {
    const start = at('2027-12-31T23:00:00.000Z');
    expect(iso(addMonths(start, 0))).toBe('2027-12-31T23:00:00.000Z');
    expect(iso(addMonths(start, 2))).toBe('2028-02-29T23:00:00.000Z');
    expect(iso(addMonths(start, 25))).toBe('2030-01-31T23:00:00.000Z');
    expect(iso(addMonths(start, -1))).toBe('2027-11-30T23:00:00.000Z');
    expect(iso(addMonths(start, -12))).toBe('2026-12-31T23:00:00.000Z');
    expect(iso(addMonths(at('2028-03-31T00:00:00.000Z'), -1))).toBe('2028-02-29T00:00:00.000Z');
  });

  it('handles years below 100 as themselves, not as 19xx', () => {
    expect(iso(addMonths(at('0099-12-31T12:00:00.000Z'), 2))).toBe('0100-02-28T12:00:00.000Z');
    expect(iso(addMonths(at('0050-01-31T00:00:00.000Z'), 1))).toBe('0050-02-28T00:00:00.000Z');
    expect(iso(addMonths(at('0004-01-31T00:00:00.000Z'), 1))).toBe('0004-02-29T00:00:00.000Z');
  });

  it('refuses a fractional number of months', () => {
    expect(() => addMonths(at('2027-01-01T00:00:00.000Z'), 1.5)).toThrow(RangeError);
  });
});

describe('calculationInstant', () => {
  it('is exactly 72 hours before the billing date, across month ends and in leap years', () => {
    expect(iso(calculationInstant(at('2028-03-01T00:00:00.000Z')))).toBe('2028-02-27T00:00:00.000Z');
    expect(iso(calculationInstant(at('2027-03-01T00:00:00.000Z')))).toBe('2027-02-26T00:00:00.000Z');
    expect(iso(calculationInstant(at('2028-01-02T12:34:56.789Z')))).toBe('2027-12-30T12:34:56.789Z');
  });
});

describe('periodIndexAt', () => {
  const start = at('2027-01-31T10:00:00.000Z');

  it('puts the subscription start itself in period 1', () => {
    expect(periodIndexAt(start, start)).toBe(1);
  });

  it('puts B_k in period k+1 and B_k − 1 ms in period k', () => {
    const b1 = at('2027-02-28T10:00:00.000Z');
    expect(periodIndexAt(start, b1)).toBe(2);
    expect(periodIndexAt(start, at('2027-02-28T09:59:59.999Z'))).toBe(1);
    const b2 = at('2027-03-31T10:00:00.000Z');
    expect(periodIndexAt(start, b2)).toBe(3);
    expect(periodIndexAt(start, at('2027-03-31T09:59:59.999Z'))).toBe(2);
  });

  it('counts a clamped month correctly: Mar 28 is still period 2 for a Jan 31 anchor', () => {
    expect(periodIndexAt(start, at('2027-03-28T10:00:00.000Z'))).toBe(2);
    expect(periodIndexAt(start, at('2027-03-31T10:00:00.001Z'))).toBe(3);
  });

  it('works far ahead and with a time of day later than the instant', () => {
    const lateStart = at('2027-01-15T23:00:00.000Z');
    expect(periodIndexAt(lateStart, at('2027-02-15T22:59:59.999Z'))).toBe(1);
    expect(periodIndexAt(lateStart, at('2027-02-15T23:00:00.000Z'))).toBe(2);
    expect(periodIndexAt(lateStart, at('2037-01-15T23:00:00.000Z'))).toBe(121);
    expect(periodIndexAt(lateStart, at('2037-01-15T22:59:59.999Z'))).toBe(120);
  });

  it('agrees with billingDate on every period of a leap-day anchor', () => {
    const leap = at('2028-02-29T09:15:00.000Z');
    for (let k = 1; k <= 60; k++) {
      const periodStart = billingDate(leap, k - 1);
      const periodEnd = billingDate(leap, k);
      expect(periodIndexAt(leap, periodStart), `start of P_${k}`).toBe(k);
      expect(periodIndexAt(leap, new Date(periodEnd.getTime() - 1)), `end of P_${k}`).toBe(k);
    }
  });

  it('refuses an instant before the subscription start', () => {
    expect(() => periodIndexAt(start, at('2027-01-31T09:59:59.999Z'))).toThrow(RangeError);
  });
});

describe('wholeSecondsBetween', () => {
  it('counts whole seconds, flooring the milliseconds', () => {
    const a = at('2027-02-28T10:00:00.000Z');
    expect(wholeSecondsBetween(a, a)).toBe(0n);
    expect(wholeSecondsBetween(a, at('2027-02-28T10:00:00.999Z'))).toBe(0n);
    expect(wholeSecondsBetween(a, at('2027-02-28T10:00:01.000Z'))).toBe(1n);
    expect(wholeSecondsBetween(a, at('2027-02-28T10:00:01.999Z'))).toBe(1n);
    expect(wholeSecondsBetween(a, at('2027-03-31T09:59:59.999Z'))).toBe(2_678_399n);
    expect(wholeSecondsBetween(a, at('2027-03-31T10:00:00.000Z'))).toBe(2_678_400n);
  });

  it('counts a leap-year February as 29 days', () => {
    expect(wholeSecondsBetween(at('2028-02-01T00:00:00.000Z'), at('2028-03-01T00:00:00.000Z'))).toBe(29n * 86_400n);
    expect(wholeSecondsBetween(at('2027-02-01T00:00:00.000Z'), at('2027-03-01T00:00:00.000Z'))).toBe(28n * 86_400n);
  });

  it('floors towards earlier when the end is before the start', () => {
    const a = at('2027-01-01T00:00:00.000Z');
    expect(wholeSecondsBetween(a, at('2026-12-31T23:59:59.999Z'))).toBe(-1n);
  });
});

describe('parseInstant', () => {
  it.each([
    ['2027-01-31T10:00:00Z', '2027-01-31T10:00:00.000Z'],
    ['2027-01-31T10:00:00.123Z', '2027-01-31T10:00:00.123Z'],
    ['2027-01-31T10:00:00.1Z', '2027-01-31T10:00:00.100Z'],
    ['2027-01-31T10:00:00.123456789Z', '2027-01-31T10:00:00.123Z'],
    ['2027-01-31T10:00:00+02:00', '2027-01-31T08:00:00.000Z'],
    ['2027-01-31T10:00:00-05:30', '2027-01-31T15:30:00.000Z'],
    ['2027-01-01T01:00:00+05:00', '2026-12-31T20:00:00.000Z'],
    ['2027-01-31T10:00:00+00:00', '2027-01-31T10:00:00.000Z'],
    ['2027-01-31t10:00:00z', '2027-01-31T10:00:00.000Z'],
    ['2028-02-29T00:00:00Z', '2028-02-29T00:00:00.000Z'],
    ['2027-12-31T23:59:59.999Z', '2027-12-31T23:59:59.999Z'],
  ])('accepts %s', (text, expected) => {
    expect(parseInstant(text)?.toISOString()).toBe(expected);
  });

  it.each([
    ['garbage', 'not a date'],
    ['empty', ''],
    ['a date alone', '2027-01-31'],
    ['no zone', '2027-01-31T10:00:00'],
    ['no zone, with milliseconds', '2027-01-31T10:00:00.000'],
    ['a space instead of T', '2027-01-31 10:00:00Z'],
    ['no seconds', '2027-01-31T10:00Z'],
    ['a zone without a colon', '2027-01-31T10:00:00+0200'],
    ['Feb 30', '2027-02-30T00:00:00Z'],
    ['Feb 29 outside a leap year', '2027-02-29T00:00:00Z'],
    ['Apr 31', '2027-04-31T00:00:00Z'],
    ['month 13', '2027-13-01T00:00:00Z'],
    ['month 0', '2027-00-10T00:00:00Z'],
    ['day 0', '2027-01-00T00:00:00Z'],
    ['hour 24', '2027-01-01T24:00:00Z'],
    ['minute 60', '2027-01-01T23:60:00Z'],
    ['second 61', '2027-01-01T23:59:61Z'],
    ['an offset of 24 hours', '2027-01-01T00:00:00+24:00'],
    ['an offset with 60 minutes', '2027-01-01T00:00:00+01:60'],
    ['a trailing character', '2027-01-01T00:00:00Zx'],
    ['a leading space', ' 2027-01-01T00:00:00Z'],
    ['a Unix timestamp', '1800000000'],
    ['an RFC 2822 date', 'Sun, 31 Jan 2027 10:00:00 GMT'],
  ])('rejects %s', (_what, text) => {
    expect(parseInstant(text)).toBeUndefined();
  });

  it('round-trips through toRfc3339', () => {
    const instant = at('2028-02-29T23:59:59.999Z');
    expect(toRfc3339(instant)).toBe('2028-02-29T23:59:59.999Z');
    expect(parseInstant(toRfc3339(instant))?.getTime()).toBe(instant.getTime());
  });
});

describe('month starts', () => {
  it("is midnight UTC on the first of the instant's month, on the last millisecond of a month and a leap day", () => {
    expect(iso(startOfMonth(at('2028-02-29T23:59:59.999Z')))).toBe('2028-02-01T00:00:00.000Z');
    expect(iso(startOfMonth(at('2027-01-31T23:59:59.999Z')))).toBe('2027-01-01T00:00:00.000Z');
    expect(iso(startOfMonth(at('2027-03-01T00:00:00.000Z')))).toBe('2027-03-01T00:00:00.000Z');
    expect(iso(startOfMonth(at('2026-12-31T23:59:59.999Z')))).toBe('2026-12-01T00:00:00.000Z');
  });

  it('takes years 0 to 99 literally and refuses a month index outside 0 to 11', () => {
    expect(monthStart(99, 11).getUTCFullYear()).toBe(99);
    expect(iso(monthStart(2029, 0))).toBe('2029-01-01T00:00:00.000Z');
    expect(() => monthStart(2029, 12)).toThrow(RangeError);
    expect(() => monthStart(2029, -1)).toThrow(RangeError);
  });
});
