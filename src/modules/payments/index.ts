export type { CardInput, ChargeRequest, ChargeResult, PaymentProvider, VerifiedCard } from './payments.ts';
export { createStripeProvider, type StripeProviderOptions } from './stripe-provider.ts';
export { createTestProvider } from './test-provider.ts';
