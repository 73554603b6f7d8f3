// encodeMessage / decodeMessage in every encoding, and container writing options.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { containerLayout, readContainer, writeContainer } from '../src/formats/container.ts';
import { EncodeError } from '../src/formats/errors.ts';
import { readAlertFile } from '../src/formats/files.ts';
import { decodeMessage, encodeMessage } from '../src/formats/message.ts';
import { recordCodec } from '../src/formats/record-codec.ts';
import { schemaDirectory } from '../src/formats/schema-source.ts';
import { readConfluentFrame } from '../src/formats/wire.ts';

const repoRoot = path.resolve(import.meta.dirname, '..');
const dataDir = path.resolve(repoRoot, '../shared/data');
const schemas = schemaDirectory(path.join(dataDir, 'lsst-alert_packet/schema'));

test('a Rubin alert survives every encoding with identical record bytes', async () => {
  const file = path.join(dataDir, 'boom/alerts/lsst/3527242430321524769.avro');
  const [original] = await readAlertFile(file, { schemas });
  assert.ok(original !== undefined);
  assert.equal(original.schemaId, 703);
  assert.equal(original.schema.name, 'lsst.v7_3.alert');
  for (const encoding of ['confluent', 'container', 'schemaless', 'schema-in-key'] as const) {
    for (const codec of encoding === 'container' ? (['null', 'deflate', 'snappy'] as const) : ([undefined] as const)) {
      const { key, value } = encodeMessage(original.record, { encoding, schema: original.schema, schemaId: 703, codec });
      const [back] = await decodeMessage(value, key, { schemas, schema: encoding === 'schemaless' ? original.schema : undefined });
      assert.ok(back !== undefined, encoding);
      assert.equal(back.encoding, encoding);
      assert.ok(back.bytes.equals(original.bytes), `${encoding} ${codec ?? ''}: record bytes`);
      assert.deepEqual(back.record, original.record);
      if (encoding === 'confluent') {
        assert.equal(back.schemaId, 703);
        assert.ok(value.equals(readFileSync(file)), 'the Confluent message equals the original file');
      }
    }
  }
});

test('gzip-wrapped containers decode and report it', async () => {
  const ztf = readFileSync(path.join(dataDir, 'ztf-avro-alert/data/472263571115115000.avro'));
  const records = await decodeMessage(gzipSync(ztf), null);
  assert.equal(records.length, 1);
  assert.equal(records[0]?.encoding, 'container');
  assert.equal(records[0]?.gzipped, true);
  assert.equal(records[0]?.record.candid, 472263571115115000n);
  await assert.rejects(decodeMessage(gzipSync(gzipSync(ztf)), null), /gzip data inside gzip data/);
});

test('Confluent messages decode with a forced schema when no source is given', async () => {
  const value = readFileSync(path.join(dataDir, 'pittgoogle-client/sample_alerts/lsst/lsst.v8_0.avro'));
  const schema = await schemas.byId(800);
  const [decoded] = await decodeMessage(value, null, { schema });
  assert.equal(decoded?.encoding, 'confluent');
  assert.equal(decoded?.schemaId, 800);
  assert.equal(decoded?.schema, schema);
});

test('encoding errors name the schema and the field path', () => {
  const schema = readContainer(readFileSync(path.join(dataDir, 'ztf-avro-alert/data/472263571115115000.avro'))).header.schema;
  const record = recordCodec(schema).decodeExact(readContainer(readFileSync(path.join(dataDir, 'ztf-avro-alert/data/472263571115115000.avro'))).blocks[0]?.records[0]?.bytes as Buffer) as Record<string, unknown>;
  const candidate = record.candidate as Record<string, unknown>;
  assert.throws(() => encodeMessage({ ...record, candid: Number(record.candid) }, { encoding: 'schemaless', schema }), {
    name: 'EncodeError',
    message: /cannot encode ztf\.alert record: candid: expected long \(64-bit BigInt\), got number/,
  });
  assert.throws(() => encodeMessage({ ...record, candidate: { ...candidate, magpsf: 'bright' } }, { encoding: 'schemaless', schema }), /candidate\.magpsf: expected float \(number\), got string bright/);
  const prv = record.prv_candidates as Record<string, unknown>[];
  assert.ok(Array.isArray(prv) && prv.length > 2);
  const broken = prv.map((p, i) => (i === 2 ? { ...p, jd: undefined } : p));
  assert.throws(() => encodeMessage({ ...record, prv_candidates: broken }, { encoding: 'schemaless', schema }), /prv_candidates\[2\]\.jd: missing field/);
  assert.throws(() => encodeMessage(record, { encoding: 'confluent', schema }), (err: unknown) => err instanceof EncodeError && /needs a schemaId/.test(err.message));
});

test('container writing keeps metadata order, sync marker and block layout', () => {
  const bytes = readFileSync(path.join(dataDir, 'fink-client/datatest/avro_multi_alerts_other.avro'));
  const file = readContainer(bytes);
  const bodies = file.blocks.flatMap((b) => b.records.map((r) => r.bytes));
  assert.ok(writeContainer(bodies, containerLayout(file)).equals(bytes));
  // Other layouts still read back to the same records.
  const custom = writeContainer(bodies, { schema: file.header.schema, codec: 'deflate', blockCounts: [1, 2], metadata: [['nightjar.note', 'x'], ['avro.codec', '']] });
  const again = readContainer(custom);
  assert.deepEqual(again.header.metadata.map(([k]) => k), ['avro.schema', 'nightjar.note', 'avro.codec']);
  assert.equal(again.header.codec, 'deflate');
  assert.deepEqual(again.blocks.map((b) => b.count), [1, 2]);
  assert.deepEqual(again.blocks.flatMap((b) => b.records.map((r) => r.bytes.toString('hex'))), bodies.map((b) => b.toString('hex')));
  assert.throws(() => writeContainer(bodies, { schema: file.header.schema, blockCounts: [1] }), /block layout holds 1 records but 3 were given/);
});

test('frames carry the schema id big-endian', () => {
  const value = readFileSync(path.join(dataDir, 'pittgoogle-client/sample_alerts/lsst/lsst.v11_1.avro'));
  assert.equal(readConfluentFrame(value).schemaId, 1101);
  assert.deepEqual([...value.subarray(0, 5)], [0, 0, 0, 0x04, 0x4d]);
});
