// Email in the broker process: the SMTP transport and the digest sender's loop, started
// together and stopped together (the pass under way finishes, then the connections close).
import type { Store } from '../store/store.ts';
import type { Logger } from '../util/log.ts';
import { EmailSender, type EmailMetrics, type EmailSenderOptions } from './email-sender.ts';
import { createMailer, type Mailer } from './mailer.ts';
import type { SmtpSettings } from './smtp-settings.ts';

export interface BrokerEmailOptions extends Omit<EmailSenderOptions, 'store' | 'mailer' | 'metrics' | 'log'> {
  smtp: SmtpSettings;
}

export interface RunningEmail {
  readonly sender: EmailSender;
  readonly mailer: Mailer;
  stop(): Promise<void>;
}

export function startBrokerEmail(options: BrokerEmailOptions, context: { store: Store; metrics?: EmailMetrics; log: Logger }): RunningEmail {
  const { smtp, ...rest } = options;
  const mailer = createMailer(smtp);
  const sender = new EmailSender({ ...rest, store: context.store, mailer, ...(context.metrics === undefined ? {} : { metrics: context.metrics }), log: context.log });
  sender.start();
  context.log.info('email digests on', { smtp: mailer.description, publicUrl: options.publicUrl ?? null });
  return {
    sender,
    mailer,
    async stop(): Promise<void> {
      await sender.stop();
      mailer.close();
    },
  };
}
