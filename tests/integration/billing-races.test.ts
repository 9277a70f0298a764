import { like } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testProviderCharges } from '../../src/db/schema/index.ts';
import { billingHelpers, CARD_FAILS, CARD_OK, DAY, expectStatus, iso, ms } from '../helpers/billing.ts';
import { createTestInstance, signUpOwner, type TestInstance } from '../helpers/instance.ts';

// On PostgreSQL these are real races; on the embedded database they run one after the other.
describe('a new card racing a scheduled retry', () => {
  const S = '2027-01-31T10:00:00.000Z';
  const B1 = '2027-02-28T10:00:00.000Z';
  let t: TestInstance;
  let h: ReturnType<typeof billingHelpers>;
  beforeAll(async () => {
    t = await createTestInstance({ start: S });
    h = billingHelpers(t);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('collects the past-due invoice once, with no error on either side', async () => {
    const owners = [];
    for (let i = 0; i < 6; i++) {
      const owner = await signUpOwner(t);
      await h.subscribePlus(owner, CARD_FAILS);
      owners.push(owner);
    }
    await h.advance(iso(ms(B1) + DAY - 1), ...owners);
    const pastDue = [];
    for (const owner of owners) {
      const [invoice] = await h.invoices(owner);
      expect(invoice.status).toBe('past_due');
      pastDue.push(invoice);
    }

    // The first retry falls due at B_1 + 1 day while every owner adds a good card.
    const [advanced, ...cards] = await Promise.all([
      t.call('POST', '/v1/test-clock/advance', { body: { to: iso(ms(B1) + DAY) } }),
      ...owners.map((owner) => h.addCard(owner, CARD_OK)),
    ]);
    expectStatus(advanced, 200);
    expect(advanced.body.failed).toBe(0);
    for (const card of cards) expectStatus(card, 201);

    for (const [index, owner] of owners.entries()) {
      const [invoice] = await h.invoices(owner);
      expect(invoice.status).toBe('paid');
      const charges = await t.deps.db
        .select()
        .from(testProviderCharges)
        .where(like(testProviderCharges.idempotencyKey, `${pastDue[index].id}:%`));
      expect(charges.filter((charge) => charge.status === 'succeeded')).toHaveLength(1);
    }
  });
});
