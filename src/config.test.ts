import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.ts';

/** Expects loadConfig(env) to throw a ConfigError whose message names the variable. */
function expectRefused(env: Record<string, string>, variable: string) {
  let caught: unknown;
  try {
    loadConfig(env);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(ConfigError);
  expect((caught as ConfigError).message).toContain(variable);
  return (caught as ConfigError).message;
}

describe('loadConfig defaults', () => {
  it('runs on port 8080, embedded in ./data, on the real clock, with no admin', () => {
    expect(loadConfig({})).toEqual({
      port: 8080,
      host: '0.0.0.0',
      databaseUrl: undefined,
      dataDir: './data',
      testClock: false,
      testClockStart: undefined,
      adminEmail: undefined,
      adminPassword: undefined,
      workerIntervalMs: 5000,
      smtpUrl: undefined,
      emailFrom: 'Tierline <no-reply@localhost>',
      outboxRetentionDays: 90,
      webhookRetentionDays: 30,
      usageRetentionMonths: 0,
      workerConcurrency: 2,
      trustProxy: false,
      readCache: true,
      logLevel: 'info',
      catalogFile: expect.stringMatching(/config\/catalog\.json$/),
      payments: { provider: 'test' },
    });
  });

  it('treats empty variables as unset', () => {
    expect(
      loadConfig({
        PORT: '',
        DATABASE_URL: '',
        TIERLINE_DATA_DIR: '',
        TIERLINE_TEST_CLOCK: '',
        TIERLINE_TEST_CLOCK_START: '',
        TIERLINE_ADMIN_EMAIL: '',
        TIERLINE_ADMIN_PASSWORD: '',
        TIERLINE_PAYMENTS: '',
        STRIPE_SECRET_KEY: '',
        TIERLINE_STRIPE_API_URL: '',
        TIERLINE_SMTP_URL: '',
        TIERLINE_EMAIL_FROM: '',
        TIERLINE_OUTBOX_RETENTION_DAYS: '',
        TIERLINE_WEBHOOK_RETENTION_DAYS: '',
        TIERLINE_USAGE_RETENTION_MONTHS: '',
      }),
    ).toEqual(loadConfig({}));
  });
});

describe('loadConfig reads every variable', () => {
  it('reads them all together', () => {
    const config = loadConfig({
      PORT: '3000',
      HOST: '127.0.0.1',
      DATABASE_URL: 'postgres://tierline:secret@db.internal:5432/tierline',
      TIERLINE_DATA_DIR: '/var/lib/tierline',
      TIERLINE_TEST_CLOCK: '1',
      TIERLINE_TEST_CLOCK_START: '2027-01-31T10:00:00.000Z',
      TIERLINE_ADMIN_EMAIL: 'admin@example.com',
      TIERLINE_ADMIN_PASSWORD: 'correct-horse-battery',
      TIERLINE_WORKER_INTERVAL_MS: '250',
      TIERLINE_SMTP_URL: 'smtps://mailer:s%40cret@smtp.example.com:465',
      TIERLINE_EMAIL_FROM: 'Example Billing <billing@example.com>',
      TIERLINE_OUTBOX_RETENTION_DAYS: '365',
      TIERLINE_WEBHOOK_RETENTION_DAYS: '7',
      TIERLINE_USAGE_RETENTION_MONTHS: '13',
      TIERLINE_WORKER_CONCURRENCY: '4',
      TIERLINE_TRUST_PROXY: '10.0.0.0/8, 192.168.1.7',
      TIERLINE_READ_CACHE: '0',
      TIERLINE_LOG_LEVEL: 'warn',
      TIERLINE_CATALOG_FILE: '/etc/tierline/catalog.json',
    });
    expect(config).toEqual({
      port: 3000,
      host: '127.0.0.1',
      databaseUrl: 'postgres://tierline:secret@db.internal:5432/tierline',
      dataDir: '/var/lib/tierline',
      testClock: true,
      testClockStart: new Date('2027-01-31T10:00:00.000Z'),
      adminEmail: 'admin@example.com',
      adminPassword: 'correct-horse-battery',
      workerIntervalMs: 250,
      smtpUrl: 'smtps://mailer:s%40cret@smtp.example.com:465',
      emailFrom: 'Example Billing <billing@example.com>',
      outboxRetentionDays: 365,
      webhookRetentionDays: 7,
      usageRetentionMonths: 13,
      workerConcurrency: 4,
      trustProxy: ['10.0.0.0/8', '192.168.1.7'],
      readCache: false,
      logLevel: 'warn',
      catalogFile: '/etc/tierline/catalog.json',
      payments: { provider: 'test' },
    });
  });

  it.each([
    ['0', 0],
    ['1', 1],
    ['8080', 8080],
    ['65535', 65535],
  ])('PORT=%s → %i', (raw, port) => {
    expect(loadConfig({ PORT: raw }).port).toBe(port);
  });

  it.each([
    ['0', 0],
    ['3', 3],
    ['24', 24],
    ['1200', 1200],
  ])('TIERLINE_USAGE_RETENTION_MONTHS=%s → %i (0 keeps all usage)', (raw, months) => {
    expect(loadConfig({ TIERLINE_USAGE_RETENTION_MONTHS: raw }).usageRetentionMonths).toBe(months);
  });

  it('accepts postgresql:// as well as postgres://', () => {
    expect(loadConfig({ DATABASE_URL: 'postgresql://localhost/tierline' }).databaseUrl).toBe(
      'postgresql://localhost/tierline',
    );
  });

  it.each([
    'smtp://127.0.0.1:2525',
    'smtp://mailer:secret@smtp.example.com',
    'smtps://smtp.example.com/',
    'smtp://[::1]:25',
  ])('accepts TIERLINE_SMTP_URL=%s', (raw) => {
    expect(loadConfig({ TIERLINE_SMTP_URL: raw }).smtpUrl).toBe(raw);
  });

  it.each(['no-reply@example.com', '"Example, Inc." <no-reply@example.com>', '<no-reply@example.com>'])(
    'accepts TIERLINE_EMAIL_FROM=%s',
    (raw) => {
      expect(loadConfig({ TIERLINE_EMAIL_FROM: raw }).emailFrom).toBe(raw);
    },
  );

  it('accepts an in-memory data dir', () => {
    expect(loadConfig({ TIERLINE_DATA_DIR: 'memory://' }).dataDir).toBe('memory://');
  });

  it.each([
    ['1', true],
    ['true', true],
    ['0', false],
    ['false', false],
  ])('TIERLINE_TEST_CLOCK=%s → %s', (raw, on) => {
    expect(loadConfig({ TIERLINE_TEST_CLOCK: raw }).testClock).toBe(on);
  });

  it('reads TIERLINE_TEST_CLOCK_START with an offset as the same instant in UTC', () => {
    expect(loadConfig({ TIERLINE_TEST_CLOCK_START: '2027-01-31T12:00:00+02:00' }).testClockStart?.toISOString()).toBe(
      '2027-01-31T10:00:00.000Z',
    );
  });
});

describe('loadConfig refuses bad values, naming the variable', () => {
  it.each(['abc', '70000', '65536', '-1', '80.5', '1e3', '0x50', ' 80', '80 '])('PORT=%j', (raw) => {
    expectRefused({ PORT: raw }, 'PORT');
  });

  it.each(['mysql://x', 'localhost:5432', 'http://postgres/db'])('DATABASE_URL=%s', (raw) => {
    expectRefused({ DATABASE_URL: raw }, 'DATABASE_URL');
  });

  it('does not echo DATABASE_URL, which may hold a password', () => {
    const message = expectRefused({ DATABASE_URL: 'mysql://user:hunter2@x' }, 'DATABASE_URL');
    expect(message).not.toContain('hunter2');
  });

  it.each(['maybe', 'yes', 'on', '2'])('TIERLINE_TEST_CLOCK=%s', (raw) => {
    expectRefused({ TIERLINE_TEST_CLOCK: raw }, 'TIERLINE_TEST_CLOCK');
  });

  it.each(['yesterday', '2027-01-31', '2027-01-31T10:00:00', '2027-02-30T00:00:00Z', '1800000000'])(
    'TIERLINE_TEST_CLOCK_START=%s',
    (raw) => {
      expectRefused({ TIERLINE_TEST_CLOCK: '1', TIERLINE_TEST_CLOCK_START: raw }, 'TIERLINE_TEST_CLOCK_START');
    },
  );

  it('an admin email without a password', () => {
    expectRefused({ TIERLINE_ADMIN_EMAIL: 'admin@example.com' }, 'TIERLINE_ADMIN_PASSWORD');
  });

  it('an admin password without an email', () => {
    expectRefused({ TIERLINE_ADMIN_PASSWORD: 'correct-horse-battery' }, 'TIERLINE_ADMIN_EMAIL');
  });

  it.each(['admin', 'admin@', '@example.com', 'ad min@example.com', 'a@b@c'])('TIERLINE_ADMIN_EMAIL=%s', (raw) => {
    expectRefused(
      { TIERLINE_ADMIN_EMAIL: raw, TIERLINE_ADMIN_PASSWORD: 'correct-horse-battery' },
      'TIERLINE_ADMIN_EMAIL',
    );
  });

  it('a short admin password, without echoing it', () => {
    const message = expectRefused(
      { TIERLINE_ADMIN_EMAIL: 'admin@example.com', TIERLINE_ADMIN_PASSWORD: 'short7!' },
      'TIERLINE_ADMIN_PASSWORD',
    );
    expect(message).not.toContain('short7!');
  });

  it('an admin password over 128 characters', () => {
    expectRefused(
      { TIERLINE_ADMIN_EMAIL: 'admin@example.com', TIERLINE_ADMIN_PASSWORD: 'x'.repeat(129) },
      'TIERLINE_ADMIN_PASSWORD',
    );
  });

  it.each(['loud', 'INFO', 'verbose'])('TIERLINE_LOG_LEVEL=%s', (raw) => {
    expect(() => loadConfig({ TIERLINE_LOG_LEVEL: raw })).toThrow(/TIERLINE_LOG_LEVEL/);
  });

  it('TIERLINE_TRUST_PROXY takes a number of hops', () => {
    expect(loadConfig({ TIERLINE_TRUST_PROXY: '1' }).trustProxy).toBe(1);
    expect(loadConfig({ TIERLINE_TRUST_PROXY: '0' }).trustProxy).toBe(false);
  });

  it.each(['yes', '10.0.0.0/33', '10.0.0.1/8/1', '::1/129', 'proxy.internal'])('TIERLINE_TRUST_PROXY=%s', (raw) => {
    expectRefused({ TIERLINE_TRUST_PROXY: raw }, 'TIERLINE_TRUST_PROXY');
  });

  it.each(['0', '65', 'many'])('TIERLINE_WORKER_CONCURRENCY=%s', (raw) => {
    expectRefused({ TIERLINE_WORKER_CONCURRENCY: raw }, 'TIERLINE_WORKER_CONCURRENCY');
  });

  it.each(['0', '99', 'soon', '3600001'])('TIERLINE_WORKER_INTERVAL_MS=%s', (raw) => {
    expectRefused({ TIERLINE_WORKER_INTERVAL_MS: raw }, 'TIERLINE_WORKER_INTERVAL_MS');
  });

  it.each(['0', '-1', '30d', '3651'])('TIERLINE_WEBHOOK_RETENTION_DAYS and …_OUTBOX_… = %s', (raw) => {
    expectRefused({ TIERLINE_WEBHOOK_RETENTION_DAYS: raw }, 'TIERLINE_WEBHOOK_RETENTION_DAYS');
    expectRefused({ TIERLINE_OUTBOX_RETENTION_DAYS: raw }, 'TIERLINE_OUTBOX_RETENTION_DAYS');
  });

  it.each(['1', '2', '-3', '3.5', '6m', ' 6', '1201', 'all'])('TIERLINE_USAGE_RETENTION_MONTHS=%j', (raw) => {
    const message = expectRefused({ TIERLINE_USAGE_RETENTION_MONTHS: raw }, 'TIERLINE_USAGE_RETENTION_MONTHS');
    expect(message).toContain('0 (keep all usage) or a number of months from 3 to 1200');
  });

  it.each([
    'http://smtp.example.com',
    'smtp.example.com:587',
    'smtp://',
    'smtp://smtp.example.com/relay',
    'smtp://smtp.example.com?pool=true',
    'smtp://smtp.example.com:99999',
  ])('TIERLINE_SMTP_URL=%s', (raw) => {
    expectRefused({ TIERLINE_SMTP_URL: raw }, 'TIERLINE_SMTP_URL');
  });

  it('does not echo TIERLINE_SMTP_URL, which holds the SMTP password', () => {
    const message = expectRefused(
      { TIERLINE_SMTP_URL: 'smtp://mailer:hunter2@smtp.example.com/x' },
      'TIERLINE_SMTP_URL',
    );
    expect(message).not.toContain('hunter2');
  });

  it.each([
    'no-reply',
    'Tierline',
    'Tierline <no-reply>',
    'a@b, c@d',
    'Tierline <no-reply@example.com',
    'Tierline\r\nBcc: x@example.com <no-reply@example.com>',
  ])('TIERLINE_EMAIL_FROM=%j', (raw) => {
    expectRefused({ TIERLINE_EMAIL_FROM: raw }, 'TIERLINE_EMAIL_FROM');
  });

  it('fails with a ConfigError, which main.ts prints as one line', () => {
    expect(() => loadConfig({ PORT: 'abc' })).toThrow(ConfigError);
    expect(() => loadConfig({ PORT: 'abc' })).toThrow(/^PORT must be an integer from 0 to 65535, got "abc"$/);
  });
});

describe('the payment provider', () => {
  it('is the test provider unless TIERLINE_PAYMENTS=stripe', () => {
    expect(loadConfig({}).payments).toEqual({ provider: 'test' });
    expect(loadConfig({ TIERLINE_PAYMENTS: 'test' }).payments).toEqual({ provider: 'test' });
  });

  it('reads the Stripe key and an optional API origin', () => {
    expect(loadConfig({ TIERLINE_PAYMENTS: 'stripe', STRIPE_SECRET_KEY: 'sk_live_51Habc' }).payments).toEqual({
      provider: 'stripe',
      secretKey: 'sk_live_51Habc',
      apiUrl: undefined,
    });
    expect(
      loadConfig({
        TIERLINE_PAYMENTS: 'stripe',
        STRIPE_SECRET_KEY: 'rk_test_51Habc',
        TIERLINE_STRIPE_API_URL: 'http://127.0.0.1:12111',
      }).payments,
    ).toEqual({ provider: 'stripe', secretKey: 'rk_test_51Habc', apiUrl: 'http://127.0.0.1:12111' });
  });

  it('needs STRIPE_SECRET_KEY with stripe, and refuses a publishable key without echoing it', () => {
    expectRefused({ TIERLINE_PAYMENTS: 'stripe' }, 'STRIPE_SECRET_KEY');
    const message = expectRefused(
      { TIERLINE_PAYMENTS: 'stripe', STRIPE_SECRET_KEY: 'pk_live_51Hsecret' },
      'STRIPE_SECRET_KEY',
    );
    expect(message).not.toContain('51Hsecret');
  });

  it('refuses a Stripe key with the test provider, which would take every card and charge nothing', () => {
    const message = expectRefused({ STRIPE_SECRET_KEY: 'sk_live_51Hsecret' }, 'STRIPE_SECRET_KEY');
    expect(message).toContain('TIERLINE_PAYMENTS');
    expect(message).not.toContain('51Hsecret');
  });

  it.each(['paypal', 'Stripe', 'none'])('TIERLINE_PAYMENTS=%s', (raw) => {
    expectRefused({ TIERLINE_PAYMENTS: raw, STRIPE_SECRET_KEY: 'sk_test_x' }, 'TIERLINE_PAYMENTS');
  });

  it.each(['api.stripe.com', 'ftp://127.0.0.1:21', 'https://api.stripe.com/v1', 'https://user:pw@stripe.example'])(
    'TIERLINE_STRIPE_API_URL=%s',
    (raw) => {
      const message = expectRefused(
        { TIERLINE_PAYMENTS: 'stripe', STRIPE_SECRET_KEY: 'sk_test_x', TIERLINE_STRIPE_API_URL: raw },
        'TIERLINE_STRIPE_API_URL',
      );
      expect(message).not.toContain('pw@');
    },
  );
});
