/** Calendar arithmetic in UTC: months with anchor clamping, billing dates, whole seconds. */

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

// Computed, not read back from Date.UTC, which maps years 0–99 to 1900–1999.
function daysInMonth(year: number, monthIndex: number): number {
  const isLeapYear = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return monthIndex === 1 && isLeapYear ? 29 : DAYS_IN_MONTH[monthIndex];
}

/**
 * The anchor plus k calendar months, keeping the anchor's time of day and clamping the day to the
 * month's last day. Always computed from the anchor, so Jan 31 → Feb 28 → Mar 31.
 */
export function addMonths(anchor: Date, months: number): Date {
  if (!Number.isInteger(months)) throw new RangeError('months must be an integer');
  const year = anchor.getUTCFullYear();
  const totalMonth = anchor.getUTCMonth() + months;
  const targetYear = year + Math.floor(totalMonth / 12);
  const targetMonth = ((totalMonth % 12) + 12) % 12;
  const day = Math.min(anchor.getUTCDate(), daysInMonth(targetYear, targetMonth));
  // setUTCFullYear keeps the time of day and, unlike Date.UTC, takes years 0–99 literally.
  const result = new Date(anchor.getTime());
  result.setUTCFullYear(targetYear, targetMonth, day);
  return result;
}

/** Midnight UTC on the first day of a month (`monthIndex` 0–11 of `year`, taken literally for years 0–99). */
export function monthStart(year: number, monthIndex: number): Date {
  if (!Number.isInteger(monthIndex) || monthIndex < 0 || monthIndex > 11)
    throw new RangeError('monthIndex must be 0 to 11');
  const start = new Date(0);
  start.setUTCFullYear(year, monthIndex, 1);
  return start;
}

/** Midnight UTC on the first day of the instant's UTC calendar month. */
export function startOfMonth(instant: Date): Date {
  return monthStart(instant.getUTCFullYear(), instant.getUTCMonth());
}

export function addDays(instant: Date, days: number): Date {
  return new Date(instant.getTime() + days * DAY_MS);
}

export function addHours(instant: Date, hours: number): Date {
  return new Date(instant.getTime() + hours * HOUR_MS);
}

/** B_k = S + k months. */
export function billingDate(subscriptionStart: Date, k: number): Date {
  return addMonths(subscriptionStart, k);
}

/** C_k = B_k − 72 hours. */
export function calculationInstant(billingAt: Date): Date {
  return addHours(billingAt, -72);
}

/** The index k ≥ 1 of the period [B_(k-1), B_k) that contains the instant (instant ≥ start). */
export function periodIndexAt(subscriptionStart: Date, instant: Date): number {
  if (instant < subscriptionStart) throw new RangeError('instant before the subscription start');
  const start = subscriptionStart;
  let k = (instant.getUTCFullYear() - start.getUTCFullYear()) * 12 + (instant.getUTCMonth() - start.getUTCMonth());
  k = Math.max(k, 0);
  while (k > 0 && billingDate(start, k) > instant) k--;
  while (billingDate(start, k + 1) <= instant) k++;
  return k + 1;
}

/** Whole seconds from a to b (floor), as the spec's s_used and s_period count them. */
export function wholeSecondsBetween(a: Date, b: Date): bigint {
  return BigInt(Math.floor((b.getTime() - a.getTime()) / 1000));
}

/** RFC 3339 with milliseconds and Z. */
export function toRfc3339(instant: Date): string {
  return instant.toISOString();
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d{1,9})?(?:Z|[+-](\d{2}):(\d{2}))$/i;

/** Parses an RFC 3339 instant; returns undefined when it is not one. */
export function parseInstant(text: string): Date | undefined {
  const match = RFC3339.exec(text);
  if (!match) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number);
  const [offsetHours, offsetMinutes] = [Number(match[7] ?? 0), Number(match[8] ?? 0)];
  // Date would roll 2027-02-30 over to March 2 and accept 24:00, so check each field first.
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month - 1)) return undefined;
  if (hour > 23 || minute > 59 || second > 59 || offsetHours > 23 || offsetMinutes > 59) return undefined;
  const value = new Date(text);
  return Number.isNaN(value.getTime()) ? undefined : value;
}
