import type { Executor } from '../../db/client.ts';

/** What a verified card leaves on file: never the number or the CVC. */
export interface VerifiedCard {
  brand: string;
  last4: string;
  expMonth: number;
  expYear: number;
  providerRef: string;
}

export interface CardInput {
  number: string;
  expMonth: number;
  expYear: number;
  cvc: string;
}

export interface ChargeRequest {
  providerRef: string;
  amount: bigint;
  currency: string;
  idempotencyKey: string;
  now: Date;
}

export type ChargeResult = { status: 'succeeded'; providerRef: string } | { status: 'failed'; failureCode: string };

/**
 * A payment provider (spec 5). Charges carry an idempotency key: charging twice with one key is one
 * charge, which is what makes a retried or re-run collection safe.
 */
export interface PaymentProvider {
  readonly name: string;
  verifyCard(card: CardInput): Promise<{ ok: true; card: VerifiedCard } | { ok: false; code: string; message: string }>;
  /** Charges many payment methods; one result per request, in order. */
  chargeMany(executor: Executor, requests: readonly ChargeRequest[]): Promise<ChargeResult[]>;
}
