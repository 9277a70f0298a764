import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyBaseLogger, FastifyRequest } from 'fastify';
import { stdSerializers } from 'pino';

/** The header a request id comes in and goes out with. */
export const REQUEST_ID_HEADER = 'x-request-id';

// A token that is safe to log and to echo: no spaces, quotes or control characters, bounded length.
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Whether an incoming request id may be kept as it is (a proxy's or a client's own id). */
export function isSaneRequestId(value: unknown): value is string {
  return typeof value === 'string' && SANE_REQUEST_ID.test(value);
}

// 72 random bits per process, then a counter: unique across processes without the cost of random
// bytes on every request (a request id is a label for logs, not a secret).
const REQUEST_ID_PREFIX = randomBytes(9).toString('base64url');
let requestCount = 0;

/** A new request id: `req_`, this process's random prefix and a counter, 22 characters. */
export function newRequestId(): string {
  requestCount++;
  return `req_${REQUEST_ID_PREFIX}${requestCount.toString(36).padStart(10, '0')}`;
}

/**
 * Fastify's genReqId: keeps a sane `x-request-id` from the caller (so a proxy's id follows the
 * request through the logs), else makes a new one. A repeated header arrives as an array: not kept.
 */
export function requestIdOf(request: IncomingMessage): string {
  const incoming = request.headers[REQUEST_ID_HEADER];
  return isSaneRequestId(incoming) ? incoming : newRequestId();
}

/** The logger for one kind of background work: its lines carry `job` as pino context. */
export function jobLogger(log: FastifyBaseLogger, job: string): FastifyBaseLogger {
  return log.child({ job });
}

// Query parameters whose values are secrets: an invitation link carries its token in the URL.
const SECRET_PARAMETER = /token|secret|password|key|code|signature/i;

/** A URL as logged: the value of every secret-looking query parameter is replaced. */
export function loggableUrl(url: string): string {
  const mark = url.indexOf('?');
  if (mark < 0) return url;
  const pairs = url
    .slice(mark + 1)
    .split('&')
    .map((pair) => {
      const name = pair.split('=', 1)[0];
      return SECRET_PARAMETER.test(name) ? `${name}=[redacted]` : pair;
    });
  return `${url.slice(0, mark)}?${pairs.join('&')}`;
}

/** The request as its log lines show it: never headers (cookies, tokens) nor secret query values. */
export function requestLogFields(request: FastifyRequest) {
  return {
    method: request.method,
    url: loggableUrl(request.url),
    host: request.host,
    remoteAddress: request.ip,
  };
}

// A failed query's message ends with its parameters (password hashes, token hashes, emails).
const QUERY_PARAMETERS = /\nparams: [\s\S]*$/;

/** An error as logged: pino's standard fields, with the parameters of a failed query left out. */
export function loggableError(error: Error) {
  const fields = stdSerializers.err(error);
  if (typeof fields.message === 'string')
    fields.message = fields.message.replace(QUERY_PARAMETERS, '\nparams: [redacted]');
  if (typeof fields.stack === 'string')
    fields.stack = fields.stack.replace(/\nparams: [^\n]*/g, '\nparams: [redacted]');
  return fields;
}
