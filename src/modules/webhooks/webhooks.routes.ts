import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { decodeCursor, toPage } from '../../db/pagination.ts';
import type { Deps } from '../../deps.ts';
import { actorOf, requireStaff } from '../../http/auth.ts';
import { bodyOptional, errors, ListQuery } from '../../http/schemas.ts';
import { fail } from '../../kernel/errors.ts';
import { retryWebhookDelivery } from './retry-webhook-delivery.ts';
import {
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  rotateWebhookSecret,
  updateWebhookEndpoint,
} from './webhook-endpoints.ts';
import {
  type AttemptRow,
  countDeliveriesByDay,
  type DeliveryRow,
  type EndpointRow,
  findDelivery,
  findEndpoint,
  findEvent,
  listAttempts,
  listDeliveries,
  listEndpoints,
} from './webhooks.repo.ts';
import { ALL_EVENTS, EVENT_TYPE_NAMES, WEBHOOK_EVENT_TYPES } from './webhooks.ts';

const EndpointParams = Type.Object({
  endpoint_id: Type.String({ minLength: 1, maxLength: 64, description: 'The webhook endpoint id (we_…).' }),
});
const DeliveryParams = Type.Object({
  delivery_id: Type.String({ minLength: 1, maxLength: 64, description: 'The delivery id (whd_…).' }),
});

const Url = Type.String({
  minLength: 1,
  maxLength: 2048,
  description: 'Where events are POSTed: an absolute http:// or https:// URL, without user name, password or fragment.',
});
const Description = Type.String({
  maxLength: 500,
  description: 'A note for staff, e.g. what receives the events. An empty string clears it.',
});
const Events = Type.Array(
  Type.Union([...EVENT_TYPE_NAMES.map((type) => Type.Literal(type)), Type.Literal(ALL_EVENTS)]),
  {
    minItems: 1,
    maxItems: 50,
    description:
      'The event types to receive (see GET /v1/admin/webhook-event-types), or ["*"] for all, present and future.',
  },
);
const Enabled = Type.Boolean({ description: 'Whether events are sent to it. A disabled endpoint gets no delivery.' });

const DELIVERY_STATUSES = ['pending', 'sending', 'succeeded', 'failed'] as const;
const DeliveryStatus = Type.Union(
  DELIVERY_STATUSES.map((status) => Type.Literal(status)),
  { description: 'Only deliveries in this state.' },
);
const DAY_MS = 86_400_000;

function presentEndpoint(endpoint: EndpointRow, options: { secret?: boolean } = {}) {
  return {
    id: endpoint.id,
    url: endpoint.url,
    description: endpoint.description,
    events: endpoint.events,
    enabled: endpoint.enabled,
    created_at: endpoint.createdAt.toISOString(),
    updated_at: endpoint.updatedAt.toISOString(),
    ...(options.secret
      ? {
          secret: endpoint.secret,
          previous_secret_expires_at: endpoint.previousSecretExpiresAt?.toISOString() ?? null,
        }
      : {}),
  };
}

function presentDelivery(delivery: DeliveryRow) {
  return {
    id: delivery.id,
    endpoint_id: delivery.endpointId,
    event_id: delivery.eventId,
    event_type: delivery.eventType,
    org_id: delivery.orgId,
    status: delivery.status,
    attempt_count: delivery.attempts,
    last_attempt_at: delivery.lastAttemptAt?.toISOString() ?? null,
    last_response_status: delivery.lastResponseStatus,
    last_error: delivery.lastError,
    // While sending, the stored instant is the sender's lease, not an attempt.
    next_attempt_at: delivery.status === 'pending' ? (delivery.nextAttemptAt?.toISOString() ?? null) : null,
    retry_until: delivery.retryUntil.toISOString(),
    succeeded_at: delivery.succeededAt?.toISOString() ?? null,
    created_at: delivery.createdAt.toISOString(),
  };
}

