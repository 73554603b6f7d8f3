// Email digests against a real SMTP server on 127.0.0.1, with a clock moved by hand: the first
// match emailed at once, the next digest not before 24 hours and with every object in between,
// a restart mid-period (store and sender closed and reopened) that keeps the pending objects and
// sends nothing twice, an oversized digest with the full list attached, the SMTP server down
// (retried with back-off, delivered later, failure in the state and metrics), a refused
// recipient that stops nothing else, and filter-error notices at most once a day.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { EmailSender, type EmailSenderOptions } from '../src/email/email-sender.ts';
import { emailStatus } from '../src/email/email-status.ts';
import { createMailer, type Mailer } from '../src/email/mailer.ts';
import { parseSmtpUrl } from '../src/email/smtp-settings.ts';
import { createPipelineMetrics, type PipelineMetrics } from '../src/pipeline/pipeline-metrics.ts';
import { openStore } from '../src/store/index.ts';
import type { NewFilterMatch, Store, StoredFilter } from '../src/store/index.ts';
import type { Logger } from '../src/util/log.ts';
import { HOUR, TestClock, freePort, startSmtpServer, type ReceivedEmail, type TestSmtpServer } from './email-helpers.ts';
import { parseMetrics } from './pipeline-helpers.ts';

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet };
const PUBLIC = 'https://nightjar.example.org';
const BASE_ID = 170587115523932323n;
const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

interface World {
  file: string;
  store: Store;
  clock: TestClock;
  smtp: TestSmtpServer;
  metrics: PipelineMetrics;
  filter: StoredFilter;
  owner: string;
}

