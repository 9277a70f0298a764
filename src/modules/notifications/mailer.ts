import nodemailer, { type NodemailerError } from 'nodemailer';

/** One outbox email as it leaves: plain text, to one address. */
export interface OutgoingEmail {
  /** The outbox id: it becomes the Message-ID, so a receiver can recognise a repeat. */
  id: string;
  to: string;
  subject: string;
  text: string;
  /** When Tierline wrote it (the Date header), which RFC 5322 calls the moment it was ready to go. */
  date: Date;
}

/** What sends email: SMTP in production; anything with the same two methods elsewhere. */
export interface Mailer {
  /** Resolves once the server accepted the message; rejects with a DeliveryError otherwise. */
  send(message: OutgoingEmail): Promise<void>;
  close(): Promise<void>;
}

/**
 * A message that did not go. `permanent` is true only when the server refused this message itself
 * (a 5xx reply to its recipient or its content): sending it again would be refused again. A refused
 * login or sender, a 4xx reply, a timeout or a closed connection are not permanent: the same message
 * can go once the server or the configuration is right.
 */
export class DeliveryError extends Error {
  readonly permanent: boolean;
  /** The server's reply, when there was one (e.g. "550 5.1.1 No such user"). */
  readonly response: string | undefined;

  constructor(message: string, options: { permanent: boolean; response?: string; cause?: unknown }) {
    super(message, { cause: options.cause });
    this.name = 'DeliveryError';
    this.permanent = options.permanent;
    this.response = options.response;
  }
}

/** The SMTP commands whose 5xx reply is about the message itself, not the connection or the sender. */
const MESSAGE_COMMANDS = new Set(['RCPT TO', 'DATA']);

function toDeliveryError(error: NodemailerError): DeliveryError {
  const permanent = error.permanent === true && MESSAGE_COMMANDS.has(error.command ?? '');
  return new DeliveryError(error.message, { permanent, response: error.response, cause: error });
}

/** The SMTP server's parts of an smtp:// or smtps:// URL; credentials are percent-decoded. */
export function parseSmtpUrl(url: string) {
  const parsed = new URL(url);
  if (parsed.protocol !== 'smtp:' && parsed.protocol !== 'smtps:') {
    throw new Error('The SMTP URL must start with smtp:// or smtps://');
  }
  if (!parsed.hostname) throw new Error('The SMTP URL must name a host');
  const secure = parsed.protocol === 'smtps:';
  const user = decodeURIComponent(parsed.username);
  const pass = decodeURIComponent(parsed.password);
  return {
    // WHATWG URLs keep the brackets of an IPv6 host; sockets want the bare address.
    host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: parsed.port ? Number(parsed.port) : secure ? 465 : 587,
    secure,
    auth: user || pass ? { user, pass } : undefined,
  };
}

/**
 * A pooled SMTP mailer: smtp:// upgrades with STARTTLS when the server offers it, smtps:// speaks TLS
 * from the start; credentials come from the URL. Plain text bodies, as the outbox keeps them.
 */
export function createSmtpMailer(options: { url: string; from: string }): Mailer {
  const server = parseSmtpUrl(options.url);
  const domain = /@([^@>\s]+)>?\s*$/.exec(options.from)?.[1] ?? 'tierline';
  const transport = nodemailer.createTransport(
    {
      pool: true,
      host: server.host,
      port: server.port,
      secure: server.secure,
      auth: server.auth,
      maxConnections: 5,
      // Bounded waits: an unreachable or stuck server fails the pass instead of holding it for minutes.
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 60_000,
    },
    { from: options.from },
  );
  return {
    async send(message) {
      try {
        await transport.sendMail({
          to: message.to,
          subject: message.subject,
          text: message.text,
          date: message.date,
          messageId: `<${message.id}@${domain}>`,
        });
      } catch (error) {
        throw toDeliveryError(error as NodemailerError);
      }
    },
    async close() {
      transport.close();
    },
  };
}
