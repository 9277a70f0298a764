import { isIP } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseInstant } from './kernel/calendar.ts';

/** Everything Tierline reads from the environment, validated once at start. */
export interface Config {
  port: number;
  host: string;
  databaseUrl: string | undefined;
  dataDir: string;
  testClock: boolean;
  testClockStart: Date | undefined;
  adminEmail: string | undefined;
  adminPassword: string | undefined;
  workerIntervalMs: number;
  workerConcurrency: number;
  /** Fastify's trustProxy: which proxies' X-Forwarded-For to believe (false: none). */
  trustProxy: boolean | number | string[];
  /** Keep callers and billing snapshots in memory until a change notice (TIERLINE_READ_CACHE, default on). */
  readCache: boolean;
  logLevel: string;
  catalogFile: string;
  /** The SMTP server that sends the outbox (smtp:// or smtps://, credentials in the URL); unset keeps emails queued. */
  smtpUrl: string | undefined;
  /** The From of every email: an address, or a name and an address in angle brackets. */
  emailFrom: string;
  /** Days a sent or refused outbox email is kept (TIERLINE_OUTBOX_RETENTION_DAYS, default 90). */
  outboxRetentionDays: number;
  /** Days a webhook event whose deliveries are all settled is kept, with them (TIERLINE_WEBHOOK_RETENTION_DAYS, default 30). */
  webhookRetentionDays: number;
  /** Whole months of usage kept before the current one; 0 keeps all (TIERLINE_USAGE_RETENTION_MONTHS). */
  usageRetentionMonths: number;
  payments: PaymentsConfig;
}

/** Which payment provider charges cards: the network-free `test` provider, or Stripe with its keys. */
export type PaymentsConfig =
  | { provider: 'test' }
  | { provider: 'stripe'; secretKey: string; apiUrl: string | undefined };

export class ConfigError extends Error {}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number) {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  // Decimal digits only: Number() would also take "1e3", "0x50" and " 80".
  const value = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

function flag(env: NodeJS.ProcessEnv, name: string): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '' || raw === '0' || raw === 'false') return false;
  if (raw === '1' || raw === 'true') return true;
  throw new ConfigError(`${name} must be 1 or 0, got "${raw}"`);
}

function payments(env: NodeJS.ProcessEnv): PaymentsConfig {
  const provider = env.TIERLINE_PAYMENTS || 'test';
  const secretKey = env.STRIPE_SECRET_KEY || undefined;
  const apiUrl = env.TIERLINE_STRIPE_API_URL || undefined;
  if (provider === 'test') {
    // A Stripe key with the test provider would accept every card and charge nothing: refuse it.
    if (secretKey) throw new ConfigError('STRIPE_SECRET_KEY is set but TIERLINE_PAYMENTS is not stripe');
    return { provider: 'test' };
  }
  if (provider !== 'stripe') throw new ConfigError(`TIERLINE_PAYMENTS must be test or stripe, got "${provider}"`);
  if (!secretKey) throw new ConfigError('STRIPE_SECRET_KEY is required when TIERLINE_PAYMENTS=stripe');
  // Never echo the key: a publishable key (pk_) or a typo must not end up in a log.
  if (!/^(sk|rk)_(test|live)_\w+$/.test(secretKey)) {
    throw new ConfigError('STRIPE_SECRET_KEY must be a Stripe secret or restricted key (sk_… or rk_…)');
  }
  if (apiUrl) {
    const url = URL.canParse(apiUrl) ? new URL(apiUrl) : undefined;
    if (!url || !/^https?:$/.test(url.protocol) || url.pathname !== '/' || url.search || url.hash || url.username) {
      // Not echoed: a URL can carry credentials.
      throw new ConfigError('TIERLINE_STRIPE_API_URL must be an http(s) origin such as https://api.stripe.com');
    }
  }
  return { provider: 'stripe', secretKey, apiUrl };
}

/**
 * TIERLINE_USAGE_RETENTION_MONTHS: 0 (the default) keeps all usage; otherwise at least 3 months, the
 * fewest that keep every row billing and the inactivity rule read (docs/decisions.md).
 */
function usageRetentionMonths(env: NodeJS.ProcessEnv): number {
  const raw = env.TIERLINE_USAGE_RETENTION_MONTHS;
  if (raw === undefined || raw === '') return 0;
  const value = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (value !== 0 && !(value >= 3 && value <= 1200)) {
    throw new ConfigError(
      `TIERLINE_USAGE_RETENTION_MONTHS must be 0 (keep all usage) or a number of months from 3 to 1200, got "${raw}"`,
    );
  }
  return value;
}

function smtpUrl(env: NodeJS.ProcessEnv): string | undefined {
  const raw = env.TIERLINE_SMTP_URL || undefined;
  if (!raw) return undefined;
  const url = URL.canParse(raw) ? new URL(raw) : undefined;
  // Options are not read from the URL, so one that names any is refused rather than half obeyed.
  if (
    !url ||
    !/^smtps?:$/.test(url.protocol) ||
    !url.hostname ||
    !['', '/'].includes(url.pathname) ||
    url.search ||
    url.hash
  ) {
    // Not echoed: the URL holds the SMTP password.
    throw new ConfigError('TIERLINE_SMTP_URL must be smtp://[user:password@]host[:port] or smtps://…');
  }
  return raw;
}

