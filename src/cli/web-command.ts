// `nightjar web`: the web app (pages, accounts, REST API) on 127.0.0.1.
//   nightjar web --topics T1[,T2] ...   the broker with the web app on its HTTP server (the same
//                                       HTTP server as /metrics and /health; /api/filters then
//                                       needs the admin token that `nightjar filter` reads)
//   nightjar web                        the web app alone over a store that no broker is using, or
//                                       over the PostgreSQL store brokers share (browse objects,
//                                       manage accounts and filters; a saved Kafka filter is
//                                       backfilled with this process's Kafka clients)
import type { Command } from 'commander';
import { createKafkaAccess } from '../kafka/access.ts';
import { createAdmin, createProducer } from '../kafka/connection.ts';
import { createFilterService } from '../service/filter-service.ts';
import { openStore } from '../store/index.ts';
import { UserError } from '../util/errors.ts';
import { startWebServer } from '../web/server.ts';
import { addBrokerOptions, httpPortFlag, publicUrlFlag, runBrokerCommand, storeLocation, type BrokerFlags } from './broker-command.ts';
import { kafkaSettingsFrom } from './kafka-options.ts';

const HELP = `
With --topics, this is \`nightjar broker --web\` (same store, filters, streams and flags) serving
the web app too: pages at /, the REST API under /api/v1 (docs at /api/openapi.json), /metrics
and /health. The broker's filter API (/api/filters, used by \`nightjar filter\`) then needs the
admin token the broker writes next to its store (<store>.admin-token, readable by you only);
\`nightjar filter\` reads it from there (give it the same --store).

Without --topics, the web app runs alone over the store: a DuckDB file no broker has open, or
the PostgreSQL store (--store postgres://...) that brokers share while they run (filters saved
here reach them within 2 s). Accounts, filters, objects and the API work; nothing is ingested.
Over PostgreSQL with --topics, no admin token file is written and /api/filters stays closed:
\`nightjar filter --store <url>\` works on the store directly.

Everything listens on 127.0.0.1 only; put a reverse proxy (TLS) in front to publish it, and
give its address as --public-url (https makes the cookies Secure).`;

export function registerWebCommand(program: Command): void {
  const command = program
    .command('web')
    .description('serve the web app (pages, accounts, REST API): with the broker (--topics) or alone over a store')
    .option('--topics <t1,t2,...>', 'run the broker on these raw alert topics too (comma-separated)');
  addBrokerOptions(command).addHelpText('after', HELP).action(async (flags: BrokerFlags) => runWebCommand(flags));
}

const say = (line: string): void => void process.stdout.write(`${line}\n`);

/** Resolves on the first Ctrl-C or SIGTERM (a second one quits at once). */
function untilSignal(onFirst: () => void): { stopped: Promise<void>; dispose: () => void } {
  let count = 0;
  let resolve: () => void = () => undefined;
  const stopped = new Promise<void>((r) => (resolve = r));
  const handler = (): void => {
    count++;
    if (count > 1) process.exit(130);
    onFirst();
    resolve();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return { stopped, dispose: () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  } };
}

async function runWebCommand(flags: BrokerFlags): Promise<void> {
  if (flags.topics !== undefined) return runBrokerCommand({ ...flags, web: true });
  const publicUrl = publicUrlFlag(flags.publicUrl);
  await runAlone(flags, httpPortFlag(flags.httpPort), publicUrl === null ? {} : { publicUrl });
}

async function runAlone(flags: BrokerFlags, port: number, web: { publicUrl?: string }): Promise<void> {
  const file = storeLocation(flags.store);
  let store;
  try {
    store = await openStore({ path: file });
  } catch (error) {
    const message = (error as Error).message;
    if (/lock/i.test(message)) throw new UserError(`${message}\n(a broker has the store open: run \`nightjar web --topics ...\` instead, which serves the web app from the broker)`);
    throw error;
  }
  const settings = kafkaSettingsFrom(flags);
  const admin = createAdmin(settings, { role: 'web' });
  const producer = createProducer(settings, { role: 'web' });
  // On a secure cluster the account page shows each account's Kafka credentials and saved
  // filters get their ACLs; Kafka unreachable: the pages still work (the broker repairs ACLs at start).
  const access = await createKafkaAccess({ store, admin, adminSettings: settings }).catch(() => null);
  const filters = createFilterService({ store, admin, producer, topicPrefix: flags.topicPrefix, ...(access === null ? {} : { access }) });
  const closeAll = async (): Promise<void> => {
    await filters.close();
    await producer.close().catch(() => undefined);
    await admin.close().catch(() => undefined);
    await store.close();
  };
  let server;
  try {
    server = await startWebServer({ port, web: { ...web, store, filters, access } });
  } catch (error) {
    await closeAll();
    throw error;
  }
  say(`web: ${server.url}/ (API ${server.url}/api/v1, docs ${server.url}/api/openapi.json) over the store ${store.location}; no broker here (nothing is ingested)`);
  say('Ctrl-C stops it.');
  const signals = untilSignal(() => process.stderr.write('\nstopping\n'));
  try {
    await signals.stopped;
  } finally {
    signals.dispose();
    await server.close();
    await closeAll();
  }
  say('web stopped');
}
