export * from './billing.ts';
export * from './identity.ts';
export * from './organizations.ts';
export * from './platform.ts';
export * from './usage.ts';
export * from './webhooks.ts';
