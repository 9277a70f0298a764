/** Money: integer minor units with a currency. No floats anywhere on the way. */
export type Currency = string;
export type MinorUnits = bigint & { readonly __brand: 'MinorUnits' };

/** Brands an integer as minor units; refuses anything that is not a safe integer. */
export function minorUnits(value: bigint | number): MinorUnits {
  if (typeof value === 'number' && !Number.isSafeInteger(value)) {
    throw new RangeError(`not an integer number of minor units: ${value}`);
  }
  return BigInt(value) as MinorUnits;
}

/** round_half_up(numerator / denominator): nearest integer, halves away from zero, exact. */
export function divideRoundHalfUp(numerator: bigint, denominator: bigint): bigint {
  if (denominator === 0n) throw new RangeError('division by zero');
  const negative = numerator < 0n !== denominator < 0n;
  const n = numerator < 0n ? -numerator : numerator;
  const d = denominator < 0n ? -denominator : denominator;
  const quotient = (2n * n + d) / (2n * d);
  return negative ? -quotient : quotient;
}

/** Overage for a period: max(0, requests − included) × price per million, rounded half up. */
export function overageAmount(requests: bigint, included: bigint, perMillion: bigint): MinorUnits {
  const billable = requests > included ? requests - included : 0n;
  return divideRoundHalfUp(billable * perMillion, 1_000_000n) as MinorUnits;
}

/** A fee prorated by whole seconds used over whole seconds in the period, rounded half up. */
export function proratedFee(monthlyFee: bigint, secondsUsed: bigint, secondsInPeriod: bigint): MinorUnits {
  if (secondsInPeriod <= 0n) return 0n as MinorUnits;
  return divideRoundHalfUp(monthlyFee * secondsUsed, secondsInPeriod) as MinorUnits;
}

/** Serializes minor units for JSON: a number when safe, which is every realistic amount. */
export function toJsonAmount(amount: bigint): number {
  const asNumber = Number(amount);
  if (!Number.isSafeInteger(asNumber)) throw new RangeError('amount exceeds JSON-safe integers');
  return asNumber;
}

/** "USD 1,234.56" for a person: currency code, thousands separators, two decimals. */
export function formatMoney(amount: bigint, currency: string): string {
  const negative = amount < 0n;
  const absolute = negative ? -amount : amount;
  const whole = (absolute / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const cents = (absolute % 100n).toString().padStart(2, '0');
  return `${currency.toUpperCase()} ${negative ? '-' : ''}${whole}.${cents}`;
}
