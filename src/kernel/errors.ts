/** The one error type of Tierline: a stable code, a sentence for a person, and an HTTP status. */
export class AppError extends Error {
  readonly code: string;
  readonly status: number;
  readonly field: string | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor(
    status: number,
    code: string,
    message: string,
    options: { field?: string; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.name = 'AppError';
    this.status = status;
    this.code = code;
    this.field = options.field;
    this.headers = options.headers;
  }
}

/** Shorthands for the statuses the spec names (section 11). */
export const fail = {
  validation: (field: string, message: string) => new AppError(400, 'validation_failed', message, { field }),
  unauthenticated: (message = 'Log in or send a valid token.') => new AppError(401, 'unauthenticated', message),
  forbidden: (code: string, message: string) => new AppError(403, code, message),
  notFound: (what: string) => new AppError(404, 'not_found', `No such ${what}.`),
  conflict: (code: string, message: string) => new AppError(409, code, message),
  unprocessable: (code: string, message: string) => new AppError(422, code, message),
  tooMany: (message: string, retryAfterSeconds: number) =>
    new AppError(429, 'rate_limited', message, {
      headers: { 'retry-after': String(retryAfterSeconds) },
    }),
};
