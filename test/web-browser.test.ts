// The web app in a real headless Chromium (Debian's package, driven by playwright-core) on a
// running broker that serves it, fed by the simulator with synthetic Rubin alerts: sign up,
// write a filter with a mistake and see the inline error, fix it, run it, save it as a Kafka
// stream and see the "10 records" message, watch new matches arrive live while the simulator
// sends more, open an object page and see its lightcurve; then `./nightjar consume` (a child
// process) reads the filter's topic. Screenshots of the main pages go to
// test-output/screenshots/. Chromium: scripts/install-chromium.sh installs it when missing.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Admin } from '@platformatic/kafka';
import { chromium, type Browser, type Page } from 'playwright-core';
import { builtinSchemas } from '../src/formats/builtin-schemas.ts';
import { createAdmin, defaultSettings, type KafkaSettings } from '../src/kafka/connection.ts';
import { repoRoot } from '../src/kafka/local-config.ts';
import { createTopic, deleteTopic, listTopics } from '../src/kafka/topics.ts';
import { startBroker, type RunningBroker } from '../src/pipeline/broker.ts';
import { runSimulation } from '../src/simulate/simulation.ts';
import { openStore, type Store } from '../src/store/index.ts';
import { createLogger, type Logger } from '../src/util/log.ts';
import { acquireLocalKafka, releaseLocalKafka, type Lease } from './setup/local-kafka.ts';

const run = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
const PREFIX = `njtest-web-${run}`;
const RAW = `${PREFIX}-raw`;
const DLQ = `${PREFIX}-dlq`;
const SCREENSHOTS = path.join(repoRoot, 'test-output', 'screenshots');
const FIRST_ALERTS = 600;
const MORE_ALERTS = 400;

const quiet: Logger = { debug() {}, info() {}, warn() {}, error: (m, f) => createLogger().error(m, f), child() { return quiet; } };

let lease: Lease;
let settings: KafkaSettings;
let admin: Admin;
let store: Store;
let broker: RunningBroker;
let browser: Browser;
let page: Page;
let base: string;
/** Content-Security-Policy violations and uncaught script errors the pages caused. */
const pageProblems: string[] = [];

