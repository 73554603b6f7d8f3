// The schema registry's store: Rubin ids where the schema says one, the next free id otherwise,
// idempotent registration, and ids that survive a restart (the JSON file).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readAlertFile } from '../src/formats/files.ts';
import { LSST_SCHEMA_ID, lsstAlertParsedSchema } from '../src/formats/lsst-schema.ts';
import { schemaDirectory } from '../src/formats/schema-source.ts';
import { repoRoot } from '../src/kafka/local-config.ts';
import { RegistryError } from '../src/registry/registry-errors.ts';
import { registryPreload } from '../src/registry/registry-preload.ts';
import { openRegistryStore } from '../src/registry/registry-store.ts';
import { derivedSchemaId, schemaKey } from '../src/registry/schema-ids.ts';

const data = path.resolve(repoRoot, '../shared/data');
const schemaDir = path.join(data, 'lsst-alert_packet/schema');
const sparkFile = path.join(data, 'fink-broker/datasim/rubin_test_data_9_0_avro/169298432598474793_169298432598474793.avro');
const sparkFile74 = path.join(data, 'fink-broker/datasim/rubin_test_data_7_4_avro/58804293150441522_58804293150441522.avro');

async function tempFile(): Promise<{ file: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'nightjar-registry-'));
  return { file: path.join(dir, 'registry', 'schemas.json'), cleanup: () => rm(dir, { recursive: true, force: true }) };
}

test('ids: Rubin major*100+minor from the name or confluent:version; none for Spark names', () => {
  assert.equal(derivedSchemaId('{"type":"record","name":"alert","namespace":"lsst.v9_0","fields":[]}', 'lsst.v9_0.alert'), 900);
  assert.equal(derivedSchemaId('{"type":"record","name":"alert","fields":[{"name":"x","type":{"type":"record","name":"s","fields":[],"confluent:version":1101}}]}', 'lsst.v11_1.alert'), 1101);
  assert.equal(derivedSchemaId('{"type":"record","name":"topLevelRecord","fields":[]}', 'topLevelRecord'), undefined);
  assert.equal(schemaKey('{ "type" : "string" }'), schemaKey('"string"'));
  assert.equal(schemaKey('{"type":"record","name":"a","doc":"x","fields":[{"name":"f","type":["null","int"],"default":null,"doc":"y"}]}'), schemaKey('{"type":"record","name":"a","fields":[{"name":"f","type":["null","int"]}]}'));
  assert.notEqual(schemaKey('{"type":"record","name":"a","fields":[]}'), schemaKey('{"type":"record","name":"b","fields":[]}'));
});

test('a fresh store holds the built-in lsst.v10_0 as id 1000; registration is idempotent', () => {
  const store = openRegistryStore({ preload: registryPreload().schemas });
  const builtin = lsstAlertParsedSchema();
  assert.equal(store.schemaById(LSST_SCHEMA_ID)?.text, builtin.text);
  assert.deepEqual(store.subjects(), ['lsst.v10_0.alert']);

  // The same text under the topic's subject: same id, version 1 there; again: unchanged.
  assert.deepEqual(store.register('alerts-value', builtin.text), { id: 1000, version: 1, created: true });
  assert.deepEqual(store.register('alerts-value', builtin.text), { id: 1000, version: 1, created: false });
  // Only the layout differs: the same schema.
  const relaid = JSON.stringify(JSON.parse(builtin.text), null, 2);
  assert.deepEqual(store.register('alerts-value', relaid), { id: 1000, version: 1, created: false });
  assert.equal(store.schemaById(1000)?.text, builtin.text, 'the first text is the one served');
  assert.deepEqual(store.subjects(), ['alerts-value', 'lsst.v10_0.alert']);
});

