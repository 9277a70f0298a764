export { type DeliverOptions, type DeliveryPass, deliverDueWebhooks } from './deliver-webhooks.ts';
export { type PruneWebhookEventsOptions, pruneWebhookEvents } from './prune-webhook-events.ts';
export { recordWebhookEvents } from './record-webhook-events.ts';
export { nextWebhookDueAt } from './webhooks.repo.ts';
export {
  type AuditedChange,
  type EventPayload,
  eventTypeOf,
  signatureHeader,
  verifySignature,
  WEBHOOK_EVENT_TYPES,
  type WebhookEventType,
} from './webhooks.ts';
