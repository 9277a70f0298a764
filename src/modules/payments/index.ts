export type { CardInput, ChargeRequest, ChargeResult, PaymentProvider, VerifiedCard } from './payments.ts';
export { createTestProvider } from './test-provider.ts';
