import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  cycleOf,
  cycleStart,
  inactivityMilestones,
  inactivityStep,
  nextInactivityCheck,
  nextTrafficCycle,
  projectedDeactivation,
  trafficFloor,
} from './organizations.ts';

// Expected instants are worked out here from spec 7, in milliseconds, never from the rules under test.
const DAY = 86_400_000;
const created = new Date('2027-01-31T10:17:23.456Z');
const C = created.getTime();
const at = (ms: number) => new Date(ms);
const iso = (value: Date | null) => value?.toISOString() ?? null;

/** Instants from 2020 to 2040 at millisecond precision. */
const instant = fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2040, 0, 1) });
/** Offsets up to a year after something, at millisecond precision. */
const offset = fc.integer({ min: 0, max: 365 * DAY });

/**
 * Spec 7 read literally: a free org is inactive at t when nobody logged in during (t − 30 days, t]
 * and no request has an event time in t's cycle or the one before.
 */
function isInactive(createdAt: number, lastLogin: number, latestRequest: number | null, t: number) {
  const cycle = (x: number) => Math.floor((x - createdAt) / (30 * DAY));
  const loggedInRecently = lastLogin > t - 30 * DAY && lastLogin <= t;
  const recentTraffic = latestRequest !== null && cycle(latestRequest) >= cycle(t) - 1;
  return !loggedInRecently && !recentTraffic && t >= lastLogin;
}

describe('cycleOf and cycleStart: 30-day cycles from created_at', () => {
  it('puts the boundaries exactly at created_at + 30c days, to the millisecond', () => {
    expect(cycleOf(created, created)).toBe(0);
    expect(cycleOf(created, at(C + 30 * DAY - 1))).toBe(0);
    expect(cycleOf(created, at(C + 30 * DAY))).toBe(1);
    expect(cycleOf(created, at(C + 60 * DAY - 1))).toBe(1);
    expect(cycleOf(created, at(C + 60 * DAY))).toBe(2);
    expect(cycleOf(created, at(C + 3000 * DAY + 1))).toBe(100);
    expect(iso(cycleStart(created, 0))).toBe('2027-01-31T10:17:23.456Z');
    expect(iso(cycleStart(created, 1))).toBe('2027-03-02T10:17:23.456Z');
    expect(iso(cycleStart(created, 2))).toBe('2027-04-01T10:17:23.456Z');
  });

  it('counts 30 days, not calendar months, across February of a leap year', () => {
    const leap = new Date('2028-02-01T00:00:00.000Z');
    expect(iso(cycleStart(leap, 1))).toBe('2028-03-02T00:00:00.000Z');
    expect(cycleOf(leap, new Date('2028-03-01T23:59:59.999Z'))).toBe(0);
    expect(cycleOf(leap, new Date('2028-03-02T00:00:00.000Z'))).toBe(1);
  });

  it('places every instant in the cycle whose half-open interval holds it', () => {
    fc.assert(
      fc.property(instant, offset, (start, delta) => {
        const createdAt = at(start);
        const t = at(start + delta);
        const cycle = cycleOf(createdAt, t);
        expect(cycle).toBeGreaterThanOrEqual(0);
        expect(cycleStart(createdAt, cycle).getTime()).toBeLessThanOrEqual(t.getTime());
        expect(cycleStart(createdAt, cycle + 1).getTime()).toBeGreaterThan(t.getTime());
        expect(cycleStart(createdAt, cycle + 1).getTime() - cycleStart(createdAt, cycle).getTime()).toBe(30 * DAY);
      }),
    );
  });
});

describe('trafficFloor and nextTrafficCycle', () => {
  it('is none without traffic', () => {
    expect(trafficFloor(created, null)).toBeNull();
  });

  it('is the start of cycle c_u + 2 for a request in cycle c_u', () => {
    expect(trafficFloor(created, created)?.getTime()).toBe(C + 60 * DAY);
    expect(trafficFloor(created, at(C + 20 * DAY))?.getTime()).toBe(C + 60 * DAY);
    expect(trafficFloor(created, at(C + 30 * DAY - 1))?.getTime()).toBe(C + 60 * DAY);
    expect(trafficFloor(created, at(C + 30 * DAY))?.getTime()).toBe(C + 90 * DAY);
    expect(trafficFloor(created, at(C + 45 * DAY))?.getTime()).toBe(C + 90 * DAY);
  });

  it('says a request moves the floor again from the start of the next cycle', () => {
    expect(nextTrafficCycle(created, at(C + 20 * DAY)).getTime()).toBe(C + 30 * DAY);
    expect(nextTrafficCycle(created, at(C + 30 * DAY)).getTime()).toBe(C + 60 * DAY);
  });
});

