export { createSmtpMailer, DeliveryError, type Mailer, type OutgoingEmail } from './mailer.ts';
export type { Email, OutboxRow } from './notifications.repo.ts';
export { findOrgsEmailedAt, listOutbox, presentEmail, queueEmail, queueEmails } from './notifications.repo.ts';
export { type PruneOutboxOptions, pruneOutbox } from './prune-outbox.ts';
export {
  type DeliveryLog,
  type EmailFailure,
  type SendQueuedEmailsResult,
  sendQueuedEmails,
} from './send-queued-emails.ts';
