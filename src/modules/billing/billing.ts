/** Billing rules (spec 3, 4, 5): periods, invoice lines, proration, retries. Pure. */
import { addDays, billingDate, calculationInstant, periodIndexAt, wholeSecondsBetween } from '../../kernel/calendar.ts';
import { overageAmount, proratedFee } from '../../kernel/money.ts';

/** A subscription's price: minor units and request counts as bigint; net_days 0 = charge the card. */
export interface Terms {
  monthlyFee: bigint;
  includedRequests: bigint;
  overagePerMillion: bigint;
  netDays: number;
}

export interface Period {
  index: number;
  start: Date;
  end: Date;
  calculationAt: Date;
}

/** Period k = [B_(k-1), B_k) with its calculation instant C_k = B_k − 72 h. */
export function period(subscriptionStart: Date, index: number): Period {
  const end = billingDate(subscriptionStart, index);
  return {
    index,
    start: billingDate(subscriptionStart, index - 1),
    end,
    calculationAt: calculationInstant(end),
  };
}

/** The period that contains the instant. */
export function periodAt(subscriptionStart: Date, instant: Date): Period {
  return period(subscriptionStart, periodIndexAt(subscriptionStart, instant));
}

export interface Line {
  kind: 'plan_fee' | 'usage';
  description: string;
  quantity: bigint;
  amount: bigint;
}

const formatCount = (value: bigint) => value.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');

function usageLine(terms: Terms, requests: bigint): Line {
  const billable = requests > terms.includedRequests ? requests - terms.includedRequests : 0n;
  return {
    kind: 'usage',
    description: `API requests: ${formatCount(requests)} (${formatCount(terms.includedRequests)} included, ${formatCount(billable)} billed)`,
    quantity: requests,
    amount: overageAmount(requests, terms.includedRequests, terms.overagePerMillion),
  };
}

/** A whole period's invoice: the monthly fee and the usage line. */
export function cycleLines(planName: string, terms: Terms, requests: bigint): Line[] {
  return [
    { kind: 'plan_fee', description: `${planName} plan, monthly fee`, quantity: 1n, amount: terms.monthlyFee },
    usageLine(terms, requests),
  ];
}

const utcMinute = (instant: Date) => `${instant.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
/** Whole seconds as days with two decimals, for a line's description only (amounts stay integers). */
const days = (seconds: bigint) => (Number(seconds) / 86_400).toFixed(2);

/**
 * A period cut short at `endAt`: the fee prorated by whole seconds used, and the usage line. When the
 * period's own invoice was already collected (`feeBilledOn`: a change that waited while the period
 * was charged), its fee is not charged again.
 */
export function finalLines(
  planName: string,
  terms: Terms,
  current: Period,
  endAt: Date,
  requests: bigint,
  feeBilledOn?: string,
): Line[] {
  const used = wholeSecondsBetween(current.start, endAt);
  const whole = wholeSecondsBetween(current.start, current.end);
  const fee: Line = feeBilledOn
    ? {
        kind: 'plan_fee',
        description: `${planName} plan, ${utcMinute(current.start)} to ${utcMinute(endAt)}: already billed on ${feeBilledOn}`,
        quantity: 1n,
        amount: 0n,
      }
    : {
        kind: 'plan_fee',
        description: `${planName} plan, ${utcMinute(current.start)} to ${utcMinute(endAt)} (${days(used)} of ${days(whole)} days)`,
        quantity: 1n,
        amount: proratedFee(terms.monthlyFee, used, whole),
      };
  return [fee, usageLine(terms, requests)];
}

export function total(lines: readonly Line[]): bigint {
  return lines.reduce((sum, line) => sum + line.amount, 0n);
}

/** Failed collections are retried 1, 3 and 7 days after the billing date (spec 5). */
export const RETRY_DAYS = [1, 3, 7] as const;

/** When the next retry is due after `failedAttempts` failures, or null when none is left. */
export function nextRetryAt(billingAt: Date, failedAttempts: number): Date | null {
  const days = RETRY_DAYS[failedAttempts - 1];
  return days === undefined ? null : addDays(billingAt, days);
}

/** Terms as stored in JSON (amounts as strings, never floats). */
export function termsToJson(terms: Terms) {
  return {
    monthly_fee: terms.monthlyFee.toString(),
    included_requests: terms.includedRequests.toString(),
    overage_per_million: terms.overagePerMillion.toString(),
    net_days: terms.netDays,
  };
}

export function termsFromJson(json: unknown): Terms {
  const value = json as Record<string, string | number>;
  return {
    monthlyFee: BigInt(value.monthly_fee),
    includedRequests: BigInt(value.included_requests),
    overagePerMillion: BigInt(value.overage_per_million),
    netDays: Number(value.net_days ?? 0),
  };
}

/** Terms for the API: integer numbers (every realistic amount is a safe integer). */
export function presentTerms(terms: Terms) {
  return {
    monthly_fee: Number(terms.monthlyFee),
    included_requests: Number(terms.includedRequests),
    overage_per_million: Number(terms.overagePerMillion),
    net_days: terms.netDays,
  };
}
