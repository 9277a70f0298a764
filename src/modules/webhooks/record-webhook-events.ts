import type { Executor } from '../../db/client.ts';
import { notifyWorkers } from '../../db/notify.ts';
import { newId } from '../../kernel/ids.ts';
import { insertWebhookEvents } from './webhooks.repo.ts';
import { type AuditedChange, eventsOf } from './webhooks.ts';

/**
 * Writes the webhook events of audited changes, in the caller's transaction (so an event exists
 * exactly when its change committed): one statement for those whose action is a public event type
 * (and a NOTIFY for the workers), none when no action is.
 */
export async function recordWebhookEvents(executor: Executor, changes: readonly AuditedChange[]): Promise<void> {
  const events = eventsOf(changes, () => newId('evt'));
  await insertWebhookEvents(
    executor,
    events.map((event) => ({
      id: event.id,
      orgId: event.change.orgId,
      type: event.type,
      auditEventId: event.change.id,
      payload: event.body,
      createdAt: event.change.createdAt,
    })),
  );
  // Delivered by the next worker pass: wake one at commit rather than within the minute.
  if (events.length > 0) await notifyWorkers(executor);
}