async function world(name = 'bright <b>"new"</b> & red'): Promise<World> {
  const dir = await mkdtemp(path.join(tmpdir(), 'nightjar-email-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'store.duckdb');
  const store = await openStore({ path: file, threads: 1 });
  const smtp = await startSmtpServer({ refuse: (a) => a.startsWith('refused') });
  cleanups.push(() => smtp.close());
  const owner = `ada-${Math.random().toString(36).slice(2)}@example.org`;
  const user = await store.createUser({ email: owner, name: 'Ada' });
  const filter = await store.saveFilter({ ownerId: user.id, name, select: 'diaObjectId, gmag, note', where: 'gmag < 20', output: 'email' });
  // A minute ahead: matches are triggered after the filters the test saves (the store stamps those in real time).
  return { file, store, clock: new TestClock(Date.now() + 60_000), smtp, metrics: createPipelineMetrics(), filter, owner };
}

function sender(w: World, mailer: Mailer, extra: Partial<EmailSenderOptions> = {}): EmailSender {
  return new EmailSender({ store: w.store, mailer, publicUrl: PUBLIC, now: w.clock.now, metrics: w.metrics, log: quiet, ...extra });
}

function mailerFor(url: string): Mailer {
  const m = createMailer(parseSmtpUrl(url, 'Nightjar <alerts@nightjar.example.org>'), { connectTimeoutMs: 2000 });
  cleanups.push(async () => m.close());
  return m;
}

let serial = 0;
/** n matches of the filter, triggered now by the world's clock; distinct objects. */
async function addMatches(w: World, n: number, filterId = w.filter.id): Promise<NewFilterMatch[]> {
  const at = w.clock.now().toISOString();
  const matches = Array.from({ length: n }, (): NewFilterMatch => {
    const k = BigInt(++serial);
    return { filterId, objectId: String(BASE_ID + k), sourceId: BASE_ID * 10n + k, mjd: 61000 + Number(k) / 100, matchedAt: at, row: { diaObjectId: BASE_ID + k, gmag: 18 + Number(k) / 1000, note: `<script>x${k}</script>` }, survey: 'lsst' };
  });
  assert.equal(await w.store.addFilterMatches(matches), n);
  return matches;
}

function objectsIn(email: ReceivedEmail): string[] {
  return [...(email.parsed.text ?? '').matchAll(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\s+(\d+)/gm)].map((m) => m[1] as string);
}

const utc = (iso: string): string => iso.slice(0, 19).replace('T', ' ');

function metric(w: World, key: string): number | undefined {
  return parseMetrics(w.metrics.registry.render()).get(key);
}

test('the first match is emailed at once: attributes, UTC trigger time, object links, plain text and escaped HTML', async () => {
  const w = await world();
  const s = sender(w, mailerFor(w.smtp.url));
  assert.deepEqual((await s.runPass()).sent, [], 'nothing matched yet: no email');
  const [m] = await addMatches(w, 1);
  const report = await s.runPass();
  assert.deepEqual(report.sent.map((r) => [r.kind, r.to, r.objects]), [['digest', w.owner, 1]]);
  const [email] = await w.smtp.waitFor(1);
  assert.ok(email !== undefined && m !== undefined);
  assert.deepEqual(email.envelopeTo, [w.owner]);
  assert.equal(email.parsed.from?.address, 'alerts@nightjar.example.org');
  assert.equal(email.parsed.subject, '[Nightjar] bright <b>"new"</b> & red: 1 object passed');
  const text = email.parsed.text ?? '';
  const html = email.parsed.html ?? '';
  assert.match(text, /This is its first match/);
  assert.deepEqual(objectsIn(email), [m.objectId]);
  assert.ok(text.includes(utc(m.matchedAt)), 'the UTC trigger time');
  assert.ok(text.includes(`${PUBLIC}/objects/lsst/${m.objectId}`), 'a link to the object page');
  assert.ok(text.includes(`${PUBLIC}/filters/${w.filter.id}`));
  // 64-bit id exact, the selected attributes, the HTML escaped.
  assert.match(text, /diaObjectId\s+gmag\s+note/);
  assert.ok(text.includes(`${BASE_ID + BigInt(serial)}`));
  assert.ok(html.includes(`<a href="${PUBLIC}/objects/lsst/${m.objectId}">${m.objectId}</a>`));
  assert.ok(html.includes('&lt;script&gt;x'), 'row values are escaped');
  assert.ok(!html.includes('<script>'), 'no markup from the data');
  assert.ok(html.includes('bright &lt;b&gt;&quot;new&quot;&lt;/b&gt; &amp; red'), 'the filter name is escaped');
  assert.equal(email.parsed.attachments.length, 0);
  const state = await w.store.emailDigestState(w.filter.id);
  assert.equal(state?.lastSentAt, w.clock.now().toISOString());
  assert.equal(state?.sentThroughSeq, (await w.store.lastFilterMatchSeq(w.filter.id)));
  assert.equal(metric(w, 'nightjar_emails_sent_total{kind="digest"}'), 1);
  assert.equal(metric(w, 'nightjar_email_objects_total'), 1);
  await s.stop();
  await w.store.close();
});

test('the next digest goes no sooner than 24 hours later, with every object passed in between, none repeated', async () => {
  const w = await world();
  const s = sender(w, mailerFor(w.smtp.url));
  const first = await addMatches(w, 2);
  await s.runPass();
  await w.smtp.waitFor(1);
  w.clock.advance(1 * HOUR);
  const early = await addMatches(w, 3);
  assert.deepEqual((await s.runPass()).sent, []);
  w.clock.advance(19 * HOUR);
  const late = await addMatches(w, 2);
  w.clock.advance(4 * HOUR - 1000);
  assert.deepEqual((await s.runPass()).sent, [], 'one second before the 24 hours are up: nothing');
  assert.equal(w.smtp.received.length, 1);
  w.clock.advance(1000);
  const report = await s.runPass();
  assert.deepEqual(report.sent.map((r) => r.objects), [5]);
  const [, second] = await w.smtp.waitFor(2);
  assert.ok(second !== undefined);
  assert.deepEqual(objectsIn(second), [...early, ...late].map((m) => m.objectId));
  assert.ok(!objectsIn(second).some((id) => first.some((m) => m.objectId === id)), 'the first email\'s objects are not repeated');
  assert.match(second.parsed.text ?? '', /since the previous email/);
  for (const m of [...early, ...late]) assert.ok((second.parsed.text ?? '').includes(utc(m.matchedAt)), 'each object with its own trigger time');
  // Nothing pending: a day later, no email.
  w.clock.advance(25 * HOUR);
  assert.deepEqual((await s.runPass()).sent, []);
  assert.equal(w.smtp.received.length, 2);
  await s.stop();
  await w.store.close();
});

test('a restart mid-period keeps the pending objects and sends nothing twice', async () => {
  const w = await world();
  let s = sender(w, mailerFor(w.smtp.url));
  const first = await addMatches(w, 1);
  await s.runPass();
  w.clock.advance(2 * HOUR);
  const pending = await addMatches(w, 4);
  await s.runPass();
  await s.stop();
  await w.store.close();

  // The broker restarts: store and sender reopened, 10 hours later.
  w.clock.advance(10 * HOUR);
  w.store = await openStore({ path: w.file, threads: 1 });
  s = sender(w, mailerFor(w.smtp.url));
  assert.deepEqual((await s.runPass()).sent, [], 'no resend of the first email, and the period still runs');
  const more = await addMatches(w, 1);
  w.clock.advance(12 * HOUR);
  await s.runPass();
  const all = await w.smtp.waitFor(2);
  assert.equal(all.length, 2);
  assert.deepEqual(objectsIn(all[0] as ReceivedEmail), first.map((m) => m.objectId));
  assert.deepEqual(objectsIn(all[1] as ReceivedEmail), [...pending, ...more].map((m) => m.objectId));
  await s.stop();
  await w.store.close();
});

test('a digest too large for one email lists the first rows and attaches the full list as CSV, and says so', async () => {
  const w = await world();
  const s = sender(w, mailerFor(w.smtp.url), { maxBodyRows: 5 });
  const matches = await addMatches(w, 12);
  await s.runPass();
  const [email] = await w.smtp.waitFor(1);
  assert.ok(email !== undefined);
  assert.equal(email.parsed.subject?.endsWith('12 objects passed'), true);
  assert.deepEqual(objectsIn(email), matches.slice(0, 5).map((m) => m.objectId));
  const note = /Only the first 5 of the 12 objects are listed here; the full list is attached as (nightjar-filter-\d+-\d{8}-\d{6}\.csv)/.exec(email.parsed.text ?? '');
  assert.ok(note !== null, 'the body says the rest is attached');
  assert.ok((email.parsed.html ?? '').includes('Only the first 5 of the 12 objects'));
  assert.equal(email.parsed.attachments.length, 1);
  const attachment = email.parsed.attachments[0];
  assert.ok(attachment !== undefined);
  assert.equal(attachment.filename, note[1]);
  assert.match(attachment.mimeType, /text\/csv/);
  const lines = String(attachment.content).trimEnd().split('\r\n');
  assert.equal(lines[0], 'UTC,objectId,survey,sourceId,mjd,diaObjectId,gmag,note,url');
  assert.equal(lines.length, 13);
  lines.slice(1).forEach((line, i) => {
    const m = matches[i] as NewFilterMatch;
    assert.equal(line, [utc(m.matchedAt), m.objectId, 'lsst', String(m.sourceId), String(m.mjd), String(m.row.diaObjectId), String(m.row.gmag), String(m.row.note), `${PUBLIC}/objects/lsst/${m.objectId}`].join(','));
  });
  await s.stop();
  await w.store.close();
});

test('SMTP down: retried with back-off, delivered later; the failure shows in the state, the status and the metrics', async () => {
  const w = await world();
  const port = await freePort();
  const s = sender(w, mailerFor(`smtp://127.0.0.1:${port}?security=none`), { retry: { baseMs: 60_000 } });
  const matches = await addMatches(w, 3);
  const failed = await s.runPass();
  assert.equal(failed.failed.length, 1);
  let state = await w.store.emailDigestState(w.filter.id);
  assert.equal(state?.failures, 1);
  assert.match(state?.lastError ?? '', /ECONNREFUSED|connect/);
  assert.equal(state?.retryAt, new Date(w.clock.now().getTime() + 60_000).toISOString());
  assert.equal(state?.lastSentAt, null);
  assert.equal(metric(w, 'nightjar_email_failures_total{kind="digest",reason="temporary"}'), 1);
  assert.equal(metric(w, 'nightjar_email_failing_filters'), 1);
  const status = emailStatus(state!);
  assert.equal(status.failures, 1);
  assert.equal(status.nextDigestAt, state?.retryAt);

  // Still down a minute later: the second failure doubles the wait.
  w.clock.advance(60_000);
  await s.runPass();
  state = await w.store.emailDigestState(w.filter.id);
  assert.equal(state?.failures, 2);
  assert.equal(state?.retryAt, new Date(w.clock.now().getTime() + 120_000).toISOString());

  // The server comes up on that port; no try before the back-off is over, then delivery.
  const up = await startSmtpServer({ port });
  cleanups.push(() => up.close());
  w.clock.advance(60_000);
  assert.deepEqual(await s.runPass(), { sent: [], failed: [] }, 'waiting out the back-off');
  w.clock.advance(60_000);
  assert.equal((await s.runPass()).sent.length, 1);
  const [email] = await up.waitFor(1);
  assert.deepEqual(objectsIn(email as ReceivedEmail), matches.map((m) => m.objectId));
  state = await w.store.emailDigestState(w.filter.id);
  assert.equal(state?.failures, 0);
  assert.equal(state?.retryAt, null);
  assert.equal(state?.lastSentAt, w.clock.now().toISOString());
  assert.match(state?.lastError ?? '', /ECONNREFUSED|connect/, 'the last error stays on record');
  assert.equal(metric(w, 'nightjar_email_failing_filters'), 0);
  assert.equal(metric(w, 'nightjar_emails_sent_total{kind="digest"}'), 1);
  await s.stop();
  await w.store.close();
});

test('a refused recipient fails only its own filter; the others are delivered', async () => {
  const w = await world();
  const refusedUser = await w.store.createUser({ email: `refused-${serial}@example.org`, name: 'Gone' });
  const refusedFilter = await w.store.saveFilter({ ownerId: refusedUser.id, name: 'theirs', select: 'diaObjectId', where: '', output: 'email' });
  const s = sender(w, mailerFor(w.smtp.url));
  await addMatches(w, 2, refusedFilter.id);
  const mine = await addMatches(w, 2);
  const report = await s.runPass();
  assert.deepEqual(report.sent.map((r) => r.filterId), [w.filter.id]);
  assert.deepEqual(report.failed.map((r) => r.filterId), [refusedFilter.id]);
  const [email] = await w.smtp.waitFor(1);
  assert.deepEqual(objectsIn(email as ReceivedEmail), mine.map((m) => m.objectId));
  const state = await w.store.emailDigestState(refusedFilter.id);
  assert.match(state?.lastError ?? '', /refused the recipient refused-\d+@example\.org.*550/);
  assert.equal(state?.retryAt, new Date(w.clock.now().getTime() + 60_000).toISOString());
  assert.equal(metric(w, 'nightjar_email_failures_total{kind="digest",reason="permanent"}'), 1);
  await s.stop();
  await w.store.close();
});

test('a failing filter is reported to its owner at most once a day', async () => {
  const w = await world();
  const s = sender(w, mailerFor(w.smtp.url));
  const failing = { id: w.filter.id, output: 'email', matched: 0, error: 'Binder Error: division by zero in "gmag / 0"' };
  s.noteBatch([failing]);
  w.clock.advance(1000);
  s.noteBatch([failing]);
  const report = await s.runPass();
  assert.deepEqual(report.sent.map((r) => r.kind), ['filter_error']);
  const [email] = await w.smtp.waitFor(1);
  assert.ok(email !== undefined);
  assert.match(email.parsed.subject ?? '', /the filter fails on new alerts/);
  assert.match(email.parsed.text ?? '', /failed on 2 batches/);
  assert.ok((email.parsed.text ?? '').includes(failing.error));
  assert.ok((email.parsed.html ?? '').includes('division by zero in &quot;gmag / 0&quot;'));
  // It keeps failing: nothing more the same day.
  for (let h = 0; h < 20; h += 5) {
    w.clock.advance(5 * HOUR);
    s.noteBatch([failing]);
    assert.deepEqual((await s.runPass()).sent, []);
  }
  w.clock.advance(4 * HOUR);
  s.noteBatch([failing]);
  assert.deepEqual((await s.runPass()).sent.map((r) => r.kind), ['filter_error'], 'a day later, one more');
  assert.equal(w.smtp.received.length, 2);
  assert.equal(metric(w, 'nightjar_emails_sent_total{kind="filter_error"}'), 2);
  await s.stop();
  await w.store.close();
});

test('matches from before a filter became an email filter are not emailed', async () => {
  const w = await world();
  const kafka = await w.store.saveFilter({ ownerId: w.filter.ownerId, name: 'was kafka', select: 'diaObjectId', where: '', output: 'kafka', topic: `t-${serial}` });
  const s = sender(w, mailerFor(w.smtp.url));
  // Matched while it streamed to Kafka (before it was saved as an email filter).
  w.clock.advance(-120_000);
  await addMatches(w, 3, kafka.id);
  await s.runPass();
  const switched = await w.store.saveFilter({ ...kafka, output: 'email', topic: null, tables: kafka.tables });
  w.clock.advance(180_000);
  const after = await addMatches(w, 2, switched.id);
  await s.runPass();
  const [email] = await w.smtp.waitFor(1);
  assert.deepEqual(objectsIn(email as ReceivedEmail), after.map((m) => m.objectId));
  await s.stop();
  await w.store.close();
});

test('the loop: started, woken by a batch that matched an email filter, stopped', async () => {
  const w = await world();
  const s = sender(w, mailerFor(w.smtp.url), { intervalMs: 3_600_000 });
  s.start();
  await new Promise((r) => setTimeout(r, 200));
  const [m] = await addMatches(w, 1);
  s.noteBatch([{ id: w.filter.id, output: 'email', matched: 1 }]);
  const [email] = await w.smtp.waitFor(1, 5000);
  assert.deepEqual(objectsIn(email as ReceivedEmail), [m?.objectId]);
  await s.stop();
  await w.store.close();
});
