// Money, numbers and dates for the reader: their language, their time zone. The API's money is an
// integer of minor units with a currency; it is formatted from an exact decimal string, never a float.

const locale = () => (typeof navigator === 'undefined' ? 'en-US' : navigator.language || 'en-US');

function fractionDigits(currency: string): number {
  return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
}

/** The amount in minor units as an exact decimal string: 12345 with 2 digits → "123.45". */
export function minorToDecimal(amount: number, digits: number): string {
  const negative = amount < 0;
  const digitsText = String(Math.abs(Math.trunc(amount))).padStart(digits + 1, '0');
  const whole = digitsText.slice(0, digitsText.length - digits);
  const fraction = digits > 0 ? `.${digitsText.slice(digitsText.length - digits)}` : '';
  return `${negative ? '-' : ''}${whole}${fraction}`;
}

/** 12345 usd → "$123.45" (in the reader's language). */
export function formatMoney(amount: number, currency: string): string {
  const code = currency.toUpperCase();
  const decimal = minorToDecimal(amount, fractionDigits(code));
  return new Intl.NumberFormat(locale(), { style: 'currency', currency: code }).format(
    decimal as Intl.StringNumericLiteral,
  );
}

export function formatNumber(value: number): string {
  return new Intl.NumberFormat(locale()).format(value);
}

/** 1200000 → "1.2M" for chart axes. */
export function formatCompact(value: number): string {
  return new Intl.NumberFormat(locale(), { notation: 'compact', maximumFractionDigits: 1 }).format(value);
}

/** A calendar date in the reader's time zone: "Dec 3, 2026". */
export function formatDate(iso: string): string {
  return new Intl.DateTimeFormat(locale(), { year: 'numeric', month: 'short', day: 'numeric' }).format(new Date(iso));
}

/** A date and time in the reader's time zone, with the zone named: "Dec 3, 2026, 10:00 AM UTC". */
export function formatDateTime(iso: string): string {
  return new Intl.DateTimeFormat(locale(), {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: 'numeric',
    minute: '2-digit',
    timeZoneName: 'short',
  }).format(new Date(iso));
}

/** A UTC day bucket of the usage series, labelled as that day (not shifted into the reader's zone). */
export function formatUtcDay(iso: string): string {
  return new Intl.DateTimeFormat(locale(), { month: 'short', day: 'numeric', timeZone: 'UTC' }).format(new Date(iso));
}

/** "Nov 3 – Dec 3, 2026" for a period [start, end). */
export function formatPeriod(start: string, end: string): string {
  const format = new Intl.DateTimeFormat(locale(), { year: 'numeric', month: 'short', day: 'numeric' });
  return format.formatRange(new Date(start), new Date(end));
}

/** Whole days from `from` to `to`, rounded up: "in 3 days". */
export function daysBetween(from: Date, to: Date): number {
  return Math.ceil((to.getTime() - from.getTime()) / 86_400_000);
}

/** "visa" → "Visa". */
export const brandName = (brand: string) => (brand ? brand[0].toUpperCase() + brand.slice(1) : 'Card');

export function countryName(code: string): string {
  try {
    return new Intl.DisplayNames([locale()], { type: 'region' }).of(code) ?? code;
  } catch {
    return code;
  }
}

/** "3 minutes ago", "in 2 days", "just now": how far `iso` is from `now`, in the reader's language. */
export function formatRelative(iso: string, now: Date): string {
  const seconds = (new Date(iso).getTime() - now.getTime()) / 1000;
  const magnitude = Math.abs(seconds);
  if (magnitude < 45) return seconds <= 0 ? 'just now' : 'in a few seconds';
  const format = new Intl.RelativeTimeFormat(locale(), { numeric: 'auto' });
  // From this far on, in that unit: days up to 45 (so "in 30 days", not "next month"), then months.
  const units: [Intl.RelativeTimeFormatUnit, number, number][] = [
    ['year', 540 * 86_400, 365 * 86_400],
    ['month', 45 * 86_400, 30 * 86_400],
    ['day', 86_400, 86_400],
    ['hour', 3_600, 3_600],
    ['minute', 60, 60],
  ];
  for (const [unit, from, size] of units) {
    if (magnitude >= from) return format.format(Math.round(seconds / size), unit);
  }
  return format.format(Math.round(seconds / 60), 'minute');
}

/** The currency's minor-unit digits: 2 for USD, 0 for JPY. */
export function currencyDigits(currency: string): number {
  return fractionDigits(currency.toUpperCase());
}

/**
 * An amount typed by a person ("2,500", "2500.5", "19.99") as an integer of minor units, parsed as
 * text so no float is involved; null when it is not a plain non-negative amount with at most the
 * currency's decimals.
 */
export function parseMoneyInput(text: string, currency: string): number | null {
  const digits = currencyDigits(currency);
  const cleaned = text.trim().replace(/[,\s]/g, '');
  const pattern = digits > 0 ? new RegExp(`^(\\d+)(?:\\.(\\d{0,${digits}}))?$`) : /^(\d+)$/;
  const match = pattern.exec(cleaned);
  if (!match) return null;
  const minor = `${match[1]}${(match[2] ?? '').padEnd(digits, '0')}`.replace(/^0+(?=\d)/, '');
  const value = Number(minor);
  return Number.isSafeInteger(value) ? value : null;
}

/** A whole number typed by a person ("50,000,000"), or null. */
export function parseCountInput(text: string): number | null {
  const cleaned = text.trim().replace(/[,\s_]/g, '');
  if (!/^\d+$/.test(cleaned)) return null;
  const value = Number(cleaned);
  return Number.isSafeInteger(value) ? value : null;
}
