/**
 * An independent model of Plus billing (spec 3 and 4) for property tests: its own calendar months,
 * its own rounding, and a simulation of which invoice bills each accepted request. It imports nothing
 * from src, so it is an oracle, not a copy.
 */

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

export interface PlusPrice {
  monthlyFee: bigint;
  includedRequests: bigint;
  overagePerMillion: bigint;
}

/** anchor + k calendar months, keeping the time of day, the day clamped to the month's last day. */
export function addCalendarMonths(anchorMs: number, k: number): number {
  const anchor = new Date(anchorMs);
  const monthIndex = anchor.getUTCFullYear() * 12 + anchor.getUTCMonth() + k;
  const year = Math.floor(monthIndex / 12);
  const month = monthIndex - year * 12;
  // Day 0 of the next month is the last day of this one.
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  const day = Math.min(anchor.getUTCDate(), lastDay);
  const timeOfDay = anchorMs - Date.UTC(anchor.getUTCFullYear(), anchor.getUTCMonth(), anchor.getUTCDate());
  return Date.UTC(year, month, day) + timeOfDay;
}

/** B_k. */
export const billingAt = (startMs: number, k: number) => addCalendarMonths(startMs, k);
/** C_k = B_k − 72 h. */
export const calculationAt = (startMs: number, k: number) => billingAt(startMs, k) - 72 * HOUR;

/** The k ≥ 1 with B_(k-1) ≤ t < B_k. */
export function periodIndexAt(startMs: number, t: number): number {
  let k = 1;
  while (billingAt(startMs, k) <= t) k++;
  return k;
}

/** round_half_up(numerator / denominator) for numerator ≥ 0, denominator > 0, in integers. */
export function roundHalfUp(numerator: bigint, denominator: bigint): bigint {
  return (2n * numerator + denominator) / (2n * denominator);
}

export function overageAmount(price: PlusPrice, requests: bigint): bigint {
  const billable = requests > price.includedRequests ? requests - price.includedRequests : 0n;
  return roundHalfUp(billable * price.overagePerMillion, 1_000_000n);
}

/** The plan fee of a period [start, end) cut short at `at`, by whole seconds. */
export function proratedFee(price: PlusPrice, start: number, end: number, at: number): bigint {
  const used = BigInt(Math.floor((at - start) / SECOND));
  const whole = BigInt(Math.floor((end - start) / SECOND));
  return roundHalfUp(price.monthlyFee * used, whole);
}

/** One accepted request record: when the requests happened, how many, and when it arrived (in order). */
export interface ModelRequest {
  eventAt: number;
  requests: number;
  /** Arrival order: every API call the test makes has the next sequence number. */
  seq: number;
}

export interface ModelSubscription {
  id: string;
  startedAt: number;
  startSeq: number;
  endedAt: number | null;
  endSeq: number | null;
  /** The next cycle invoice to calculate. */
  nextPeriod: number;
}

export interface ModelInvoice {
  subscriptionId: string;
  kind: 'cycle' | 'final';
  period: number;
  periodStart: number;
  periodEnd: number;
  status: 'open' | 'paid' | 'void';
  planFee: bigint;
  usage: bigint;
}

/**
 * The simulation: requests arrive, the clock moves, subscriptions start and end, and each calculation
 * bills every arrived, unbilled request of the subscription with event time in [S, C_k); a downgrade
 * inside [C_k, B_k) voids invoice k, releases what it billed, and the final invoice bills [S, D).
 */
export class BillingModel {
  readonly requests: ModelRequest[] = [];
  readonly subscriptions: ModelSubscription[] = [];
  readonly invoices: ModelInvoice[] = [];
  /** Request index → invoice index that bills it. */
  private readonly billedBy = new Map<number, number>();
  private seq = 0;
  readonly price: PlusPrice;

  constructor(price: PlusPrice) {
    this.price = price;
  }

  nextSeq(): number {
    return ++this.seq;
  }

  get active(): ModelSubscription | undefined {
    return this.subscriptions.find((subscription) => subscription.endedAt === null);
  }

  accept(records: ReadonlyArray<{ eventAt: number; requests: number }>, seq: number) {
    for (const record of records) this.requests.push({ ...record, seq });
  }

  start(id: string, at: number, seq: number) {
    this.subscriptions.push({ id, startedAt: at, startSeq: seq, endedAt: null, endSeq: null, nextPeriod: 1 });
  }

  /** The clock moved to `to`: every calculation due up to it runs, then every collection. */
  advanceTo(to: number) {
    const subscription = this.active;
    if (subscription) {
      while (calculationAt(subscription.startedAt, subscription.nextPeriod) <= to) {
        const k = subscription.nextPeriod++;
        this.bill(
          subscription,
          'cycle',
          k,
          billingAt(subscription.startedAt, k - 1),
          billingAt(subscription.startedAt, k),
          calculationAt(subscription.startedAt, k),
          this.price.monthlyFee,
        );
      }
    }
    for (const invoice of this.invoices) {
      if (invoice.kind === 'cycle' && invoice.status === 'open' && invoice.periodEnd <= to) invoice.status = 'paid';
    }
  }

  end(at: number, seq: number) {
    const subscription = this.active;
    if (!subscription) throw new Error('model: no active subscription to end');
    const k = periodIndexAt(subscription.startedAt, at);
    const periodStart = billingAt(subscription.startedAt, k - 1);
    const periodEnd = billingAt(subscription.startedAt, k);
    const open = this.invoices.findIndex(
      (invoice) =>
        invoice.subscriptionId === subscription.id &&
        invoice.kind === 'cycle' &&
        invoice.period === k &&
        invoice.status === 'open',
    );
    if (open >= 0) {
      this.invoices[open].status = 'void';
      for (const [request, invoice] of [...this.billedBy]) if (invoice === open) this.billedBy.delete(request);
    }
    const fee = proratedFee(this.price, periodStart, periodEnd, at);
    const index = this.bill(subscription, 'final', k, periodStart, at, at, fee);
    this.invoices[index].status = 'paid';
    subscription.endedAt = at;
    subscription.endSeq = seq;
  }

  private bill(
    subscription: ModelSubscription,
    kind: 'cycle' | 'final',
    period: number,
    periodStart: number,
    periodEnd: number,
    before: number,
    planFee: bigint,
  ): number {
    const index = this.invoices.length;
    let usage = 0n;
    this.requests.forEach((request, requestIndex) => {
      if (this.billedBy.has(requestIndex)) return;
      if (request.eventAt < subscription.startedAt || request.eventAt >= before) return;
      this.billedBy.set(requestIndex, index);
      usage += BigInt(request.requests);
    });
    this.invoices.push({
      subscriptionId: subscription.id,
      kind,
      period,
      periodStart,
      periodEnd,
      status: 'open',
      planFee,
      usage,
    });
    return index;
  }

  /**
   * The spec's rule stated directly, as a cross-check of the simulation: an ended subscription
   * [S, D) bills exactly the requests with event time in [S, D) that arrived before it ended.
   */
  billableTo(subscription: ModelSubscription): bigint {
    if (subscription.endedAt === null || subscription.endSeq === null) throw new Error('model: subscription not ended');
    let sum = 0n;
    for (const request of this.requests) {
      if (
        request.eventAt >= subscription.startedAt &&
        request.eventAt < subscription.endedAt &&
        request.seq < subscription.endSeq
      ) {
        sum += BigInt(request.requests);
      }
    }
    return sum;
  }

  totalRequests(): bigint {
    return this.requests.reduce((sum, request) => sum + BigInt(request.requests), 0n);
  }
}
