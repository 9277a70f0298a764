import { describe, expect, it } from 'vitest';
import { loggableError, loggableUrl } from './logging.ts';

describe('what the logs keep of a request and of an error', () => {
  it('leaves out the parameters of a failed query (password and token hashes)', () => {
    const error = new Error(
      'Failed query: insert into "users" ("id", "email", "password_hash") values ($1, $2, $3)\nparams: usr_1,ops@example.com,$argon2id$v=19$secret',
    );
    const logged = loggableError(error);
    expect(logged.message).toContain('Failed query: insert into "users"');
    expect(JSON.stringify(logged)).not.toContain('argon2id');
    expect(JSON.stringify(logged)).not.toContain('ops@example.com');
  });

  it('keeps an ordinary error whole', () => {
    expect(loggableError(new Error('connection refused')).message).toBe('connection refused');
  });

  it('replaces secret query values in URLs', () => {
    expect(loggableUrl('/accept-invitation?token=abc&x=1')).toBe('/accept-invitation?token=[redacted]&x=1');
  });
});
