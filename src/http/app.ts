import cookie from '@fastify/cookie';
import helmet from '@fastify/helmet';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import Fastify, { type FastifyInstance, LogController } from 'fastify';
import type { DestinationStream } from 'pino';
import type { Deps } from '../deps.ts';
import { fail } from '../kernel/errors.ts';
import { billingRoutes } from '../modules/billing/billing.routes.ts';
import { clockRoutes } from '../modules/clock/clock.routes.ts';
import { identityRoutes } from '../modules/identity/identity.routes.ts';
import { staffRoutes } from '../modules/identity/staff.routes.ts';
import { teamRoutes } from '../modules/identity/team.routes.ts';
import { lifecycleRoutes } from '../modules/lifecycle/index.ts';
import { adminRoutes } from '../modules/organizations/organizations.routes.ts';
import { runtimeRoutes } from '../modules/runtimes/runtimes.routes.ts';
import { usageRoutes } from '../modules/usage/usage.routes.ts';
import { webhookRoutes } from '../modules/webhooks/webhooks.routes.ts';
import { resolveCaller } from './auth.ts';
import './caller.ts';
import { handleError } from './errors.ts';
import { registerIdempotency } from './idempotency.ts';
import { frameworkError, refuseUnstorableInput } from './input-guards.ts';
import { loggableError, REQUEST_ID_HEADER, requestIdOf, requestLogFields } from './logging.ts';
import { createMetrics } from './metrics.ts';
import { operationsRoutes } from './operations.routes.ts';
import { ErrorResponse } from './schemas.ts';
import { webPages } from './web.ts';

export type App = FastifyInstance;

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Refuses cookie-authenticated unsafe requests sent from another site (spec 9). */
function isCrossSite(headers: Record<string, string | string[] | undefined>): boolean {
  const site = headers['sec-fetch-site'];
  if (typeof site === 'string') return site !== 'same-origin' && site !== 'none';
  const origin = headers.origin;
  if (typeof origin !== 'string' || origin === 'null') return typeof origin === 'string';
  try {
    return new URL(origin).host !== headers.host;
  } catch {
    return true;
  }
}

function newAjv(coerceTypes: false | 'array') {
  const ajv = new Ajv.default({
    coerceTypes,
    useDefaults: true,
    removeAdditional: false,
    allErrors: false,
    strict: false,
  });
  addFormats.default(ajv);
  return ajv;
}

/**
 * Builds the whole HTTP app on the given dependencies; nothing is listening yet. Logs go to stdout
 * at `logLevel` (none without it), or to `logStream` when given.
 */
export async function buildApp(
  deps: Deps,
  options: { logLevel?: string; logStream?: DestinationStream } = {},
): Promise<App> {
  const app = Fastify({
    logger: options.logLevel
      ? {
          level: options.logLevel,
          serializers: { req: requestLogFields, err: loggableError },
          ...(options.logStream ? { stream: options.logStream } : {}),
        }
      : false,
    // Request ids: a sane incoming x-request-id is kept, else one is made; logged as `reqId`.
    // Our own onResponse hook writes the one access-log line (with the request's fields).
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: false,
    genReqId: requestIdOf,
    // Behind a load balancer, the client's address (rate limits, audit) comes from X-Forwarded-For.
    // (A number of hops is valid for Fastify; its option type leaves numbers out.)
    trustProxy: deps.config.trustProxy as boolean | string[],
    bodyLimit: 1024 * 1024,
    requestTimeout: 30_000,
    // Answers to malformed URLs skip the hooks: they get the request id here.
    frameworkErrors: (error, request, reply) => {
      reply.header(REQUEST_ID_HEADER, request.id);
      return frameworkError(error, request, reply);
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  // Bodies are JSON and validated strictly; query strings and paths are text and are coerced.
  const strict = newAjv(false);
  const coercing = newAjv('array');
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? strict : coercing).compile(schema));

  app.addSchema(ErrorResponse);
  app.setErrorHandler(handleError);
  app.setNotFoundHandler((request, reply) =>
    reply
      .status(404)
      .send({ error: { code: 'not_found', message: `No route ${request.method} ${request.url.split('?')[0]}.` } }),
  );
  // Security headers on every answer (nosniff, frame and referrer policies, HSTS behind TLS). The
  // pages carry their own Content-Security-Policy (web.ts); JSON answers need none.
  await app.register(helmet, { contentSecurityPolicy: false, crossOriginEmbedderPolicy: false });
  await app.register(cookie);
  await app.register(swagger, {
    openapi: {
      info: { title: 'Tierline API', version: '0.1.0', description: 'The account plane of an API platform.' },
      components: {
        securitySchemes: {
          session: { type: 'apiKey', in: 'cookie', name: 'tierline_session' },
          bearer: { type: 'http', scheme: 'bearer' },
        },
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  app.decorate('metrics', createMetrics(deps, app.log));
  app.decorateRequest('caller', null as never);
  app.decorateRequest('now', null as never);
  // First of the hooks, so every answer carries the request id, errors and 404s included.
  app.addHook('onRequest', async (request, reply) => {
    reply.header(REQUEST_ID_HEADER, request.id);
  });
  // One access-log line per request, when it is answered (Fastify's own pair of lines is off).
  app.addHook('onResponse', async (request, reply) => {
    app.metrics.observeRequest(request, reply);
    request.log.info(
      { req: request, res: { statusCode: reply.statusCode }, responseTime: reply.elapsedTime },
      'request completed',
    );
  });
  app.addHook('onRequest', async (request) => {
    request.now = await deps.clock.now();
    request.caller = { kind: 'anonymous' };
    request.caller = await resolveCaller(deps.db, deps.readCache, request);
    if (
      UNSAFE.has(request.method) &&
      request.caller.kind !== 'anonymous' &&
      !request.headers.authorization &&
      isCrossSite(request.headers)
    ) {
      throw fail.forbidden('cross_site_request', 'Cross-site requests with a session cookie are refused.');
    }
  });
  // A change answered by this process is visible to the next read through it: before the answer
  // goes out, wait until the change notices committed so far (its own included) have arrived.
  app.addHook('onSend', async (request, reply, payload) => {
    if (UNSAFE.has(request.method) && reply.statusCode < 400 && !request.routeOptions.config.skipReadCacheSync) {
      await deps.readCache.sync();
    }
    return payload;
  });
  app.addHook('preValidation', refuseUnstorableInput);
  registerIdempotency(app, deps.db);

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  await app.register(operationsRoutes(deps));
  await app.register(identityRoutes(deps), { prefix: '/v1' });
  await app.register(staffRoutes(deps), { prefix: '/v1' });
  await app.register(teamRoutes(deps), { prefix: '/v1' });
  await app.register(adminRoutes(deps), { prefix: '/v1' });
  await app.register(runtimeRoutes(deps), { prefix: '/v1' });
  await app.register(usageRoutes(deps), { prefix: '/v1' });
  await app.register(billingRoutes(deps), { prefix: '/v1' });
  await app.register(lifecycleRoutes(deps), { prefix: '/v1' });
  await app.register(clockRoutes(deps), { prefix: '/v1' });
  await app.register(webhookRoutes(deps), { prefix: '/v1' });
  await app.register(webPages());
  return app;
}
