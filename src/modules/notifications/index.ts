export type { Email, OutboxRow } from './notifications.repo.ts';
export { listOutbox, presentEmail, queueEmail, queueEmails } from './notifications.repo.ts';
