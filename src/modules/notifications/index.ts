export type { Email, OutboxRow } from './notifications.repo.ts';
export { listOutbox, presentEmail, queueEmail } from './notifications.repo.ts';
