export * from './identity.repo.ts';
export * from './identity.ts';
export { listMembers, type Member, presentMember } from './members.ts';
export * from './org-access.ts';
export { hashPassword, verifyPassword } from './passwords.ts';
