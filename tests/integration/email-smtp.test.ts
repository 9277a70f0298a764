import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSmtpMailer, queueEmail, sendQueuedEmails } from '../../src/modules/notifications/index.ts';
import { createTestInstance, logInAdmin, type Owner, signUpOwner, type TestInstance } from '../helpers/instance.ts';

// Email delivery: product emails queued in the outbox go to a real SMTP server on loopback, once
// each, and the outbox shows them sent; failures leave them for a later pass, as decided.

const FROM = 'Tierline Test <no-reply@tierline.test>';
/** TIERLINE_EMAIL_FROM when unset. */
const FROM_DEFAULT = 'Tierline <no-reply@localhost>';

/** A message as the SMTP server received it, decoded the way a mail client shows it. */
interface Received {
  envelopeFrom: string;
  envelopeTo: string[];
  /** Who logged in to the server, if anyone did. */
  user: string | undefined;
  from: string;
  to: string;
  subject: string;
  messageId: string;
  text: string;
}

interface SmtpTestServer {
  port: number;
  received: Received[];
  /** Every RCPT TO the server was asked for, accepted or not. */
  recipientsTried: string[];
  close(): Promise<void>;
}

function decodeQuotedPrintable(input: string): Buffer {
  const joined = input.replace(/=\r\n/g, '');
  const bytes: number[] = [];
  for (let i = 0; i < joined.length; i++) {
    const hex = joined.slice(i + 1, i + 3);
    if (joined[i] === '=' && /^[0-9A-F]{2}$/i.test(hex)) {
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else bytes.push(joined.charCodeAt(i));
  }
  return Buffer.from(bytes);
}

/** RFC 2047 encoded words (=?utf-8?Q?…?= and =?utf-8?B?…?=), as in a non-ASCII subject. */
function decodeWords(value: string): string {
  return value
    .replace(/(\?=)\s+(=\?)/g, '$1$2')
    .replace(/=\?([^?]+)\?([QB])\?([^?]*)\?=/gi, (_word, _charset, encoding: string, text: string) =>
      encoding.toUpperCase() === 'B'
        ? Buffer.from(text, 'base64').toString('utf8')
        : decodeQuotedPrintable(text.replace(/_/g, ' ')).toString('utf8'),
    );
}

/** Splits a raw message into its headers and its plain-text body, decoding both. */
function parseMessage(raw: string) {
  const split = raw.indexOf('\r\n\r\n');
  const headers = new Map<string, string>();
  for (const line of raw
    .slice(0, split)
    .replace(/\r\n[ \t]+/g, ' ')
    .split('\r\n')) {
    const colon = line.indexOf(':');
    headers.set(line.slice(0, colon).trim().toLowerCase(), decodeWords(line.slice(colon + 1).trim()));
  }
  const body = raw.slice(split + 4);
  const encoding = (headers.get('content-transfer-encoding') ?? '7bit').toLowerCase();
  const bytes =
    encoding === 'quoted-printable'
      ? decodeQuotedPrintable(body)
      : encoding === 'base64'
        ? Buffer.from(body, 'base64')
        : Buffer.from(body, 'latin1');
  const text = bytes.toString('utf8').replace(/\r\n/g, '\n').replace(/\n$/, '');
  return { headers, text };
}

/**
 * A real SMTP server on 127.0.0.1 (plain text and no STARTTLS unless `secure`). With `auth`, it accepts only that login;
 * `refuse` answers a recipient with an SMTP error (its responseCode) or accepts it.
 */
async function startSmtpServer(
  options: {
    port?: number;
    /** TLS from the first byte, with the server's own self-signed certificate. */
    secure?: boolean;
    auth?: { user: string; pass: string };
    refuse?: (address: string) => { responseCode: number; message: string } | undefined;
  } = {},
): Promise<SmtpTestServer> {
  const received: Received[] = [];
  const recipientsTried: string[] = [];
  const server = new SMTPServer({
    logger: false,
    secure: options.secure ?? false,
    disabledCommands: options.auth ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
    authOptional: !options.auth,
    allowInsecureAuth: true,
    closeTimeout: 100,
    onAuth(auth, _session, callback) {
      if (auth.username === options.auth?.user && auth.password === options.auth?.pass) {
        callback(null, { user: auth.username });
      } else {
        callback(Object.assign(new Error('5.7.8 Authentication credentials invalid'), { responseCode: 535 }));
      }
    },
    onRcptTo(address, _session, callback) {
      recipientsTried.push(address.address);
      const refusal = options.refuse?.(address.address);
      callback(refusal ? Object.assign(new Error(refusal.message), { responseCode: refusal.responseCode }) : null);
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const { headers, text } = parseMessage(Buffer.concat(chunks).toString('latin1'));
        const mailFrom = session.envelope.mailFrom;
        received.push({
          envelopeFrom: mailFrom ? mailFrom.address : '',
          envelopeTo: session.envelope.rcptTo.map((rcpt) => rcpt.address),
          user: session.user as string | undefined,
          from: headers.get('from') ?? '',
          to: headers.get('to') ?? '',
          subject: headers.get('subject') ?? '',
          messageId: headers.get('message-id') ?? '',
          text,
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.on('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.server.address() as { port: number }).port;
  return {
    port,
    received,
    recipientsTried,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A loopback port nothing listens on (yet). */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()));
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

const uniqueEmail = (label: string) => `${label}-${randomBytes(4).toString('hex')}@example.com`;

/** Every outbox email as staff see it, newest first. */
async function outbox(t: TestInstance, staff: string): Promise<Array<Record<string, any>>> {
  const response = await t.call('GET', '/v1/admin/outbox?limit=100', { cookie: staff });
  expect(response.status).toBe(200);
  return response.body.data;
}

async function invite(t: TestInstance, owner: Owner, email: string) {
  const response = await t.call('POST', `/v1/orgs/${owner.orgId}/invitations`, {
    cookie: owner.cookie,
    body: { email, roles: ['member'] },
  });
  expect(response.status, JSON.stringify(response.body)).toBe(201);
}

async function now(t: TestInstance) {
  return t.deps.clock.now();
}

async function advanceTo(t: TestInstance, to: string) {
  const response = await t.call('POST', '/v1/test-clock/advance', { body: { to } });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
}

describe('an SMTP server that requires a login (credentials in TIERLINE_SMTP_URL)', () => {
  const login = { user: 'mailer@tierline.test', pass: 'p@ss:w/rd 1' };
  const refused = new Set<string>();
  const deferredOnce = new Set<string>();
  let server: SmtpTestServer;
  let t: TestInstance;
  let staff: string;
  let owner: Owner;

  beforeAll(async () => {
    server = await startSmtpServer({
      auth: login,
      refuse(address) {
        if (refused.has(address)) return { responseCode: 550, message: '5.1.1 No such user here' };
        if (deferredOnce.delete(address)) return { responseCode: 450, message: '4.2.1 Mailbox busy, try later' };
        return undefined;
      },
    });
    const url = `smtp://${encodeURIComponent(login.user)}:${encodeURIComponent(login.pass)}@127.0.0.1:${server.port}`;
    t = await createTestInstance({
      start: '2027-03-01T09:00:00.000Z',
      env: { TIERLINE_SMTP_URL: url, TIERLINE_EMAIL_FROM: FROM },
    });
    staff = await logInAdmin(t);
    owner = await signUpOwner(t, { org_name: 'Café Ünïcode' });
  });
  afterAll(async () => {
    await t?.close();
    await server?.close();
  });

  it('sends the queued product emails once each, as the outbox lists them, and marks them sent', async () => {
    expect(t.deps.mailer).toBeDefined();
    const first = uniqueEmail('invitee');
    const second = uniqueEmail('invitee');
    await invite(t, owner, first);
    await invite(t, owner, second);
    const inquiry = await t.call('POST', `/v1/orgs/${owner.orgId}/sales-inquiries`, {
      cookie: owner.cookie,
      body: { name: 'Grace Hopper', email: 'grace@example.com', company: 'Compilers Inc', message: 'Two billion.' },
    });
    expect(inquiry.status).toBe(201);
    const leaving = await signUpOwner(t);
    const deactivated = await t.call('POST', `/v1/admin/orgs/${leaving.orgId}/deactivate`, {
      cookie: staff,
      body: { reason: 'owner_request' },
    });
    expect(deactivated.status, JSON.stringify(deactivated.body)).toBe(200);

    const queued = await outbox(t, staff);
    expect(queued.map((email) => email.kind).sort()).toEqual([
      'invitation',
      'invitation',
      'org_deactivated',
      'sales_inquiry',
    ]);
    expect(queued.every((email) => email.sent_at === null)).toBe(true);
    expect(server.received).toEqual([]);

    const at = await now(t);
    expect(await sendQueuedEmails(t.deps.db, t.deps.mailer, at, { limit: 100 })).toEqual({
      sent: 4,
      failed: 0,
      failures: [],
    });

    expect(server.received).toHaveLength(4);
    for (const email of queued) {
      const copies = server.received.filter((message) => message.messageId === `<${email.id}@tierline.test>`);
      expect(copies).toEqual([
        {
          envelopeFrom: 'no-reply@tierline.test',
          envelopeTo: [email.to],
          user: login.user,
          from: FROM,
          to: email.to,
          subject: email.subject,
          messageId: `<${email.id}@tierline.test>`,
          text: email.body,
        },
      ]);
    }
    // The subject names the org as it was written, accents and all.
    expect(server.received.map((message) => message.subject)).toContain('You are invited to Café Ünïcode on Tierline');
    expect((await outbox(t, staff)).map((email) => [email.id, email.sent_at])).toEqual(
      queued.map((email) => [email.id, at.toISOString()]),
    );

    // A second pass finds nothing left to send.
    expect(await sendQueuedEmails(t.deps.db, t.deps.mailer, at, { limit: 100 })).toEqual({
      sent: 0,
      failed: 0,
      failures: [],
    });
    expect(server.received).toHaveLength(4);

    // The invited person accepts with the link from the email they received.
    const mail = server.received.find((message) => message.to === first);
    const token = /token=(\S+)/.exec(mail?.text ?? '')?.[1];
    const accepted = await t.call('POST', '/v1/invitations/accept', {
      body: { token, password: 'invitee-password-1', full_name: 'Invitee' },
    });
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(200);
    expect(accepted.body.user.email).toBe(first);
  });

  it('sends what is queued after a test-clock advance, as a worker pass does', async () => {
    const before = server.received.length;
    const invited = uniqueEmail('advance');
    await invite(t, owner, invited);
    await advanceTo(t, new Date((await now(t)).getTime() + 60_000).toISOString());
    expect(server.received.slice(before).map((message) => message.to)).toEqual([invited]);
  });

  it('takes again, five minutes later, an email whose sender died while holding it', async () => {
    const before = server.received.length;
    const invitee = uniqueEmail('orphan');
    await invite(t, owner, invitee);
    const at = await now(t);
    let claimed: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      claimed = resolve;
    });
    // A sender that claims the email and never comes back (its process was killed mid-send).
    const dying = {
      send: () => {
        claimed();
        return new Promise<void>(() => undefined);
      },
      close: async () => undefined,
    };
    void sendQueuedEmails(t.deps.db, dying, at, { limit: 100 });
    await held;
    expect(
      await sendQueuedEmails(t.deps.db, t.deps.mailer, new Date(at.getTime() + 299_000), { limit: 100 }),
    ).toMatchObject({ sent: 0 });
    const after = new Date(at.getTime() + 300_000);
    expect(await sendQueuedEmails(t.deps.db, t.deps.mailer, after, { limit: 100 })).toMatchObject({ sent: 1 });
    expect(server.received.slice(before).map((message) => message.to)).toEqual([invitee]);
  });

  it('sends the oldest email first when a pass is limited', async () => {
    const before = server.received.length;
    // Queued an hour apart, in the reverse of their alphabetical order.
    const queued = [uniqueEmail('zulu'), uniqueEmail('mike'), uniqueEmail('alpha')];
    const start = (await now(t)).getTime();
    for (const [index, to] of queued.entries()) {
      await queueEmail(t.deps.db, new Date(start - (3 - index) * 3_600_000), {
        to,
        subject: `Queued ${index}`,
        kind: 'probe',
        body: 'Hello.',
      });
    }
    for (let pass = 0; pass < 3; pass++) {
      expect(await sendQueuedEmails(t.deps.db, t.deps.mailer, await now(t), { limit: 1 })).toMatchObject({ sent: 1 });
    }
    expect(server.received.slice(before).map((message) => message.to)).toEqual(queued);
  });

  it('does not retry a recipient the server refuses for good (5xx); one it defers (4xx) goes on a later pass', async () => {
    const before = server.received.length;
    const unknown = uniqueEmail('unknown');
    const busy = uniqueEmail('busy');
    const fine = uniqueEmail('fine');
    refused.add(unknown);
    deferredOnce.add(busy);
    for (const email of [unknown, busy, fine]) await invite(t, owner, email);
    const logged: Array<{ level: string; details: any }> = [];
    const log = {
      warn: (details: object) => logged.push({ level: 'warn', details }),
      error: (details: object) => logged.push({ level: 'error', details }),
    };
    const at = await now(t);

    const first = await sendQueuedEmails(t.deps.db, t.deps.mailer, at, { limit: 100, log });
    expect(first.sent).toBe(1);
    expect(first.failed).toBe(2);
    const byAddress = new Map(first.failures.map((failure) => [failure.to, failure]));
    expect(byAddress.get(unknown)).toMatchObject({ permanent: true, error: expect.stringContaining('550') });
    expect(byAddress.get(busy)).toMatchObject({ permanent: false, error: expect.stringContaining('450') });
    expect(logged.map((entry) => [entry.level, entry.details.to]).sort()).toEqual([
      ['error', unknown],
      ['warn', busy],
    ]);
    expect(server.received.slice(before).map((message) => message.to)).toEqual([fine]);
    const listed = new Map((await outbox(t, staff)).map((email) => [email.to, email]));
    expect(listed.get(fine)).toMatchObject({ status: 'sent', sent_at: at.toISOString(), attempts: 1 });
    expect(listed.get(busy)).toMatchObject({ status: 'queued', sent_at: null, attempts: 1 });
    expect(listed.get(busy)?.last_error).toContain('450');
    // Refused for good: it leaves the queue as failed, with the server's words, and is not sent.
    expect(listed.get(unknown)).toMatchObject({ status: 'failed', sent_at: null, attempts: 1 });
    expect(listed.get(unknown)?.last_error).toContain('550');

    // The deferred one waits a minute before its next try, then goes.
    expect(await sendQueuedEmails(t.deps.db, t.deps.mailer, at, { limit: 100 })).toMatchObject({ sent: 0, failed: 0 });
    const later = new Date(at.getTime() + 61_000);
    expect(await sendQueuedEmails(t.deps.db, t.deps.mailer, later, { limit: 100 })).toEqual({
      sent: 1,
      failed: 0,
      failures: [],
    });
    expect(await sendQueuedEmails(t.deps.db, t.deps.mailer, later, { limit: 100 })).toMatchObject({
      sent: 0,
      failed: 0,
    });
    expect(server.received.slice(before).map((message) => message.to)).toEqual([fine, busy]);
    expect(server.recipientsTried.filter((address) => address === unknown)).toEqual([unknown]);
    expect((await outbox(t, staff)).find((email) => email.to === busy)).toMatchObject({
      status: 'sent',
      sent_at: later.toISOString(),
      attempts: 2,
    });
  });

  it('keeps the emails queued when the server refuses the login, and sends them once it is right', async () => {
    const before = server.received.length;
    const invitee = uniqueEmail('patient');
    await invite(t, owner, invitee);
    const wrong = createSmtpMailer({ url: `smtp://mailer%40tierline.test:wrong@127.0.0.1:${server.port}`, from: FROM });
    try {
      const at = await now(t);
      const result = await sendQueuedEmails(t.deps.db, wrong, at, { limit: 100 });
      expect(result).toMatchObject({ sent: 0, failed: 1 });
      expect(result.failures[0]).toMatchObject({
        to: invitee,
        permanent: false,
        error: expect.stringContaining('535'),
      });
      expect((await outbox(t, staff)).find((email) => email.to === invitee)?.sent_at).toBeNull();
      expect(server.received.length).toBe(before);

      // A failure that may pass is tried again a minute later.
      const later = new Date(at.getTime() + 60_000);
      expect(await sendQueuedEmails(t.deps.db, t.deps.mailer, later, { limit: 100 })).toMatchObject({
        sent: 1,
        failed: 0,
      });
      expect(server.received.slice(before).map((message) => message.to)).toEqual([invitee]);
    } finally {
      await wrong.close();
    }
  });

  it('speaks TLS from the start with smtps:// and sends nothing to a server whose certificate is not trusted', async () => {
    const invitee = uniqueEmail('careful');
    await invite(t, owner, invitee);
    const tlsServer = await startSmtpServer({ secure: true });
    const mailer = createSmtpMailer({ url: `smtps://127.0.0.1:${tlsServer.port}`, from: FROM });
    try {
      const at = await now(t);
      const result = await sendQueuedEmails(t.deps.db, mailer, at, { limit: 100 });
      expect(result).toMatchObject({ sent: 0, failed: 1 });
      expect(result.failures[0]).toMatchObject({
        to: invitee,
        permanent: false,
        error: expect.stringMatching(/cert/i),
      });
      expect(tlsServer.received).toEqual([]);
      expect((await outbox(t, staff)).find((email) => email.to === invitee)?.sent_at).toBeNull();
      // A failure that may pass is tried again a minute later.
      const later = new Date(at.getTime() + 60_000);
      expect(await sendQueuedEmails(t.deps.db, t.deps.mailer, later, { limit: 100 })).toMatchObject({
        sent: 1,
        failed: 0,
      });
    } finally {
      await mailer.close();
      await tlsServer.close();
    }
  });
});

describe('an SMTP server without login that is down, then up', () => {
  let port: number;
  let server: SmtpTestServer | undefined;
  let t: TestInstance;
  let staff: string;
  let owner: Owner;

  beforeAll(async () => {
    port = await freePort();
    t = await createTestInstance({ env: { TIERLINE_SMTP_URL: `smtp://127.0.0.1:${port}` } });
    staff = await logInAdmin(t);
    owner = await signUpOwner(t);
  });
  afterAll(async () => {
    await t?.close();
    await server?.close();
  });

  it('leaves the emails unsent while the server is down, then two concurrent senders send each once', async () => {
    const invitees = Array.from({ length: 12 }, (_, i) => uniqueEmail(`invitee${i}`));
    for (const email of invitees) await invite(t, owner, email);
    const at = await now(t);

    const down = await sendQueuedEmails(t.deps.db, t.deps.mailer, at, { limit: 100 });
    expect(down.sent).toBe(0);
    expect(down.failed).toBe(12);
    expect(down.failures.every((failure) => !failure.permanent)).toBe(true);
    const queued = await outbox(t, staff);
    expect(queued.map((email) => email.sent_at)).toEqual(invitees.map(() => null));

    server = await startSmtpServer({ port });
    const up = server;
    /** One sender: small passes until one finds nothing. */
    const drain = async () => {
      let sent = 0;
      for (;;) {
        const result = await sendQueuedEmails(t.deps.db, t.deps.mailer, new Date(at.getTime() + 60_000), {
          limit: 3,
        });
        expect(result.failures).toEqual([]);
        if (result.sent === 0) return sent;
        sent += result.sent;
      }
    };
    // The next tries, a minute after the failed ones.
    const [one, two] = await Promise.all([drain(), drain()]);
    expect(one + two).toBe(12);
    expect(up.received.map((message) => message.messageId).sort()).toEqual(
      queued.map((email) => `<${email.id}@localhost>`).sort(),
    );
    expect(up.received.map((message) => message.to).sort()).toEqual([...invitees].sort());
    expect(up.received.every((message) => message.user === undefined && message.from === FROM_DEFAULT)).toBe(true);
    const retried = new Date(at.getTime() + 60_000).toISOString();
    for (const email of await outbox(t, staff))
      expect(email).toMatchObject({ status: 'sent', sent_at: retried, attempts: 2 });
  });
});

describe('without TIERLINE_SMTP_URL', () => {
  let t: TestInstance;

  beforeAll(async () => {
    t = await createTestInstance();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('keeps every email queued and listed in the outbox', async () => {
    const staff = await logInAdmin(t);
    const owner = await signUpOwner(t);
    const invitee = uniqueEmail('invitee');
    await invite(t, owner, invitee);
    expect(t.deps.mailer).toBeUndefined();
    expect(await sendQueuedEmails(t.deps.db, t.deps.mailer, await now(t), { limit: 100 })).toEqual({
      sent: 0,
      failed: 0,
      failures: [],
    });
    const emails = await outbox(t, staff);
    expect(emails.map((email) => [email.to, email.kind, email.sent_at])).toEqual([[invitee, 'invitation', null]]);
  });
});
