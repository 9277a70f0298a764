export {
  findActiveSubscription,
  findSubscription,
  type InvoiceRow,
  linesOf,
  listInvoices,
  listPaymentMethods,
} from './billing.repo.ts';
export { calculateDueInvoices } from './calculate-invoice.ts';
export { collectDueInvoices, INVOICE_COLLECTION, INVOICE_RETRY } from './collect-invoice.ts';
export { endSubscriptionIn } from './end-subscription.ts';
export { presentInvoice, presentPaymentMethod, presentSubscription } from './present.ts';
export { INVOICE_CALCULATION } from './start-subscription.ts';
export { stopBillingIn } from './stop-billing.ts';
