// `nightjar filter ...` as a user runs it, against a broker-style API server started here (the
// filter service and its Fastify plugin on 127.0.0.1) with a store of synthetic alerts and the
// local Kafka: add, list, show, update, remove, JSON output, and bad filters shown with a caret.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Admin } from '@platformatic/kafka';
import Fastify, { type FastifyInstance } from 'fastify';
import { repoRoot } from '../src/kafka/local-config.ts';
import { filterApiRoutes } from '../src/service/filter-api.ts';
import { retainedRecords, type FilterService } from '../src/service/filter-service.ts';
import type { Store } from '../src/store/index.ts';
import { parse } from '../src/util/json.ts';
import { openServiceFixture, type ServiceFixture } from './helpers/service-fixture.ts';

const prefix = `njtest-cli-${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
let fixture: ServiceFixture;
let admin: Admin;
let store: Store;
let service: FilterService;
let app: FastifyInstance;
let api: string;

before(async () => {
  fixture = await openServiceFixture({ prefix, alerts: { seed: 7, objects: 300, count: 1500 } });
  ({ admin, store, service } = fixture);
  app = Fastify({ logger: false });
  await app.register(filterApiRoutes, { service });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  api = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
});

after(async () => {
  await app.close();
  await fixture.close();
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function nightjar(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--disable-warning=ExperimentalWarning', path.join(repoRoot, 'src/cli/main.ts'), 'filter', ...args, '--api', api], { cwd: repoRoot, timeout: 120_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr });
    });
  });
}

test('add, list, show, update and remove a Kafka filter through the API', { timeout: 180_000 }, async () => {
  const add = await nightjar('add', '--owner', 'ann@example.org', '--name', 'bright SN', '--output', 'kafka', '--select', 'diaObjectId, ra, decl, alertMag', '--where', 'nSources >= 3 AND alertMag < 21', '--description', 'bright and seen often');
  assert.equal(add.code, 0, add.stderr);
  assert.equal(add.stderr, '', 'the API answered: no fallback');
  const user = await store.findUserByEmail('ann@example.org');
  assert.ok(user !== null);
  const topic = `${prefix}_${user.id}brightSN`;
  const lines = add.stdout.split('\n');
  assert.equal(lines[0], `filter 1 "bright SN" saved, owner ann@example.org (user ${user.id})`);
  assert.equal(lines[1], `  output: kafka stream → topic ${topic}`);
  assert.match(lines[2] ?? '', /^ {2}stream: 0 old records deleted, 10 records put in \(\d+ bytes\)$/);
  assert.equal(lines.filter((l) => l.startsWith('    {"diaObjectId":')).length, 10, 'the rows sent, as JSON');
  assert.equal(await retainedRecords(admin, topic), 10);

  const list = await nightjar('list');
  assert.equal(list.code, 0, list.stderr);
  const [header, row] = list.stdout.trimEnd().split('\n');
  assert.match(header ?? '', /^ID +OWNER +NAME +OUTPUT +TOPIC$/);
  assert.match(row ?? '', new RegExp(`^1 +ann@example\\.org +bright SN +kafka +${topic} +private$`));

  const json = await nightjar('list', '--json', '--owner', 'ann@example.org');
  const listed = (parse(json.stdout) as { filters: { id: number; name: string; topic: string }[] }).filters;
  assert.deepEqual(listed.map((f) => [f.id, f.name, f.topic]), [[1, 'bright SN', topic]]);

  const show = await nightjar('show', '1');
  assert.equal(show.code, 0, show.stderr);
  assert.ok(show.stdout.includes('  where:       nSources >= 3 AND alertMag < 21\n'), show.stdout);
  assert.ok(show.stdout.includes(`  topic:       ${topic} (10 records retained)\n`), show.stdout);
  assert.ok(show.stdout.includes('  counters:    nothing delivered yet'));

  const update = await nightjar('update', '1', '--where', 'alertMag < 19', '--public');
  assert.equal(update.code, 0, update.stderr);
  const expected = (await store.queryObjects('SELECT count(*) AS n FROM objects WHERE alertMag < 19')).rows[0]?.n as bigint;
  assert.ok(expected > 0n && expected < 10n);
  assert.match(update.stdout, new RegExp(`stream: 10 old records deleted, ${expected} records? put in`));
  assert.equal(await retainedRecords(admin, topic), Number(expected));

  const renamed = await nightjar('update', '1', '--name', 'very bright', '--json');
  assert.equal(renamed.code, 0, renamed.stderr);
  const saved = parse(renamed.stdout) as { filter: { topic: string }; stream: { previousTopic: string; records: number } };
  assert.equal(saved.filter.topic, `${prefix}_${user.id}verybright`);
  assert.equal(saved.stream.previousTopic, topic);

  const remove = await nightjar('remove', '1');
  assert.equal(remove.code, 0, remove.stderr);
  assert.equal(remove.stdout, `filter 1 "very bright" removed\n  topic ${saved.filter.topic} deleted\n`);
  const gone = await nightjar('show', '1');
  assert.deepEqual([gone.code, gone.stderr], [1, 'nightjar: there is no filter 1\n']);
});

test('a bad filter is shown with a caret under the position in the user\'s text, and exits 1', { timeout: 60_000 }, async () => {
  const bad = await nightjar('add', '--owner', 'ann@example.org', '--name', 'typo', '--select', 'diaObjectId', '--where', 'alertMag < 19 AND nSourcs > 3');
  assert.equal(bad.code, 1);
  assert.equal(bad.stdout, '');
  assert.equal(
    bad.stderr,
    [
      'nightjar: the filter has a problem:',
      'where: alertMag < 19 AND nSourcs > 3',
      '                         ^ unknown column "nSourcs" in WHERE — did you mean "nSources"?',
      '',
    ].join('\n'),
  );

  const two = await nightjar('add', '--owner', 'ann@example.org', '--name', 'two', '--select', 'diaObjectId, rra', '--where', 'alertMag < 19 AND nSourcs > 3', '--json');
  assert.equal(two.code, 1);
  assert.match(two.stderr, /^nightjar: the filter has 2 problems:\nselect: diaObjectId, rra\n {21}\^ unknown column "rra"/);
  const body = parse(two.stdout) as { error: string; errors: { part: string; offset: number }[] };
  assert.equal(body.error, 'invalid-filter');
  assert.deepEqual(body.errors.map((e) => [e.part, e.offset]), [['select', 13], ['where', 18]]);

  // An update's problem in a box it did not change is shown under the stored text.
  const ok = await nightjar('add', '--owner', 'ann@example.org', '--name', 'ok', '--select', 'diaObjectId', '--where', 'alertMag < 19');
  assert.equal(ok.code, 0, ok.stderr);
  const id = /^filter (\d+) /.exec(ok.stdout)?.[1] ?? '';
  const badUpdate = await nightjar('update', id, '--select', 'diaObjectId, alertMag +');
  assert.equal(badUpdate.code, 1);
  assert.match(badUpdate.stderr, /\nselect: diaObjectId, alertMag \+\n {8}/);

  const output = await nightjar('add', '--owner', 'ann@example.org', '--name', 'x', '--select', 'diaObjectId', '--output', 'pigeon');
  assert.deepEqual([output.code, output.stderr], [1, 'nightjar: unknown stream output "pigeon"; expected one of none, email, kafka, kafka-lite, kafka-full, kafka-avro\n']);
  const nothing = await nightjar('update', id);
  assert.equal(nothing.code, 1);
  assert.match(nothing.stderr, /nothing to change/);
});