test('schemas without a Rubin id get the next free id; a taken Rubin id is not reused', async () => {
  const store = openRegistryStore({ preload: registryPreload().schemas });
  const [spark9] = await readAlertFile(sparkFile);
  const [spark74] = await readAlertFile(sparkFile74);
  assert.equal(spark9!.schema.name, 'topLevelRecord');
  assert.equal(store.register('raw-value', spark9!.schema.text).id, 1);
  assert.deepEqual(store.register('raw-value', spark74!.schema.text), { id: 2, version: 2, created: true });
  assert.deepEqual(store.versions('raw-value'), [1, 2]);
  assert.equal(store.version('raw-value', 'latest')?.id, 2);
  assert.equal(store.version('raw-value', 1)?.id, 1);
  assert.equal(store.version('raw-value', 3), undefined);
  assert.equal(store.versions('nope'), undefined);
  assert.equal(store.lookup('raw-value', spark74!.schema.text)?.version, 2);
  assert.equal(store.lookup('lsst.v10_0.alert', spark74!.schema.text), undefined);

  // Another lsst.v10_0.alert (a field added) cannot take 1000, which is lsst.v10_0 already.
  const changed = JSON.parse(lsstAlertParsedSchema().text) as { fields: unknown[] };
  changed.fields.push({ name: 'extra', type: ['null', 'int'], default: null });
  const variant = store.register('lsst.v10_0.alert', JSON.stringify(changed));
  assert.deepEqual(variant, { id: 3, version: 2, created: true });
  // A doc changes nothing: the same schema.
  const documented = JSON.parse(lsstAlertParsedSchema().text) as Record<string, unknown>;
  documented.doc = 'Rubin Avro alert schema v10.0';
  assert.deepEqual(store.register('lsst.v10_0.alert', JSON.stringify(documented)), { id: 1000, version: 1, created: false });
});

test('the schemas of a directory keep their Rubin ids (lsst.v3_0 … v11_1)', () => {
  const preload = registryPreload([schemaDir]);
  const store = openRegistryStore({ preload: preload.schemas });
  const directory = schemaDirectory(schemaDir);
  for (const schema of directory.schemas) {
    if (schema.id === undefined) continue;
    // The built-in lsst.v10_0 was registered first: id 1000 serves its text, the same canonical form as Rubin's.
    const served = schema.name === 'lsst.v10_0.alert' ? lsstAlertParsedSchema().text : schema.text;
    assert.equal(store.schemaById(schema.id)?.text, served, `${schema.name} keeps id ${schema.id}`);
    assert.equal(store.lookup(schema.name, schema.text)?.id, schema.id);
  }
  const ids = store.list().map((s) => s.id);
  for (const id of [300, 701, 703, 900, 1000, 1100, 1101]) assert.ok(ids.includes(id), `id ${id} present`);
  assert.equal(new Set(ids).size, ids.length);
  assert.ok(ids.every((id) => id >= 300), `every schema of the directory has a Rubin id: ${ids.join(', ')}`);
});

test('invalid schemas are refused with Confluent error 42201', () => {
  const store = openRegistryStore();
  for (const text of ['not json', '{"type":"record","name":"x"}', '{"type":"nosuchtype"}']) {
    assert.throws(() => store.register('s', text), (err: unknown) => err instanceof RegistryError && err.errorCode === 42201 && err.status === 422);
  }
  assert.deepEqual(store.subjects(), []);
});

test('ids survive a restart, and a second process sees the first one\'s registrations', async () => {
  const { file, cleanup } = await tempFile();
  try {
    const preload = registryPreload().schemas;
    const [spark9] = await readAlertFile(sparkFile);
    const first = openRegistryStore({ file, preload });
    const other = openRegistryStore({ file, preload });
    assert.equal(first.register('raw-value', spark9!.schema.text).id, 1);
    // `other` opened before that registration: it re-reads the changed file.
    assert.equal(other.schemaById(1)?.name, 'topLevelRecord');
    assert.deepEqual(other.register('raw-value', spark9!.schema.text), { id: 1, version: 1, created: false });

    const reopened = openRegistryStore({ file, preload });
    assert.equal(reopened.schemaById(1)?.text, spark9!.schema.text);
    assert.equal(reopened.schemaById(1000)?.text, lsstAlertParsedSchema().text);
    assert.deepEqual(reopened.subjects(), ['lsst.v10_0.alert', 'raw-value']);
    const saved = JSON.parse(await readFile(file, 'utf8')) as { format: string; schemas: { id: number }[] };
    assert.equal(saved.format, 'nightjar-schema-registry/1');
    assert.deepEqual(saved.schemas.map((s) => s.id), [1, 1000]);

    await writeFile(file, '{"format": "something else"}');
    assert.throws(() => openRegistryStore({ file }), new RegExp(`${path.basename(file)} is not a nightjar-schema-registry/1 file`));
  } finally {
    await cleanup();
  }
});
