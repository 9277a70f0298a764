export * from './identity.repo.ts';
export * from './identity.ts';
export { hashPassword, verifyPassword } from './passwords.ts';
