import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../kernel/errors.ts';

interface ErrorBody {
  error: { code: string; message: string; field?: string };
}

/** The field a schema validation error is about, as a dotted path in the request. */
function fieldOf(error: FastifyError): string | undefined {
  const first = error.validation?.[0];
  if (!first) return undefined;
  const missing = first.params as { missingProperty?: string; additionalProperty?: string } | undefined;
  const path = first.instancePath.replace(/^\//, '').replaceAll('/', '.');
  const leaf = missing?.missingProperty ?? missing?.additionalProperty;
  if (leaf) return path ? `${path}.${leaf}` : leaf;
  return path || undefined;
}

const FASTIFY_CODES: Record<string, { status: number; code: string; message: string }> = {
  FST_ERR_CTP_EMPTY_JSON_BODY: {
    status: 400,
    code: 'invalid_json',
    message: 'The body is empty but the content type says JSON.',
  },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'invalid_json', message: 'The body is not valid JSON.' },
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'body_too_large', message: 'The body is too large.' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    status: 415,
    code: 'unsupported_media_type',
    message: 'Send JSON with Content-Type: application/json.',
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: {
    status: 400,
    code: 'invalid_content_length',
    message: 'The Content-Length does not match the body.',
  },
};

/** Maps every error to the spec's shape; only real faults become a 500, and those are logged. */
export function handleError(error: FastifyError | AppError, request: FastifyRequest, reply: FastifyReply) {
  let status: number;
  let body: ErrorBody;
  if (error instanceof AppError) {
    status = error.status;
    body = { error: { code: error.code, message: error.message, ...(error.field ? { field: error.field } : {}) } };
    if (error.headers) reply.headers(error.headers);
  } else if ((error as FastifyError).validation) {
    const field = fieldOf(error as FastifyError);
    status = 400;
    const where = (error as FastifyError).validationContext ?? 'body';
    body = {
      error: {
        code: 'validation_failed',
        message: `Invalid ${where}: ${field ? `${field} ` : ''}${(error as FastifyError).validation?.[0]?.message ?? 'is not valid'}.`,
        ...(field ? { field } : {}),
      },
    };
  } else if ((error as FastifyError).code && FASTIFY_CODES[(error as FastifyError).code]) {
    const known = FASTIFY_CODES[(error as FastifyError).code];
    status = known.status;
    body = { error: { code: known.code, message: known.message } };
  } else if ((error as FastifyError).statusCode && (error as FastifyError).statusCode! < 500) {
    status = (error as FastifyError).statusCode!;
    body = { error: { code: 'bad_request', message: error.message } };
  } else {
    request.log.error({ err: error }, 'request failed');
    status = 500;
    body = { error: { code: 'internal_error', message: 'Something went wrong on our side. It has been logged.' } };
  }
  return reply.status(status).send(body);
}
