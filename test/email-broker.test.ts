// Email through the real broker: synthetic Rubin alerts in a raw topic on the local Kafka, an
// in-process broker with email filters and a filter that fails at run time, and a real SMTP
// server on 127.0.0.1. The pipeline records every filter's matches in the store; the email
// sender, in the broker process, mails the first digest at once (exactly the matches up to its
// watermark, with links), refuses nothing else when one owner's address is refused, tells the
// owner of the failing filter once, and /metrics and the filter service's show report it all.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import type { Admin } from '@platformatic/kafka';
import { parseSmtpUrl } from '../src/email/smtp-settings.ts';
import { builtinSchemas } from '../src/formats/builtin-schemas.ts';
import { LSST_SCHEMA_ID, lsstAlertParsedSchema } from '../src/formats/lsst-schema.ts';
import { encodeMessage } from '../src/formats/message.ts';
import { createAdmin, createProducer, defaultSettings, type BytesProducer, type KafkaSettings } from '../src/kafka/connection.ts';
import { sendAll } from '../src/kafka/produce.ts';
import { createTopic, deleteTopic } from '../src/kafka/topics.ts';
import { startBroker, type RunningBroker } from '../src/pipeline/broker.ts';
import type { BatchReport } from '../src/pipeline/pipeline.ts';
import { generateAlerts } from '../src/simulate/synthetic.ts';
import { openStore } from '../src/store/index.ts';
import type { FilterMatch, Store, StoredFilter } from '../src/store/index.ts';
import type { Logger } from '../src/util/log.ts';
import { startSmtpServer, type ReceivedEmail, type TestSmtpServer } from './email-helpers.ts';
import { parseMetrics } from './pipeline-helpers.ts';
import { acquireLocalKafka, releaseLocalKafka, type Lease } from './setup/local-kafka.ts';

const run = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
const RAW = `nightjar-test-email-raw-${run}`;
const DLQ = `nightjar-test-email-dlq-${run}`;
const PUBLIC = 'https://nightjar.example.org';
const ALERTS = 400;
const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet };

let lease: Lease;
let settings: KafkaSettings;
let admin: Admin;
let producer: BytesProducer;
let smtp: TestSmtpServer;
let store: Store;
let broker: RunningBroker;
let bright: StoredFilter;
let refused: StoredFilter;
let failing: StoredFilter;
const ada = `ada-${run}@example.org`;
const reports: BatchReport[] = [];

async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

before(async () => {
  lease = await acquireLocalKafka();
  settings = defaultSettings();
  admin = createAdmin(settings);
  producer = createProducer(settings);
  smtp = await startSmtpServer({ refuse: (a) => a.startsWith('refused') });

  const schema = lsstAlertParsedSchema();
  const values = [...generateAlerts({ seed: 11, objects: 250, count: ALERTS, cutouts: false })].map((r) => encodeMessage(r, { encoding: 'confluent', schema, schemaId: LSST_SCHEMA_ID }).value);
  await createTopic(admin, RAW, 1);
  await sendAll(producer, values.map((value) => ({ topic: RAW, value })));

  store = await openStore({ path: ':memory:', threads: 1 });
  const owner = await store.createUser({ email: ada, name: 'Ada' });
  const gone = await store.createUser({ email: `refused-${run}@example.org`, name: 'Gone' });
  bright = await store.saveFilter({ ownerId: owner.id, name: 'bright <now>', select: 'objectId, diaObjectId, alertMag, nSources', where: 'alertMag < 21.5', output: 'email' });
  refused = await store.saveFilter({ ownerId: gone.id, name: 'everything', select: 'diaObjectId', where: '', output: 'email' });
  // Compiles, then fails on the data: the survey's name is not a number.
  failing = await store.saveFilter({ ownerId: owner.id, name: 'not a number', select: 'objectId', where: 'CAST(survey AS INTEGER) > 0', output: 'none' });

  broker = await startBroker({
    kafka: settings,
    topics: [RAW],
    groupId: `nightjar-test-email-${run}`,
    store,
    httpPort: 0,
    deadLetterTopic: DLQ,
    batchSize: 150,
    batchMs: 500,
    decode: { schemas: builtinSchemas() },
    log: quiet,
    onBatch: (r) => reports.push(r),
    email: { smtp: parseSmtpUrl(smtp.url, 'alerts@nightjar.example.org'), publicUrl: PUBLIC, intervalMs: 1000 },
  });
  await waitFor('every alert processed', () => broker.health().messages >= ALERTS);
  // The digest and the filter-error notice.
  await smtp.waitFor(2, 30_000);
  // And the refused owner's digest tried at least once.
  await waitFor('the refused digest attempt', async () => ((await store.emailDigestState(refused.id))?.failures ?? 0) > 0, 30_000);
}, { timeout: 120_000 });

