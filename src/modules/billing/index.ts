export { findActiveSubscription, findSubscription, type InvoiceRow } from './billing.repo.ts';
export { calculateDueInvoice } from './calculate-invoice.ts';
export { collectDueInvoice, INVOICE_COLLECTION, INVOICE_RETRY } from './collect-invoice.ts';
export { endSubscriptionIn } from './end-subscription.ts';
export { INVOICE_CALCULATION } from './start-subscription.ts';