function emailFrom(env: NodeJS.ProcessEnv): string {
  const raw = env.TIERLINE_EMAIL_FROM || 'Tierline <no-reply@localhost>';
  // One address, bare or after a display name; no line breaks, which would forge headers.
  if (!/^(?:[^<>@\s,;"]+@[^<>@\s,;"]+|[^<>\r\n]*<[^<>@\s,;"]+@[^<>@\s,;"]+>)$/.test(raw)) {
    throw new ConfigError(
      `TIERLINE_EMAIL_FROM must be an address or Name <address>, got ${JSON.stringify(raw.slice(0, 200))}`,
    );
  }
  return raw;
}

/**
 * TIERLINE_TRUST_PROXY: unset or 0 trusts no proxy; a number N trusts the N nearest hops; otherwise a
 * comma-separated list of the proxies' addresses or CIDR ranges.
 */
function trustProxy(raw: string | undefined): boolean | number | string[] {
  if (raw === undefined || raw === '' || raw === '0' || raw === 'false') return false;
  if (/^\d{1,2}$/.test(raw)) return Number(raw);
  const entries = raw.split(',').map((entry) => entry.trim());
  for (const entry of entries) {
    const [address, prefix, extra] = entry.split('/');
    const version = isIP(address);
    const maxPrefix = version === 4 ? 32 : 128;
    const prefixOk = prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= maxPrefix);
    if (!version || !prefixOk || extra !== undefined) {
      throw new ConfigError(
        `TIERLINE_TRUST_PROXY must be 0, a number of proxy hops, or addresses or CIDR ranges separated by commas, got "${raw}"`,
      );
    }
  }
  return entries;
}

/** Reads and validates the configuration; throws ConfigError naming the variable at fault. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const databaseUrl = env.DATABASE_URL || undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError(`DATABASE_URL must start with postgres:// or postgresql://`);
  }
  let testClockStart: Date | undefined;
  if (env.TIERLINE_TEST_CLOCK_START) {
    testClockStart = parseInstant(env.TIERLINE_TEST_CLOCK_START);
    if (!testClockStart) {
      throw new ConfigError(
        `TIERLINE_TEST_CLOCK_START must be an RFC 3339 instant, got "${env.TIERLINE_TEST_CLOCK_START}"`,
      );
    }
  }
  const adminEmail = env.TIERLINE_ADMIN_EMAIL || undefined;
  const adminPassword = env.TIERLINE_ADMIN_PASSWORD || undefined;
  if (Boolean(adminEmail) !== Boolean(adminPassword)) {
    throw new ConfigError(
      `TIERLINE_ADMIN_EMAIL and TIERLINE_ADMIN_PASSWORD must be set together (only ${adminEmail ? 'TIERLINE_ADMIN_EMAIL' : 'TIERLINE_ADMIN_PASSWORD'} is set)`,
    );
  }
  if (adminEmail && !/^[^@\s]+@[^@\s]+$/.test(adminEmail)) {
    throw new ConfigError(`TIERLINE_ADMIN_EMAIL must be an email address, got "${adminEmail}"`);
  }
  if (adminPassword && (adminPassword.length < 8 || adminPassword.length > 128)) {
    throw new ConfigError('TIERLINE_ADMIN_PASSWORD must have 8 to 128 characters');
  }
  const logLevel = env.TIERLINE_LOG_LEVEL || 'info';
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError(`TIERLINE_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  }
  return {
    logLevel,
    catalogFile: env.TIERLINE_CATALOG_FILE || fileURLToPath(new URL('../config/catalog.json', import.meta.url)),
    port: integer(env, 'PORT', 8080, 0, 65535),
    host: env.HOST || '0.0.0.0',
    databaseUrl,
    dataDir: env.TIERLINE_DATA_DIR || './data',
    testClock: flag(env, 'TIERLINE_TEST_CLOCK'),
    testClockStart,
    adminEmail,
    adminPassword,
    workerIntervalMs: integer(env, 'TIERLINE_WORKER_INTERVAL_MS', 5000, 100, 3_600_000),
    smtpUrl: smtpUrl(env),
    emailFrom: emailFrom(env),
    outboxRetentionDays: integer(env, 'TIERLINE_OUTBOX_RETENTION_DAYS', 90, 1, 3650),
    webhookRetentionDays: integer(env, 'TIERLINE_WEBHOOK_RETENTION_DAYS', 30, 1, 3650),
    usageRetentionMonths: usageRetentionMonths(env),
    workerConcurrency: integer(env, 'TIERLINE_WORKER_CONCURRENCY', 2, 1, 64),
    trustProxy: trustProxy(env.TIERLINE_TRUST_PROXY),
    readCache: env.TIERLINE_READ_CACHE ? flag(env, 'TIERLINE_READ_CACHE') : true,
    payments: payments(env),
  };
}