after(async () => {
  await broker?.stop().catch(() => undefined);
  for (const t of [RAW, DLQ]) await deleteTopic(admin, t).catch(() => false);
  await store?.close();
  await smtp?.close();
  await producer?.close();
  await admin?.close();
  if (lease !== undefined) await releaseLocalKafka(lease);
});

function byKind(kind: 'digest' | 'error'): ReceivedEmail[] {
  return smtp.received.filter((e) => /fails on new alerts/.test(e.parsed.subject ?? '') === (kind === 'error'));
}

test('the pipeline records every filter\'s matches in the store, as the batches report them', async () => {
  assert.equal(reports.reduce((n, r) => n + r.messages, 0), ALERTS);
  for (const f of [bright, refused]) {
    const matched = reports.reduce((n, r) => n + (r.filters.find((x) => x.id === f.id)?.matched ?? 0), 0);
    const stored = await store.filterMatches(f.id, { limit: 10_000 });
    assert.ok(matched > 0, `${f.name} matched something`);
    assert.equal(stored.length, matched, `${f.name}: one stored match per reported match`);
    assert.ok(stored.every((m) => m.survey === 'lsst' && typeof m.sourceId === 'bigint' && /^\d+$/.test(m.objectId)));
  }
  const m = (await store.filterMatches(bright.id, { limit: 1 }))[0] as FilterMatch;
  assert.deepEqual(Object.keys(m.row), ['objectId', 'diaObjectId', 'alertMag', 'nSources']);
  assert.equal(String(m.row.diaObjectId), m.objectId, 'the 64-bit id comes back exact');
  assert.ok((m.row.alertMag as number) < 21.5);
});

test('the first digest goes at once with exactly the matches up to its watermark; later ones wait for the next day', async () => {
  const digests = byKind('digest');
  assert.equal(digests.length, 1);
  const email = digests[0] as ReceivedEmail;
  assert.deepEqual(email.envelopeTo, [ada]);
  const state = await store.emailDigestState(bright.id);
  assert.ok(state !== null && state.lastSentAt !== null);
  const all = await store.filterMatches(bright.id, { newestFirst: false, limit: 10_000 });
  const sent = all.filter((m) => m.seq <= state.sentThroughSeq);
  assert.ok(sent.length > 0);
  const listed = [...(email.parsed.text ?? '').matchAll(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\s+(\d+)/gm)].map((x) => x[1]);
  assert.deepEqual(listed, sent.slice(0, 200).map((m) => m.objectId));
  for (const m of sent.slice(0, 200)) assert.ok((email.parsed.html ?? '').includes(`href="${PUBLIC}/objects/lsst/${m.objectId}"`));
  assert.ok((email.parsed.html ?? '').includes('bright &lt;now&gt;'));
  // Matches of later batches are pending, not lost, not sent yet.
  assert.ok(Date.parse(state.lastSentAt) > Date.now() - 120_000);
});

test('a refused owner address fails its own filter only, and shows in the filter service and the metrics', async () => {
  const shown = await broker.service.show(refused.id);
  assert.ok(shown.email !== null);
  assert.ok(shown.email.failures >= 1);
  assert.match(shown.email.lastError ?? '', /refused the recipient refused-.*550/);
  assert.equal(shown.email.lastSentAt, null);
  assert.ok(shown.email.nextDigestAt !== null && Date.parse(shown.email.nextDigestAt) > Date.now(), 'retried later');
  const ok = await broker.service.show(bright.id);
  assert.equal(ok.email?.failures, 0);
  assert.equal(ok.email?.lastSentAt, (await store.emailDigestState(bright.id))?.lastSentAt);
  assert.equal(broker.health().status, 'running');
  const metrics = parseMetrics(await (await fetch(`${broker.http!.url}/metrics`)).text());
  assert.equal(metrics.get('nightjar_emails_sent_total{kind="digest"}'), 1);
  assert.equal(metrics.get('nightjar_emails_sent_total{kind="filter_error"}'), 1);
  assert.ok((metrics.get('nightjar_email_failures_total{kind="digest",reason="permanent"}') ?? 0) >= 1);
  assert.equal(metrics.get('nightjar_email_failing_filters'), 1);
});

test('a filter that fails on new data is reported to its owner once', async () => {
  assert.ok(reports.every((r) => r.filters.find((f) => f.id === failing.id)?.error !== undefined), 'it failed on every batch');
  const errors = byKind('error');
  assert.equal(errors.length, 1, `${reports.length} failing batches, one email`);
  const email = errors[0] as ReceivedEmail;
  assert.deepEqual(email.envelopeTo, [ada]);
  assert.match(email.parsed.subject ?? '', /not a number: the filter fails on new alerts/);
  assert.match(email.parsed.text ?? '', /Conversion|convert|cast/i);
  assert.ok((email.parsed.text ?? '').includes(`${PUBLIC}/filters/${failing.id}`));
  assert.ok((await store.emailDigestState(failing.id))?.filterErrorSentAt !== null);
});
