import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { wholeSecondsBetween } from './calendar.ts';
import { divideRoundHalfUp, minorUnits, overageAmount, proratedFee, toJsonAmount } from './money.ts';

interface ProrationVector {
  monthly_fee: number;
  period_start: string;
  period_end: string;
  at: string;
  s_used: number;
  s_period: number;
  plan_fee: number;
}

interface OverageVector {
  requests: number;
  included: number;
  overage_per_million: number;
  amount: number;
}

// Reference values computed independently of this code (SPEC sections 3 and 4).
const vectors = JSON.parse(readFileSync(new URL('../../../shared/vectors/billing.json', import.meta.url), 'utf8')) as {
  proration: ProrationVector[];
  overage: OverageVector[];
};

/** Round half away from zero, written differently from the code under test: truncate, then look at the remainder. */
function referenceRoundHalfUp(numerator: bigint, denominator: bigint): bigint {
  const quotient = numerator / denominator;
  const remainder = numerator % denominator;
  const absRemainder = remainder < 0n ? -remainder : remainder;
  const absDenominator = denominator < 0n ? -denominator : denominator;
  if (2n * absRemainder < absDenominator) return quotient;
  const isNegative = numerator < 0n !== denominator < 0n;
  return isNegative ? quotient - 1n : quotient + 1n;
}

describe('proration vectors', () => {
  it('has vectors to check', () => {
    expect(vectors.proration.length).toBeGreaterThan(0);
  });

  it.each(vectors.proration)(
    '$monthly_fee from $period_start to $at of a period ending $period_end → $plan_fee',
    (v) => {
      const periodStart = new Date(v.period_start);
      const sUsed = wholeSecondsBetween(periodStart, new Date(v.at));
      const sPeriod = wholeSecondsBetween(periodStart, new Date(v.period_end));
      expect(sUsed).toBe(BigInt(v.s_used));
      expect(sPeriod).toBe(BigInt(v.s_period));
      expect(proratedFee(BigInt(v.monthly_fee), sUsed, sPeriod)).toBe(BigInt(v.plan_fee));
      expect(proratedFee(BigInt(v.monthly_fee), BigInt(v.s_used), BigInt(v.s_period))).toBe(BigInt(v.plan_fee));
    },
  );
});

describe('overage vectors', () => {
  it('has vectors to check', () => {
    expect(vectors.overage.length).toBeGreaterThan(0);
  });

  it.each(vectors.overage)(
    '$requests requests, $included included, $overage_per_million per million → $amount',
    (v) => {
      expect(overageAmount(BigInt(v.requests), BigInt(v.included), BigInt(v.overage_per_million))).toBe(
        BigInt(v.amount),
      );
    },
  );
});

describe('divideRoundHalfUp', () => {
  it.each([
    [0n, 2n, 0n],
    [1n, 2n, 1n],
    [3n, 2n, 2n],
    [5n, 2n, 3n],
    [-1n, 2n, -1n],
    [-3n, 2n, -2n],
    [-5n, 2n, -3n],
    [1n, -2n, -1n],
    [-1n, -2n, 1n],
    [1n, 3n, 0n],
    [2n, 3n, 1n],
    [-1n, 3n, 0n],
    [-2n, 3n, -1n],
    [7n, 1n, 7n],
    [-7n, 1n, -7n],
    [249n, 500n, 0n],
    [250n, 500n, 1n],
    [749n, 500n, 1n],
    [750n, 500n, 2n],
  ])('%s / %s → %s (halves away from zero)', (numerator, denominator, expected) => {
    expect(divideRoundHalfUp(numerator, denominator)).toBe(expected);
  });

  it('is exact far beyond 2^53', () => {
    const big = 10n ** 40n;
    expect(divideRoundHalfUp(big + 5n, 10n)).toBe(10n ** 39n + 1n);
    expect(divideRoundHalfUp(big + 4n, 10n)).toBe(10n ** 39n);
    expect(divideRoundHalfUp(-(big + 5n), 10n)).toBe(-(10n ** 39n + 1n));
    expect(divideRoundHalfUp(2n ** 64n + 1n, 2n)).toBe(2n ** 63n + 1n);
    expect(divideRoundHalfUp(2n ** 64n - 1n, 2n)).toBe(2n ** 63n);
    expect(divideRoundHalfUp(3n * 2n ** 100n, 3n)).toBe(2n ** 100n);
  });

  it('throws on division by zero', () => {
    expect(() => divideRoundHalfUp(1n, 0n)).toThrow(RangeError);
    expect(() => divideRoundHalfUp(0n, 0n)).toThrow(RangeError);
  });
});

describe('overageAmount', () => {
  it('bills nothing up to the included requests, and below half a minor unit', () => {
    expect(overageAmount(0n, 1_000_000n, 2000n)).toBe(0n);
    expect(overageAmount(999_999n, 1_000_000n, 2000n)).toBe(0n);
    expect(overageAmount(1_000_249n, 1_000_000n, 2000n)).toBe(0n);
    expect(overageAmount(1_000_250n, 1_000_000n, 2000n)).toBe(1n);
  });

  it('is exact for huge request counts', () => {
    const requests = 10n ** 30n;
    expect(overageAmount(requests, 0n, 2000n)).toBe(2n * 10n ** 27n);
    expect(overageAmount(requests + 500_000n, 0n, 1n)).toBe(10n ** 24n + 1n);
  });
});

