import { randomBytes } from 'node:crypto';
import { inArray } from 'drizzle-orm';
import { bulkInsert } from '../../db/bulk.ts';
import { testProviderCharges } from '../../db/schema/index.ts';
import type { ChargeResult, PaymentProvider } from './payments.ts';

/** The test cards of spec 5 and how each behaves. */
const CARDS: Record<string, 'succeeds' | 'declined' | 'fails'> = {
  '4242424242424242': 'succeeds',
  '4000000000000002': 'declined',
  '4000000000000341': 'fails',
};

function brandOf(number: string): string {
  if (number.startsWith('4')) return 'visa';
  if (/^5[1-5]/.test(number)) return 'mastercard';
  if (/^3[47]/.test(number)) return 'amex';
  return 'card';
}

/** Luhn check: a mistyped number is refused before anything else. */
export function isLuhnValid(number: string): boolean {
  let sum = 0;
  for (let i = 0; i < number.length; i++) {
    let digit = number.charCodeAt(number.length - 1 - i) - 48;
    if (i % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}

/**
 * The default provider: no network. Its ledger lives in the database, keyed by idempotency key, so a
 * charge repeated after a crash is found rather than made again.
 */
export function createTestProvider(): PaymentProvider {
  return {
    name: 'test',
    async verifyCard(card) {
      const number = card.number.replace(/[\s-]/g, '');
      if (!/^\d{12,19}$/.test(number) || !isLuhnValid(number)) {
        return { ok: false, code: 'invalid_card_number', message: 'The card number is not valid.' };
      }
      const behaviour = CARDS[number] ?? 'succeeds';
      if (behaviour === 'declined') return { ok: false, code: 'card_declined', message: 'The card was declined.' };
      return {
        ok: true,
        card: {
          brand: brandOf(number),
          last4: number.slice(-4),
          expMonth: card.expMonth,
          expYear: card.expYear,
          providerRef: `testcard_${behaviour}_${randomBytes(6).toString('hex')}`,
        },
      };
    },
    async chargeMany(executor, requests) {
      if (requests.length === 0) return [];
      const existing = await executor
        .select({ key: testProviderCharges.idempotencyKey, status: testProviderCharges.status })
        .from(testProviderCharges)
        .where(
          inArray(
            testProviderCharges.idempotencyKey,
            requests.map((request) => request.idempotencyKey),
          ),
        );
      const known = new Map(existing.map((row) => [row.key, row.status]));
      const fresh = requests.filter((request) => !known.has(request.idempotencyKey));
      await bulkInsert(
        executor,
        'test_provider_charges',
        [
          ['idempotency_key', 'text'],
          ['card_ref', 'text'],
          ['amount', 'bigint'],
          ['currency', 'text'],
          ['status', 'text'],
          ['created_at', 'timestamptz'],
        ],
        fresh.map((request) => ({
          idempotency_key: request.idempotencyKey,
          card_ref: request.providerRef,
          amount: request.amount,
          currency: request.currency,
          status: request.providerRef.startsWith('testcard_fails') ? 'failed' : 'succeeded',
          created_at: request.now,
        })),
      );
      return requests.map((request): ChargeResult => {
        const status =
          known.get(request.idempotencyKey) ??
          (request.providerRef.startsWith('testcard_fails') ? 'failed' : 'succeeded');
        return status === 'succeeded'
          ? { status: 'succeeded', providerRef: `ch_${request.idempotencyKey}` }
          : { status: 'failed', failureCode: 'card_declined' };
      });
    },
  };
}
