export type { Email, OutboxRow } from './notifications.repo.ts';
export { findOrgsEmailedAt, listOutbox, presentEmail, queueEmail, queueEmails } from './notifications.repo.ts';