describe('projectedDeactivation: t* = max(L + 30 days, start of cycle c_u + 2, eligibleSince)', () => {
  it('is created_at + 30 days for a new org with no traffic (creating it counts as a login)', () => {
    const expected = C + 30 * DAY;
    expect(projectedDeactivation({ createdAt: created, lastLoginAt: created, latestRequestAt: null }).getTime()).toBe(
      expected,
    );
    expect(projectedDeactivation({ createdAt: created, lastLoginAt: null, latestRequestAt: null }).getTime()).toBe(
      expected,
    );
  });

  it('follows the last login when it is the later term', () => {
    const login = at(C + 35 * DAY + 12_345);
    const requestInCycle0 = at(C + 5 * DAY);
    expect(
      projectedDeactivation({ createdAt: created, lastLoginAt: login, latestRequestAt: requestInCycle0 }).getTime(),
    ).toBe(C + 65 * DAY + 12_345);
  });

  it('follows traffic when its floor is the later term', () => {
    expect(
      projectedDeactivation({ createdAt: created, lastLoginAt: created, latestRequestAt: at(C + 20 * DAY) }).getTime(),
    ).toBe(C + 60 * DAY);
    expect(
      projectedDeactivation({ createdAt: created, lastLoginAt: created, latestRequestAt: at(C + 30 * DAY) }).getTime(),
    ).toBe(C + 90 * DAY);
  });

  it('never comes before the org became free (a downgrade or a reactivation)', () => {
    const downgrade = at(C + 100 * DAY);
    expect(
      projectedDeactivation({
        createdAt: created,
        lastLoginAt: at(C + 40 * DAY),
        latestRequestAt: null,
        eligibleSince: downgrade,
      }).getTime(),
    ).toBe(downgrade.getTime());
    expect(
      projectedDeactivation({
        createdAt: created,
        lastLoginAt: at(C + 90 * DAY),
        latestRequestAt: null,
        eligibleSince: downgrade,
      }).getTime(),
    ).toBe(C + 120 * DAY);
  });

  it('is the first instant the org is inactive by the literal rule of spec 7', () => {
    fc.assert(
      fc.property(
        instant,
        offset,
        fc.option(offset, { nil: null }),
        fc.integer({ min: 1, max: 200 * DAY }),
        (start, loginDelta, requestDelta, after) => {
          const lastLogin = start + loginDelta;
          const latestRequest = requestDelta === null ? null : start + requestDelta;
          const projected = projectedDeactivation({
            createdAt: at(start),
            lastLoginAt: at(lastLogin),
            latestRequestAt: latestRequest === null ? null : at(latestRequest),
          }).getTime();
          expect(isInactive(start, lastLogin, latestRequest, projected)).toBe(true);
          expect(isInactive(start, lastLogin, latestRequest, projected - 1)).toBe(false);
          // Once inactive, it stays so while nothing happens.
          expect(isInactive(start, lastLogin, latestRequest, projected + after)).toBe(true);
        },
      ),
    );
  });

  it('is the maximum of its terms and equal to one of them', () => {
    fc.assert(
      fc.property(instant, offset, fc.option(offset, { nil: null }), fc.option(offset, { nil: undefined }), (...v) => {
        const [start, loginDelta, requestDelta, eligibleDelta] = v;
        const terms = [
          start + loginDelta + 30 * DAY,
          ...(requestDelta === null ? [] : [start + (Math.floor(requestDelta / (30 * DAY)) + 2) * 30 * DAY]),
          ...(eligibleDelta === undefined ? [] : [start + eligibleDelta]),
        ];
        const projected = projectedDeactivation({
          createdAt: at(start),
          lastLoginAt: at(start + loginDelta),
          latestRequestAt: requestDelta === null ? null : at(start + requestDelta),
          eligibleSince: eligibleDelta === undefined ? undefined : at(start + eligibleDelta),
        }).getTime();
        expect(projected).toBe(Math.max(...terms));
      }),
    );
  });
});

