import type { Database } from '../../db/client.ts';
import { fail } from '../../kernel/errors.ts';
import { type Actor, recordAudit } from '../audit/index.ts';
import { lockInvoicesByIds, updateInvoice } from './billing.repo.ts';

/** Staff settle an invoice paid by bank transfer (Enterprise with net terms). */
export async function markInvoicePaid(
  db: Database,
  now: Date,
  input: { invoiceId: string; actor: Actor; reference?: string },
) {
  return db.transaction(async (tx) => {
    // Staff name the invoice by id alone (invoices_id_idx).
    const [invoice] = await lockInvoicesByIds(tx, [input.invoiceId]);
    if (!invoice) throw fail.notFound('invoice');
    if (invoice.collection !== 'send_invoice') {
      throw fail.conflict('not_payable_by_transfer', 'This invoice is charged to a card, not paid by transfer.');
    }
    if (invoice.status !== 'open' && invoice.status !== 'past_due') {
      throw fail.conflict('invoice_not_payable', `This invoice is ${invoice.status}.`);
    }
    const paid = await updateInvoice(tx, invoice, { status: 'paid', paidAt: now });
    await recordAudit(tx, now, {
      orgId: invoice.orgId,
      actor: input.actor,
      action: 'invoice.marked_paid',
      targetType: 'invoice',
      targetId: invoice.id,
      before: { status: invoice.status },
      after: { status: 'paid', reference: input.reference ?? null },
    });
    return paid;
  });
}