function chromiumPath(): string {
  const candidates = [process.env.NIGHTJAR_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/lib/chromium/chromium'];
  const found = candidates.find((c): c is string => c !== undefined && c !== '' && existsSync(c));
  if (found === undefined) throw new Error('no Chromium found: run scripts/install-chromium.sh (or set NIGHTJAR_CHROMIUM)');
  return found;
}

async function simulate(count: number, seed: number): Promise<number> {
  const result = await runSimulation({
    topic: RAW,
    synthetic: { count, seed, cutouts: false, objects: 150 },
    grouping: { kind: 'exposure' },
    observations: -1,
    intervalSeconds: 0,
    fast: true,
    partitions: 1,
    encoding: 'container',
    kafka: settings,
    out: () => {},
    warn: () => {},
  });
  return result.sent;
}

async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

before(async () => {
  lease = await acquireLocalKafka();
  settings = defaultSettings();
  admin = createAdmin(settings);
  await mkdir(SCREENSHOTS, { recursive: true });
  await createTopic(admin, RAW, 1);
  const sent = await simulate(FIRST_ALERTS, 21);
  store = await openStore({ path: ':memory:' });
  broker = await startBroker({
    kafka: settings,
    topics: [RAW],
    groupId: `${PREFIX}-group`,
    store,
    httpPort: 0,
    web: {},
    topicPrefix: PREFIX,
    deadLetterTopic: DLQ,
    batchMs: 300,
    lagIntervalMs: 500,
    decode: { schemas: builtinSchemas() },
    log: quiet,
  });
  base = broker.http?.url ?? assert.fail('the broker has no HTTP server');
  await waitFor('the broker to take the first alerts', () => broker.health().messages >= sent);
  browser = await chromium.launch({ executablePath: chromiumPath(), args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(20_000);
  // The pages run under a strict CSP (src/web/security-headers.ts): Chromium reports anything it
  // blocks on the console ("Refused to ... Content Security Policy"). Any such line fails the test.
  page.on('console', (message) => {
    if (/Content Security Policy|Refused to (load|execute|apply|connect|frame)/i.test(message.text())) pageProblems.push(`${page.url()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => pageProblems.push(`${page.url()}: uncaught ${error.message}`));
});

after(async () => {
  await browser?.close();
  await broker?.stop();
  await store?.close();
  for (const topic of await listTopics(admin)) if (topic.startsWith(PREFIX)) await deleteTopic(admin, topic).catch(() => false);
  await admin?.close();
  await releaseLocalKafka(lease);
});

function nightjar(args: string[], timeoutMs = 60_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(repoRoot, 'nightjar'), args, { cwd: repoRoot, env: { ...process.env, NIGHTJAR_HOME: path.join(repoRoot, 'test-output', `home-${run}`), NIGHTJAR_LOG_LEVEL: 'warn' } });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

test('an astronomer signs up, builds a Kafka filter in the browser, sees it stream live, and consumes it', { timeout: 240_000 }, async () => {
  // Home page and sign up.
  await page.goto(`${base}/`);
  await shot('home');
  await page.getByRole('link', { name: 'Sign up' }).first().click();
  await page.getByLabel('Email').fill(`astro-${run}@example.org`);
  await page.getByLabel('Name').fill('Ada Astronomer');
  await page.getByLabel('Password').fill('a long enough passphrase');
  await page.getByRole('button', { name: 'Sign up' }).click();
  await page.waitForURL(`${base}/filters`);
  assert.equal(await page.locator('.account .user-name').textContent(), 'Ada Astronomer');

  // The builder: a misspelt column is marked in the WHERE box, at the right word.
  await page.getByRole('link', { name: 'New filter' }).first().click();
  await page.waitForURL(`${base}/filters/new`);
  await page.locator('#f-select').fill('objectId, diaObjectId, alertMag, nSources');
  await page.locator('#f-where').fill('nSources >= 2\nAND nSourcs > 0');
  const problem = page.locator('.problem[data-part="where"]');
  await problem.waitFor();
  assert.match((await problem.locator('.message').textContent()) ?? '', /nSourcs/);
  assert.match((await problem.locator('pre').textContent()) ?? '', /where \(line 2\): AND nSourcs > 0\n\s+\^/);
  assert.equal(await page.locator('[data-sql-field="where"] .backdrop mark').textContent(), 'nSourcs');
  assert.equal(await page.locator('[data-problems="select"] .problem').count(), 0, 'nothing marked in SELECT');
  await page.locator('#ref-search').fill('mag/day');
  await shot('builder-error');

  // Fixed, it runs: a sortable table of stored objects.
  await page.locator('#f-where').fill('nSources >= 2');
  // Polled from here: a string evaluated in the page would be refused by the CSP (no eval).
  await waitFor('the problems to clear', async () => (await page.locator('.problem').count()) === 0, 20_000);
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  await page.locator('#results-table tbody tr').first().waitFor();
  const rows = await page.locator('#results-table tbody tr').count();
  assert.ok(rows > 10, `the run found ${rows} rows`);
  assert.match((await page.locator('#run-meta').textContent()) ?? '', /rows/);
  await page.locator('#results-table th', { hasText: 'alertMag' }).getByRole('button').click();
  const mags = (await page.locator('#results-table tbody tr td:nth-child(3)').allTextContents()).map(Number).filter((m) => Number.isFinite(m));
  assert.deepEqual(mags, [...mags].sort((a, b) => a - b), 'sorted by alertMag');
  await shot('builder-results');

  // Save as a Kafka stream: the page says the stream was reset with 10 records.
  await page.getByRole('button', { name: 'Save…' }).click();
  await page.getByLabel('Name').fill(`Web test ${run}`);
  await page.getByLabel('Description').fill('Objects with at least two detections.');
  await page.locator('input[name="output"][value="kafka"]').check();
  await page.getByLabel(/Public/).check();
  await page.getByRole('button', { name: 'Save filter' }).click();
  await page.waitForURL(/\/filters\/\d+\?saved=/);
  const notice = (await page.locator('#save-notice').textContent()) ?? '';
  assert.match(notice, /was reset: 0 old records were deleted and 10 records were put in it/);
  const topic = (await page.locator('#topic-name').textContent()) ?? '';
  assert.ok(topic.startsWith(PREFIX), topic);
  const filterId = Number(/\/filters\/(\d+)/.exec(page.url())?.[1]);
  await page.locator('#live-state.live').waitFor();
  await shot('filter-saved');

  // New alerts arrive: matches appear in the page without a reload.
  const before = await page.locator('#matches-table tbody tr').count();
  await simulate(MORE_ALERTS, 22);
  await page.locator('#matches-table tbody tr.fresh').first().waitFor({ timeout: 60_000 });
  await waitFor('more live rows', async () => (await page.locator('#matches-table tbody tr').count()) > before, 30_000);
  assert.match((await page.locator('#matches-table tbody tr').first().locator('td.id').textContent()) ?? '', /^\d+$/);
  await shot('filter-live');

  // The first match's object page: a lightcurve with points, flux and magnitude views.
  await page.locator('#matches-table tbody tr').first().locator('td.id a').click();
  await page.waitForURL(/\/objects\/lsst\/\d+/);
  const points = await page.locator('#plot-flux svg circle.detection').count();
  assert.ok(points >= 2, `${points} detections plotted`);
  assert.ok((await page.locator('#detections-table tbody tr').count()) >= 2);
  await shot('object');
  await page.getByRole('button', { name: 'Magnitude' }).click();
  assert.equal(await page.locator('#plot-mag').isVisible(), true);
  assert.equal(await page.locator('#plot-flux').isVisible(), false);

  // The other main pages.
  await page.goto(`${base}/filters`);
  await page.getByText(`Web test ${run}`).waitFor();
  await shot('my-filters');
  await page.goto(`${base}/gallery`);
  await page.getByText(`Web test ${run}`).waitFor();
  await shot('gallery');
  await page.goto(`${base}/objects`);
  await shot('objects');
  await page.goto(`${base}/status`);
  await page.getByText('Alerts ingested per minute').waitFor();
  await shot('status');
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${base}/filters/new`);
  await shot('builder-phone');

  // The account page, then: no page broke the content security policy or threw.
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto(`${base}/account`);
  await page.getByText('Kafka credentials').first().waitFor();
  await shot('account');
  assert.deepEqual(pageProblems, [], 'CSP violations or script errors in the pages');
  // The check itself works: an inline style, which the policy refuses, is reported.
  await page.addStyleTag({ content: 'body { color: red }' }).catch(() => undefined);
  await waitFor('the refused inline style to be reported', () => pageProblems.length > 0, 10_000);
  assert.match(pageProblems.splice(0).join('\n'), /Content Security Policy/);

  // The same topic read by `nightjar consume`.
  // The 10 backfilled records plus what the pipeline delivered since (its counters; the topic's
  // offsets also count the transaction markers of the broker's exactly-once producer).
  const delivered = (await store.filterCounters(filterId)).reduce((s, c) => s + c.records, 0);
  assert.ok(delivered > 0, 'the pipeline added records to the stream');
  const total = 10 + delivered;
  const consumed = await nightjar(['consume', '--servers', lease.bootstrap, '--topics', topic, '--group-id', `${PREFIX}-reader`, '--display', '--limit', String(total), '--timeout', '15', '--no-progress']);
  assert.equal(consumed.code, 0, consumed.stderr);
  const lines = consumed.stdout.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| Emitted') && !l.startsWith('| ---'));
  assert.equal(lines.length, total, consumed.stdout.slice(0, 2000));
  assert.ok(lines.every((l) => l.includes(topic)), 'every row names the topic');
});
