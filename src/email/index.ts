// Email notifications: digests of filter matches (seed 000) and filter-error notices over SMTP.
export { startBrokerEmail } from './broker-email.ts';
export type { BrokerEmailOptions, RunningEmail } from './broker-email.ts';
export { digestEmail, objectUrl } from './digest-content.ts';
export { EmailSender, DEFAULT_EMAIL_INTERVAL_MS, DEFAULT_MAX_BODY_ROWS } from './email-sender.ts';
export type { EmailMetrics, EmailSenderOptions, FilterOutcome, PassReport, SendOutcome } from './email-sender.ts';
export { emailStatus } from './email-status.ts';
export type { EmailStatus } from './email-status.ts';
export { createMailer, SendError } from './mailer.ts';
export type { Mailer, OutgoingEmail } from './mailer.ts';
export { describeSmtp, parseSmtpUrl, smtpSettingsFrom, smtpSettingsFromSection } from './smtp-settings.ts';
export type { SmtpFlags, SmtpSecurity, SmtpSettings } from './smtp-settings.ts';
