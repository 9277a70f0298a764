/**
 * What the calendar says must exist at the end, computed here from the spec (sections 3, 5 and 7)
 * with the independent calendar of tests/helpers/billing-model.ts, never from src.
 */
import { billingAt, calculationAt, periodIndexAt, roundHalfUp } from '../helpers/billing-model.ts';
import { DAY } from './world.ts';

export const PLUS_FEE = 10_000n;
export const PLUS_INCLUDED = 1_000_000n;
export const PLUS_PER_MILLION = 2_000n;
export const RETRY_DAYS = [1, 3, 7];
const CYCLE = 30 * DAY;

export { billingAt, calculationAt, periodIndexAt };

/** The usage line amount (spec 3). */
export function overageAmount(requests: bigint): bigint {
  const billable = requests > PLUS_INCLUDED ? requests - PLUS_INCLUDED : 0n;
  return roundHalfUp(billable * PLUS_PER_MILLION, 1_000_000n);
}

/** The final invoice's plan fee: the monthly fee over whole seconds used of the period's whole seconds (spec 4). */
export function proratedFee(periodStart: number, periodEnd: number, at: number): bigint {
  const used = BigInt(Math.floor((at - periodStart) / 1000));
  const whole = BigInt(Math.floor((periodEnd - periodStart) / 1000));
  return roundHalfUp(PLUS_FEE * used, whole);
}

/** The instants a charge of cycle invoice 1 is attempted when every attempt fails: B_1, then the retries. */
export function failingAttempts(startedAt: number): number[] {
  const b1 = billingAt(startedAt, 1);
  return [b1, ...RETRY_DAYS.map((days) => b1 + days * DAY)];
}

/**
 * t* of spec 7: max(L + 30 days, start of cycle c_u + 2) where cycles are 30-day steps from creation
 * and c_u is the cycle of the latest request; and never before the org (last) became free.
 */
export function projectedDeactivation(input: {
  createdAt: number;
  lastLoginAt: number;
  latestRequestAt: number | null;
  freeSince?: number;
}): number {
  let projected = input.lastLoginAt + 30 * DAY;
  if (input.latestRequestAt !== null) {
    const cycle = Math.floor((input.latestRequestAt - input.createdAt) / CYCLE);
    projected = Math.max(projected, input.createdAt + (cycle + 2) * CYCLE);
  }
  if (input.freeSince !== undefined) projected = Math.max(projected, input.freeSince);
  return projected;
}

/** The cycle invoices a subscription started at S and still active at `end` has (k with C_k ≤ end). */
export function calculatedPeriods(startedAt: number, end: number): number[] {
  const periods: number[] = [];
  for (let k = 1; calculationAt(startedAt, k) <= end; k++) periods.push(k);
  return periods;
}
