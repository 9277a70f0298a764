import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pruneOutbox, queueEmail } from '../../src/modules/notifications/index.ts';
import { createTestInstance, logInAdmin, type TestInstance } from '../helpers/instance.ts';

/**
 * Retention of the email outbox on the test clock (90 days by default), with a real SMTP server on
 * loopback: an email sent or refused for good goes once that was more than 90 days ago; a queued
 * email (here one the server keeps deferring) stays whatever its age.
 */

const START = '2027-01-01T00:00:00.000Z';
const T0 = Date.parse(START);
const MINUTE = 60_000;
const DAY = 86_400_000;

let t: TestInstance;
let smtp: SMTPServer;

beforeAll(async () => {
  smtp = new SMTPServer({
    logger: false,
    disabledCommands: ['STARTTLS', 'AUTH'],
    authOptional: true,
    closeTimeout: 100,
    onRcptTo(address, _session, callback) {
      const [local] = address.address.split('@');
      if (local.startsWith('refused')) {
        return callback(Object.assign(new Error('5.1.1 No such user here'), { responseCode: 550 }));
      }
      if (local.startsWith('later')) {
        return callback(Object.assign(new Error('4.2.1 Mailbox busy, try later'), { responseCode: 451 }));
      }
      callback();
    },
    onData(stream, _session, callback) {
      stream.resume();
      stream.on('end', () => callback());
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', () => resolve()));
  const port = (smtp.server.address() as { port: number }).port;
  t = await createTestInstance({ start: START, env: { TIERLINE_SMTP_URL: `smtp://127.0.0.1:${port}` } });
});

afterAll(async () => {
  await t?.close();
  await new Promise<void>((resolve) => smtp?.close(() => resolve()));
});

async function queue(to: string) {
  const now = await t.deps.clock.now();
  await t.deps.db.transaction((tx) =>
    queueEmail(tx, now, { to, subject: `For ${to}`, kind: 'retention_test', body: 'Hello.' }),
  );
}

async function advanceTo(at: number) {
  const response = await t.call('POST', '/v1/test-clock/advance', { body: { to: new Date(at).toISOString() } });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
}

/** The outbox as staff read it: recipient → status. */
async function outbox(): Promise<Record<string, string>> {
  const response = await t.call('GET', '/v1/admin/outbox?limit=100', { cookie: await logInAdmin(t) });
  expect(response.status).toBe(200);
  const emails = (response.body.data as Array<{ to: string; kind: string; status: string }>).filter(
    (email) => email.kind === 'retention_test',
  );
  return Object.fromEntries(emails.map((email) => [email.to, email.status]));
}

describe('outbox retention', () => {
  it('keeps sent and refused emails 90 days, and queued ones whatever their age', async () => {
    await queue('sent@example.com');
    await queue('refused@example.com');
    await queue('later@example.com');
    await advanceTo(T0 + MINUTE);
    expect(await outbox()).toEqual({
      'sent@example.com': 'sent',
      'refused@example.com': 'failed',
      'later@example.com': 'queued',
    });
    await advanceTo(T0 + 60 * DAY);
    await queue('recent@example.com');
    await advanceTo(T0 + 60 * DAY + MINUTE);

    // 90 days after they went, to the second: kept.
    await advanceTo(T0 + 90 * DAY + MINUTE);
    expect(Object.keys(await outbox()).sort()).toEqual([
      'later@example.com',
      'recent@example.com',
      'refused@example.com',
      'sent@example.com',
    ]);

    await advanceTo(T0 + 90 * DAY + MINUTE + 1000);
    expect(await outbox()).toEqual({ 'later@example.com': 'queued', 'recent@example.com': 'sent' });

    await advanceTo(T0 + 150 * DAY + 2 * MINUTE);
    // The deferred email is still queued after 150 days, and still tried.
    expect(await outbox()).toEqual({ 'later@example.com': 'queued' });
    const [later] = (await t.call('GET', '/v1/admin/outbox?to=later@example.com', { cookie: await logInAdmin(t) })).body
      .data;
    expect(later.attempts).toBeGreaterThanOrEqual(2);
    expect(later.last_error).toMatch(/Mailbox busy/);
  });

  it('works in bounded batches: a call deletes at most batch size × batches emails', async () => {
    for (let index = 0; index < 5; index++) await queue(`batch-${index}@example.com`);
    const now = Date.parse((await t.call('GET', '/v1/test-clock')).body.now);
    await advanceTo(now + MINUTE);
    expect(Object.keys(await outbox())).toHaveLength(6);
    const later = new Date(now + 100 * DAY);
    expect(await pruneOutbox(t.deps.db, later, { retentionDays: 90, batchSize: 2, maxBatches: 2 })).toEqual({
      emails: 4,
    });
    expect(Object.keys(await outbox())).toHaveLength(2);
    expect(await pruneOutbox(t.deps.db, later, { retentionDays: 90 })).toEqual({ emails: 1 });
    expect(await outbox()).toEqual({ 'later@example.com': 'queued' });
  });
});
