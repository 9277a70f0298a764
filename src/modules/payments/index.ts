export type { CardInput, ChargeResult, PaymentProvider, VerifiedCard } from './payments.ts';
export { createTestProvider } from './test-provider.ts';