function presentAttempt(attempt: AttemptRow) {
  return {
    id: attempt.id,
    attempt: attempt.attempt,
    started_at: attempt.startedAt.toISOString(),
    duration_ms: attempt.durationMs,
    succeeded: attempt.succeeded,
    response_status: attempt.responseStatus,
    response_body: attempt.responseBody,
    error: attempt.error,
  };
}

/** Webhook endpoints, their delivery log and manual retries: admin staff only. */
export function webhookRoutes(deps: Deps) {
  return async (base: FastifyInstance) => {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();
    const { db } = deps;

    app.get(
      '/admin/webhook-event-types',
      { schema: { tags: ['webhooks'], response: errors(401, 403) } },
      async (request) => {
        requireStaff(request, 'admin');
        return {
          data: EVENT_TYPE_NAMES.map((type) => ({ type, description: WEBHOOK_EVENT_TYPES[type] })),
        };
      },
    );

    app.post(
      '/admin/webhook-endpoints',
      {
        schema: {
          tags: ['webhooks'],
          body: Type.Object({
            url: Url,
            description: Type.Optional(Description),
            events: Type.Optional(Events),
            enabled: Type.Optional(Enabled),
          }),
          response: errors(400, 401, 403),
        },
      },
      async (request, reply) => {
        const caller = requireStaff(request, 'admin');
        const endpoint = await createWebhookEndpoint(db, request.now, {
          url: request.body.url,
          description: request.body.description,
          events: request.body.events,
          enabled: request.body.enabled,
          actor: actorOf(caller),
        });
        return reply.status(201).send(presentEndpoint(endpoint, { secret: true }));
      },
    );

    app.get(
      '/admin/webhook-endpoints',
      { schema: { tags: ['webhooks'], querystring: ListQuery, response: errors(400, 401, 403) } },
      async (request) => {
        requireStaff(request, 'admin');
        const limit = request.query.limit ?? 20;
        const rows = await listEndpoints(db, limit + 1, decodeCursor(request.query.cursor));
        return toPage(rows, limit, (row) => presentEndpoint(row));
      },
    );

    app.get(
      '/admin/webhook-endpoints/:endpoint_id',
      { schema: { tags: ['webhooks'], params: EndpointParams, response: errors(401, 403, 404) } },
      async (request) => {
        requireStaff(request, 'admin');
        const endpoint = await findEndpoint(db, request.params.endpoint_id);
        if (!endpoint) throw fail.notFound('webhook endpoint');
        return presentEndpoint(endpoint, { secret: true });
      },
    );

    app.patch(
      '/admin/webhook-endpoints/:endpoint_id',
      {
        schema: {
          tags: ['webhooks'],
          params: EndpointParams,
          body: Type.Object({
            url: Type.Optional(Url),
            description: Type.Optional(Description),
            events: Type.Optional(Events),
            enabled: Type.Optional(Enabled),
          }),
          response: errors(400, 401, 403, 404),
        },
      },
      async (request) => {
        const caller = requireStaff(request, 'admin');
        const endpoint = await updateWebhookEndpoint(db, request.now, {
          id: request.params.endpoint_id,
          url: request.body.url,
          description: request.body.description,
          events: request.body.events,
          enabled: request.body.enabled,
          actor: actorOf(caller),
        });
        return presentEndpoint(endpoint);
      },
    );

    app.delete(
      '/admin/webhook-endpoints/:endpoint_id',
      { schema: { tags: ['webhooks'], params: EndpointParams, response: errors(401, 403, 404) } },
      async (request, reply) => {
        const caller = requireStaff(request, 'admin');
        await deleteWebhookEndpoint(db, request.now, { id: request.params.endpoint_id, actor: actorOf(caller) });
        return reply.status(204).send();
      },
    );

    app.post(
      '/admin/webhook-endpoints/:endpoint_id/rotate-secret',
      {
        schema: {
          tags: ['webhooks'],
          params: EndpointParams,
          body: Type.Object({
            overlap_hours: Type.Optional(
              Type.Integer({
                minimum: 0,
                maximum: 24,
                default: 0,
                description: 'For how many hours the old secret also signs (a second v1), 0 to 24.',
              }),
            ),
          }),
          response: errors(400, 401, 403, 404),
        },
        preValidation: bodyOptional,
      },
      async (request) => {
        const caller = requireStaff(request, 'admin');
        const endpoint = await rotateWebhookSecret(db, request.now, {
          id: request.params.endpoint_id,
          overlapHours: request.body.overlap_hours ?? 0,
          actor: actorOf(caller),
        });
        return presentEndpoint(endpoint, { secret: true });
      },
    );

    app.get(
      '/admin/webhook-endpoints/:endpoint_id/deliveries',
      {
        schema: {
          tags: ['webhooks'],
          params: EndpointParams,
          querystring: Type.Intersect([ListQuery, Type.Object({ status: Type.Optional(DeliveryStatus) })]),
          response: errors(400, 401, 403, 404),
        },
      },
      async (request) => {
        requireStaff(request, 'admin');
        const endpoint = await findEndpoint(db, request.params.endpoint_id);
        if (!endpoint) throw fail.notFound('webhook endpoint');
        const limit = request.query.limit ?? 20;
        const rows = await listDeliveries(db, {
          endpointId: endpoint.id,
          status: request.query.status,
          limit: limit + 1,
          cursor: decodeCursor(request.query.cursor),
        });
        return toPage(rows, limit, presentDelivery);
      },
    );

    app.get(
      '/admin/webhook-endpoints/:endpoint_id/deliveries/daily',
      {
        schema: {
          tags: ['webhooks'],
          params: EndpointParams,
          querystring: Type.Object({
            days: Type.Optional(
              Type.Integer({
                minimum: 1,
                maximum: 90,
                default: 14,
                description: 'How many UTC days to count, today included.',
              }),
            ),
          }),
          response: errors(400, 401, 403, 404),
        },
      },
      async (request) => {
        requireStaff(request, 'admin');
        const endpoint = await findEndpoint(db, request.params.endpoint_id);
        if (!endpoint) throw fail.notFound('webhook endpoint');
        const days = request.query.days ?? 14;
        const today = Math.floor(request.now.getTime() / DAY_MS) * DAY_MS;
        const since = new Date(today - (days - 1) * DAY_MS);
        const counts = await countDeliveriesByDay(db, endpoint.id, since);
        const byDay = new Map<string, Record<(typeof DELIVERY_STATUSES)[number], number>>();
        for (const entry of counts) {
          const day = byDay.get(entry.day) ?? { pending: 0, sending: 0, succeeded: 0, failed: 0 };
          if (Object.hasOwn(day, entry.status)) day[entry.status as keyof typeof day] += entry.count;
          byDay.set(entry.day, day);
        }
        return {
          as_of: request.now.toISOString(),
          since: since.toISOString(),
          days: [...byDay].map(([day, statuses]) => ({ day, ...statuses })),
        };
      },
    );

    app.get(
      '/admin/webhook-deliveries/:delivery_id',
      { schema: { tags: ['webhooks'], params: DeliveryParams, response: errors(401, 403, 404) } },
      async (request) => {
        requireStaff(request, 'admin');
        const delivery = await findDelivery(db, request.params.delivery_id);
        if (!delivery) throw fail.notFound('webhook delivery');
        const [event, attempts] = await Promise.all([findEvent(db, delivery.eventId), listAttempts(db, delivery.id)]);
        return {
          ...presentDelivery(delivery),
          event: event ? JSON.parse(event.payload) : null,
          attempts: attempts.map(presentAttempt),
        };
      },
    );

    app.post(
      '/admin/webhook-deliveries/:delivery_id/retry',
      { schema: { tags: ['webhooks'], params: DeliveryParams, response: errors(401, 403, 404, 409) } },
      async (request) => {
        const caller = requireStaff(request, 'admin');
        const delivery = await retryWebhookDelivery(db, request.now, {
          id: request.params.delivery_id,
          actor: actorOf(caller),
        });
        return presentDelivery(delivery);
      },
    );
  };
}