describe('inactivityMilestones and nextInactivityCheck', () => {
  const projected = at(C + 30 * DAY);
  const sevenBefore = C + 23 * DAY;
  const oneBefore = C + 29 * DAY;

  it('are t* − 7 days, t* − 1 day and t*, in order', () => {
    expect(inactivityMilestones(projected).map((d) => d.getTime())).toEqual([sevenBefore, oneBefore, C + 30 * DAY]);
  });

  it('includes a milestone at `from` unless asked for strictly later ones', () => {
    expect(nextInactivityCheck(projected, at(sevenBefore), false)?.getTime()).toBe(sevenBefore);
    expect(nextInactivityCheck(projected, at(sevenBefore), true)?.getTime()).toBe(oneBefore);
    expect(nextInactivityCheck(projected, at(oneBefore), false)?.getTime()).toBe(oneBefore);
    expect(nextInactivityCheck(projected, at(oneBefore), true)?.getTime()).toBe(C + 30 * DAY);
    expect(nextInactivityCheck(projected, projected, false)?.getTime()).toBe(C + 30 * DAY);
    expect(nextInactivityCheck(projected, projected, true)).toBeNull();
  });

  it('finds the next milestone from any instant between them, to the millisecond', () => {
    expect(nextInactivityCheck(projected, created, true)?.getTime()).toBe(sevenBefore);
    expect(nextInactivityCheck(projected, at(sevenBefore - 1), true)?.getTime()).toBe(sevenBefore);
    expect(nextInactivityCheck(projected, at(sevenBefore + 1), false)?.getTime()).toBe(oneBefore);
    expect(nextInactivityCheck(projected, at(oneBefore + 1), false)?.getTime()).toBe(C + 30 * DAY);
    expect(nextInactivityCheck(projected, at(C + 30 * DAY + 1), false)).toBeNull();
  });

  it('for an org that becomes free with less than 7 days to go, only the milestones still ahead', () => {
    expect(nextInactivityCheck(projected, at(C + 25 * DAY), false)?.getTime()).toBe(oneBefore);
  });

  it('is always a milestone at or after `from` (after it when strict), and the first such', () => {
    fc.assert(
      fc.property(instant, fc.integer({ min: -40 * DAY, max: 40 * DAY }), fc.boolean(), (t, delta, strictly) => {
        const from = at(t + delta);
        const next = nextInactivityCheck(at(t), from, strictly);
        const ahead = inactivityMilestones(at(t)).filter((m) => (strictly ? m > from : m >= from));
        expect(next?.getTime() ?? null).toBe(ahead[0]?.getTime() ?? null);
      }),
    );
  });
});

describe('inactivityStep', () => {
  const projected = at(C + 30 * DAY);

  it('warns exactly 7 days and 1 day before t*, and only then', () => {
    expect(inactivityStep(projected, at(C + 23 * DAY))).toEqual({ kind: 'warn', days: 7 });
    expect(inactivityStep(projected, at(C + 29 * DAY))).toEqual({ kind: 'warn', days: 1 });
    for (const instant of [C, C + 23 * DAY - 1, C + 23 * DAY + 1, C + 29 * DAY - 1, C + 29 * DAY + 1]) {
      expect(inactivityStep(projected, at(instant))).toEqual({ kind: 'wait' });
    }
  });

  it('deactivates at t* and after, never a millisecond before', () => {
    expect(inactivityStep(projected, at(C + 30 * DAY - 1))).toEqual({ kind: 'wait' });
    expect(inactivityStep(projected, projected)).toEqual({ kind: 'deactivate' });
    expect(inactivityStep(projected, at(C + 31 * DAY))).toEqual({ kind: 'deactivate' });
  });

  it('agrees with the milestones: a warning at the first two, deactivation at the last', () => {
    fc.assert(
      fc.property(instant, (t) => {
        const [seven, one, last] = inactivityMilestones(at(t));
        expect(inactivityStep(at(t), seven)).toEqual({ kind: 'warn', days: 7 });
        expect(inactivityStep(at(t), one)).toEqual({ kind: 'warn', days: 1 });
        expect(inactivityStep(at(t), last)).toEqual({ kind: 'deactivate' });
      }),
    );
  });
});