describe('proratedFee', () => {
  it('is the whole fee for a whole period and nothing for no time', () => {
    expect(proratedFee(10_000n, 2_678_400n, 2_678_400n)).toBe(10_000n);
    expect(proratedFee(10_000n, 0n, 2_678_400n)).toBe(0n);
  });

  it('rounds halves up: 1 × 1/2 → 1, 3 × 1/2 → 2', () => {
    expect(proratedFee(1n, 1n, 2n)).toBe(1n);
    expect(proratedFee(3n, 1n, 2n)).toBe(2n);
  });

  it('is 0 for an empty period rather than dividing by zero', () => {
    expect(proratedFee(10_000n, 0n, 0n)).toBe(0n);
  });

  it('is exact for a huge fee', () => {
    expect(proratedFee(10n ** 30n, 1n, 3n)).toBe(333_333_333_333_333_333_333_333_333_333n);
    expect(proratedFee(10n ** 30n, 2n, 3n)).toBe(666_666_666_666_666_666_666_666_666_667n);
  });
});

describe('minorUnits', () => {
  it('brands integers and bigints', () => {
    expect(minorUnits(0)).toBe(0n);
    expect(minorUnits(1234)).toBe(1234n);
    expect(minorUnits(-5)).toBe(-5n);
    expect(minorUnits(Number.MAX_SAFE_INTEGER)).toBe(9_007_199_254_740_991n);
    expect(minorUnits(10n ** 30n)).toBe(10n ** 30n);
  });

  it.each([
    ['a fraction', 1.5],
    ['a tiny fraction', 0.1 + 0.2],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['an unsafe integer', 2 ** 53],
  ])('refuses %s', (_what, value) => {
    expect(() => minorUnits(value)).toThrow(RangeError);
  });
});

describe('toJsonAmount', () => {
  it('gives a number for every safe integer', () => {
    expect(toJsonAmount(0n)).toBe(0);
    expect(toJsonAmount(4839n)).toBe(4839);
    expect(toJsonAmount(-4839n)).toBe(-4839);
    expect(toJsonAmount(2n ** 53n - 1n)).toBe(Number.MAX_SAFE_INTEGER);
    expect(toJsonAmount(-(2n ** 53n - 1n))).toBe(Number.MIN_SAFE_INTEGER);
  });

  it.each([2n ** 53n, 2n ** 53n + 1n, -(2n ** 53n), 10n ** 30n])(
    'refuses %s, which JSON would not keep exactly',
    (value) => {
      expect(() => toJsonAmount(value)).toThrow(RangeError);
    },
  );
});

describe('properties', () => {
  const nonZero = fc.bigInt().filter((value) => value !== 0n);

  it('divideRoundHalfUp agrees with a truncate-and-compare-remainder reference for any bigints', () => {
    fc.assert(
      fc.property(fc.bigInt(), nonZero, (numerator, denominator) => {
        expect(divideRoundHalfUp(numerator, denominator)).toBe(referenceRoundHalfUp(numerator, denominator));
      }),
      { numRuns: 2000 },
    );
  });

  it('divideRoundHalfUp agrees with sign(x) × Math.round(|x|) where floats are exact', () => {
    // Below 2^20, n/d is never within float error of a half unless it is exactly one.
    const small = fc.integer({ min: -(2 ** 20), max: 2 ** 20 });
    fc.assert(
      fc.property(
        small,
        small.filter((value) => value !== 0),
        (numerator, denominator) => {
          const quotient = numerator / denominator;
          const expected = Math.sign(quotient) * Math.round(Math.abs(quotient));
          expect(divideRoundHalfUp(BigInt(numerator), BigInt(denominator))).toBe(BigInt(expected));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('divideRoundHalfUp is within half of the true quotient: |2(n − q·d)| ≤ |d|', () => {
    fc.assert(
      fc.property(fc.bigInt(), nonZero, (numerator, denominator) => {
        const quotient = divideRoundHalfUp(numerator, denominator);
        const error = 2n * (numerator - quotient * denominator);
        const absError = error < 0n ? -error : error;
        const absDenominator = denominator < 0n ? -denominator : denominator;
        expect(absError <= absDenominator).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('proratedFee stays within [0, monthly fee] when 0 ≤ s_used ≤ s_period', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 15n }),
        fc.bigInt({ min: 1n, max: 10n ** 9n }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (monthlyFee, secondsInPeriod, share) => {
          const secondsUsed = BigInt(Math.floor(Number(secondsInPeriod) * share));
          const fee = proratedFee(monthlyFee, secondsUsed, secondsInPeriod);
          expect(fee >= 0n).toBe(true);
          expect(fee <= monthlyFee).toBe(true);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('proratedFee is the whole fee for a whole period', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 20n }), fc.bigInt({ min: 1n, max: 10n ** 9n }), (fee, seconds) => {
        expect(proratedFee(fee, seconds, seconds)).toBe(fee);
      }),
    );
  });

  it('overageAmount is monotonic in requests and never negative', () => {
    const count = fc.bigInt({ min: 0n, max: 10n ** 15n });
    fc.assert(
      fc.property(
        count,
        count,
        count,
        fc.bigInt({ min: 0n, max: 10n ** 6n }),
        (first, second, included, perMillion) => {
          const [fewer, more] = first <= second ? [first, second] : [second, first];
          const lower = overageAmount(fewer, included, perMillion);
          const higher = overageAmount(more, included, perMillion);
          expect(lower >= 0n).toBe(true);
          expect(lower <= higher).toBe(true);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('overageAmount is monotonic one request at a time around every rounding step', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 12n }),
        fc.bigInt({ min: 0n, max: 10n ** 9n }),
        fc.bigInt({ min: 1n, max: 10n ** 5n }),
        (requests, included, perMillion) => {
          const amount = overageAmount(requests, included, perMillion);
          const next = overageAmount(requests + 1n, included, perMillion);
          expect(next >= amount).toBe(true);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
