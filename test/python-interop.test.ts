// Python interoperability: the simulator's Confluent wire-format stream, read by Python's
// confluent_kafka and decoded by fastavro with writer schemas fetched from Nightjar's registry
// over HTTP (what a Rubin broker written in Python does). The Python packages come from PyPI,
// pinned in test/python/requirements.txt, installed by scripts/python-env.sh into .cache/python.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Admin } from '@platformatic/kafka';
import { toAlert } from '../src/formats/adapters/index.ts';
import { builtinSchemas } from '../src/formats/builtin-schemas.ts';
import { readAlertFile } from '../src/formats/files.ts';
import { combinedSource, schemaDirectory } from '../src/formats/schema-source.ts';
import { createAdmin, defaultSettings, type KafkaSettings } from '../src/kafka/connection.ts';
import { repoRoot } from '../src/kafka/local-config.ts';
import { deleteTopic } from '../src/kafka/topics.ts';
import { registryPreload } from '../src/registry/registry-preload.ts';
import { startRegistryServer, type RunningRegistry } from '../src/registry/registry-server.ts';
import { openRegistryStore } from '../src/registry/registry-store.ts';
import { listAlertInputs } from '../src/simulate/alert-sources.ts';
import { runSimulation, type SimulationSpec } from '../src/simulate/simulation.ts';
import { generateAlerts } from '../src/simulate/synthetic.ts';
import { parse } from '../src/util/json.ts';
import { acquireLocalKafka, releaseLocalKafka, type Lease } from './setup/local-kafka.ts';

const run = promisify(execFile);
const data = path.resolve(repoRoot, '../shared/data');
const REAL_RUBIN = ['fink-broker/datasim', 'boom/alerts/lsst', 'fink-client/datatest/lsst'].map((p) => path.join(data, p));
const schemas = combinedSource([schemaDirectory(path.join(data, 'lsst-alert_packet/schema')), builtinSchemas()]);
const SYNTHETIC = 300;

let python: string;
let lease: Lease;
let settings: KafkaSettings;
let admin: Admin;
let registry: RunningRegistry;
const topic = `nightjar-test-python-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;

before(async () => {
  // Creates the venv on the first run (about 10 s from PyPI wheels); instant afterwards.
  const env = await run(path.join(repoRoot, 'scripts/python-env.sh'), [], { timeout: 600_000 });
  python = env.stdout.trim().split('\n').at(-1) as string;
  lease = await acquireLocalKafka();
  settings = defaultSettings();
  admin = createAdmin(settings);
  registry = await startRegistryServer({ store: openRegistryStore({ preload: registryPreload().schemas }) });
});

after(async () => {
  await deleteTopic(admin, topic).catch(() => false);
  await admin.close();
  await registry.close();
  await releaseLocalKafka(lease);
});

interface PythonLine {
  partition: number;
  offset: number;
  key: string;
  schema_id: number;
  diaSourceId: bigint | number;
  midpointMjdTai: number;
}

test('confluent_kafka + fastavro read the simulator\'s wire-format stream with schemas from Nightjar\'s registry; ids exact', { timeout: 600_000 }, async () => {
  const common: Omit<SimulationSpec, 'topic'> = {
    grouping: { kind: 'exposure' },
    observations: -1,
    intervalSeconds: 0,
    fast: true,
    partitions: 3,
    encoding: 'confluent',
    registryUrl: registry.url,
    kafka: settings,
    decode: { schemas },
    out: () => {},
    warn: (line) => assert.fail(line),
  };
  const real = await runSimulation({ ...common, topic, data: REAL_RUBIN });
  const synthetic = await runSimulation({ ...common, topic, synthetic: { count: SYNTHETIC, seed: 3, cutouts: true } });
  const total = real.sent + synthetic.sent;
  assert.equal(total, 50 + SYNTHETIC);

  // What was sent: diaSourceId → (object id, time), from the sources themselves.
  const sent = new Map<string, { key: string; mjd: number }>();
  for (const input of await listAlertInputs(REAL_RUBIN)) {
    for (const d of await readAlertFile(input.path, { schemas })) {
      const alert = toAlert(d.record, d.schema.name);
      sent.set(String(alert.sourceId), { key: String(alert.objectId), mjd: alert.mjd });
    }
  }
  for (const record of generateAlerts({ seed: 3, objects: 20_000, count: SYNTHETIC, cutouts: false })) {
    const alert = toAlert(record, 'lsst.v10_0.alert');
    sent.set(String(alert.sourceId), { key: String(alert.objectId), mjd: alert.mjd });
  }
  assert.equal(sent.size, total, 'the sample has distinct diaSourceIds');

  const bootstrap = settings.bootstrap.join(',');
  const { stdout, stderr } = await run(python, [path.join(repoRoot, 'test/python/consume_wire_stream.py'), bootstrap, topic, registry.url, String(total), '120'], { timeout: 180_000, maxBuffer: 64 * 1024 * 1024 });
  const lines = stdout.trim().split('\n').map((l) => parse(l) as PythonLine);
  assert.equal(lines.length, total, stderr);
  const seen = new Set<string>();
  for (const line of lines) {
    const id = String(line.diaSourceId);
    const expected = sent.get(id);
    assert.ok(expected !== undefined, `Python decoded diaSourceId ${id}, which was not sent (a rounded 64-bit id?)`);
    assert.ok(!seen.has(id), `${id} twice`);
    seen.add(id);
    assert.equal(line.key, expected.key, `key of ${id}`);
    assert.equal(line.midpointMjdTai, expected.mjd, `time of ${id}`);
  }
  const ids = new Set(lines.map((l) => l.schema_id));
  for (const id of [701, 703, 900, 1000]) assert.ok(ids.has(id), `schema id ${id} fetched by Python`);
  assert.ok(lines.some((l) => typeof l.diaSourceId === 'bigint' && l.diaSourceId > 2n ** 53n), 'ids beyond 2^53 came through Python exactly');
});
