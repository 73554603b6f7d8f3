// Sending one email over SMTP with nodemailer: a pooled transport from SmtpSettings, and errors
// sorted into temporary (server down, 4xx: try again later) and permanent (5xx: a refused or
// bounced address, bad credentials) so the sender can back off accordingly.
import nodemailer from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';
import { describeSmtp, type SmtpSettings } from './smtp-settings.ts';

export interface EmailAttachment {
  filename: string;
  content: string;
  contentType: string;
}

export interface OutgoingEmail {
  to: string;
  subject: string;
  text: string;
  html: string;
  attachments?: readonly EmailAttachment[];
}

export interface SentEmail {
  messageId: string;
  /** The server's last answer, e.g. "250 OK: queued". */
  response: string;
}

export interface Mailer {
  send(email: OutgoingEmail): Promise<SentEmail>;
  /** A one-line description of the server, without the password. */
  readonly description: string;
  close(): void;
}

/** A send that failed: `permanent` when the server refused for good (5xx), else worth retrying. */
export class SendError extends Error {
  readonly permanent: boolean;
  readonly responseCode: number | null;
  constructor(message: string, permanent: boolean, responseCode: number | null, cause?: unknown) {
    super(message, { cause });
    this.name = 'SendError';
    this.permanent = permanent;
    this.responseCode = responseCode;
  }
}

export interface MailerOptions {
  /** Connecting and greeting, ms (default 10000). */
  connectTimeoutMs?: number;
  /** Idle socket, ms (default 60000). */
  socketTimeoutMs?: number;
}

/** The nodemailer error as a SendError naming the server and recipient. */
export function sendError(error: unknown, to: string, server: string): SendError {
  const e = error as { message?: string; code?: string; responseCode?: number; response?: string };
  const code = typeof e.responseCode === 'number' ? e.responseCode : null;
  const detail = (e.response ?? e.message ?? String(error)).split('\n')[0] ?? '';
  const permanent = code !== null && code >= 500;
  const what = e.code === 'EENVELOPE' ? `the server refused the recipient ${to}` : `sending to ${to} failed`;
  return new SendError(`${what} (${server}): ${detail}`, permanent, code, error);
}

export function createMailer(settings: SmtpSettings, options: MailerOptions = {}): Mailer {
  const transportOptions: SMTPTransport.Options = {
    host: settings.host,
    port: settings.port,
    secure: settings.security === 'tls',
    requireTLS: settings.security === 'starttls',
    ignoreTLS: settings.security === 'none',
    connectionTimeout: options.connectTimeoutMs ?? 10_000,
    greetingTimeout: options.connectTimeoutMs ?? 10_000,
    socketTimeout: options.socketTimeoutMs ?? 60_000,
  };
  if (settings.user !== undefined) transportOptions.auth = { user: settings.user, pass: settings.password ?? '' };
  const transport = nodemailer.createTransport(transportOptions);
  const description = describeSmtp(settings);
  return {
    description,
    async send(email: OutgoingEmail): Promise<SentEmail> {
      try {
        const info = await transport.sendMail({
          from: settings.from,
          to: email.to,
          subject: email.subject,
          text: email.text,
          html: email.html,
          attachments: (email.attachments ?? []).map((a) => ({ filename: a.filename, content: a.content, contentType: a.contentType })),
        });
        if (info.rejected.length > 0) throw Object.assign(new Error(`recipient refused: ${info.rejected.map(String).join(', ')}`), { code: 'EENVELOPE', responseCode: 550 });
        return { messageId: info.messageId, response: info.response };
      } catch (error) {
        throw sendError(error, email.to, description);
      }
    },
    close(): void {
      transport.close();
    },
  };
}
