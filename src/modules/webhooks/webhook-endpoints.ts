import type { Database } from '../../db/client.ts';
import { fail } from '../../kernel/errors.ts';
import { newId, newSecret } from '../../kernel/ids.ts';
import { type Actor, recordAudit } from '../audit/index.ts';
import { deleteEndpoint, type EndpointRow, insertEndpoint, lockEndpoint, updateEndpoint } from './webhooks.repo.ts';
import { checkEndpointUrl, checkEventTypes } from './webhooks.ts';

const HOUR = 3_600_000;

function checkDescription(description: string | undefined): string | null {
  const trimmed = description?.trim() ?? '';
  if (trimmed.length > 500) throw fail.validation('description', 'The description must have at most 500 characters.');
  return trimmed || null;
}

/** What the audit log keeps of an endpoint: never its secret. */
function audited(endpoint: EndpointRow) {
  return {
    url: endpoint.url,
    description: endpoint.description,
    events: endpoint.events,
    enabled: endpoint.enabled,
  };
}

/** Staff add an endpoint; its signing secret (`whsec_…`) is made here. It gets events from now on. */
export async function createWebhookEndpoint(
  db: Database,
  now: Date,
  input: { url: string; description?: string; events?: string[]; enabled?: boolean; actor: Actor },
): Promise<EndpointRow> {
  const url = checkEndpointUrl(input.url);
  const events = checkEventTypes(input.events);
  const description = checkDescription(input.description);
  return db.transaction(async (tx) => {
    const endpoint = await insertEndpoint(tx, {
      id: newId('we'),
      url,
      description,
      events,
      enabled: input.enabled ?? true,
      secret: newSecret('whsec'),
      createdAt: now,
      updatedAt: now,
    });
    await recordAudit(tx, now, {
      orgId: null,
      actor: input.actor,
      action: 'webhook_endpoint.created',
      targetType: 'webhook_endpoint',
      targetId: endpoint.id,
      after: audited(endpoint),
    });
    return endpoint;
  });
}

/**
 * Staff change an endpoint's URL, description, event types or enabled flag. A disabled endpoint gets
 * no delivery for events meanwhile, and its pending deliveries wait until it is enabled again.
 */
export async function updateWebhookEndpoint(
  db: Database,
  now: Date,
  input: { id: string; url?: string; description?: string; events?: string[]; enabled?: boolean; actor: Actor },
): Promise<EndpointRow> {
  const changes: Partial<EndpointRow> = {};
  if (input.url !== undefined) changes.url = checkEndpointUrl(input.url);
  if (input.events !== undefined) changes.events = checkEventTypes(input.events);
  if (input.description !== undefined) changes.description = checkDescription(input.description);
  if (input.enabled !== undefined) changes.enabled = input.enabled;
  return db.transaction(async (tx) => {
    const before = await lockEndpoint(tx, input.id);
    if (!before) throw fail.notFound('webhook endpoint');
    const endpoint = await updateEndpoint(tx, before.id, { ...changes, updatedAt: now });
    await recordAudit(tx, now, {
      orgId: null,
      actor: input.actor,
      action: 'webhook_endpoint.updated',
      targetType: 'webhook_endpoint',
      targetId: endpoint.id,
      before: audited(before),
      after: audited(endpoint),
    });
    return endpoint;
  });
}

/** Staff delete an endpoint, with its deliveries and their log; events already sent stay sent. */
export async function deleteWebhookEndpoint(
  db: Database,
  now: Date,
  input: { id: string; actor: Actor },
): Promise<void> {
  await db.transaction(async (tx) => {
    const endpoint = await lockEndpoint(tx, input.id);
    if (!endpoint) throw fail.notFound('webhook endpoint');
    await deleteEndpoint(tx, endpoint.id);
    await recordAudit(tx, now, {
      orgId: null,
      actor: input.actor,
      action: 'webhook_endpoint.deleted',
      targetType: 'webhook_endpoint',
      targetId: endpoint.id,
      before: audited(endpoint),
    });
  });
}

/**
 * Staff replace an endpoint's secret, as Stripe's "roll secret": with `overlapHours` > 0 the old one
 * also signs (a second `v1`) for that long, so receivers can switch without missing an event.
 */
export async function rotateWebhookSecret(
  db: Database,
  now: Date,
  input: { id: string; overlapHours: number; actor: Actor },
): Promise<EndpointRow> {
  return db.transaction(async (tx) => {
    const before = await lockEndpoint(tx, input.id);
    if (!before) throw fail.notFound('webhook endpoint');
    const overlap = input.overlapHours > 0;
    const endpoint = await updateEndpoint(tx, before.id, {
      secret: newSecret('whsec'),
      previousSecret: overlap ? before.secret : null,
      previousSecretExpiresAt: overlap ? new Date(now.getTime() + input.overlapHours * HOUR) : null,
      updatedAt: now,
    });
    await recordAudit(tx, now, {
      orgId: null,
      actor: input.actor,
      action: 'webhook_endpoint.secret_rotated',
      targetType: 'webhook_endpoint',
      targetId: endpoint.id,
      after: { previous_secret_expires_at: endpoint.previousSecretExpiresAt?.toISOString() ?? null },
    });
    return endpoint;
  });
}
