// Encoding detection on real bytes of every encoding, and the documented ambiguities.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parseSchema } from '../src/formats/avro-schema.ts';
import { detectEncoding } from '../src/formats/detect.ts';
import { decodeMessage, encodeMessage } from '../src/formats/message.ts';
import { recordCodec } from '../src/formats/record-codec.ts';
import { schemaDirectory } from '../src/formats/schema-source.ts';

const repoRoot = path.resolve(import.meta.dirname, '..');
const dataDir = path.resolve(repoRoot, '../shared/data');
const data = (relative: string): Buffer => readFileSync(path.join(dataDir, relative));

test('each encoding is detected from real bytes', async () => {
  assert.equal(detectEncoding(data('ztf-avro-alert/data/472263571115115000.avro')), 'container');
  assert.equal(detectEncoding(data('boom/alerts/roman/alert.avro')), 'container');
  assert.equal(detectEncoding(data('fink-client/datatest/elasticc/alert_mjd60674.0512_obj747_src1494043.avro.gz')), 'gzip');
  assert.equal(detectEncoding(data('boom/alerts/lsst/7912941781254298.avro')), 'confluent');
  assert.equal(detectEncoding(data('pittgoogle-client/sample_alerts/rapid/rapid.v01_00.avro')), 'confluent');
  assert.equal(detectEncoding(data('lsstdesc-tom_desc/tom_desc/stream/parsers/elasticc_schema/brokerClassification_schemaless_example.avro')), 'schemaless');
  assert.equal(detectEncoding(data('lasair-lsst/tests/system/sample_alerts/schema9.0/alert.json')), 'json');
  assert.equal(detectEncoding(Buffer.from(' {"diaObjectId": 169760235333878021}\n')), 'json');

  // Fink livestream: the key is the writer schema, the value a schemaless body.
  const schemas = schemaDirectory(path.join(dataDir, 'lsst-alert_packet/schema'));
  const rubin = data('pittgoogle-client/sample_alerts/lsst/lsst.v9_0.avro');
  const schema = await schemas.byId(900);
  const fink = encodeMessage(recordCodec(schema).decodeExact(rubin, 5) as Record<string, unknown>, { encoding: 'schema-in-key', schema });
  assert.equal(detectEncoding(fink.value, fink.key), 'schema-in-key');
  assert.equal(detectEncoding(fink.value, null), 'schemaless');
  assert.equal(detectEncoding(rubin, Buffer.from('169298432598474793')), 'confluent', 'a plain id key is not a schema');
  assert.equal(detectEncoding(rubin, Buffer.from('{"type": "record"}')), 'schema-in-key', 'the key wins over the value');
  const [decoded] = await decodeMessage(fink.value, fink.key);
  assert.equal(decoded?.encoding, 'schema-in-key');
  assert.equal(decoded?.schema.name, 'lsst.v9_0.alert');
  assert.ok(decoded?.bytes.equals(rubin.subarray(5)));
});

test('short or empty values are schemaless, not Confluent', () => {
  assert.equal(detectEncoding(Buffer.alloc(0)), 'schemaless');
  assert.equal(detectEncoding(Buffer.from([0, 0, 0, 3])), 'schemaless');
  assert.equal(detectEncoding(Buffer.from([0, 0, 0, 3, 0x84])), 'confluent');
});

test('a schemaless body starting with 0x00 is read with a given schema despite looking Confluent', async () => {
  const schema = parseSchema({ type: 'record', name: 'sample', fields: [{ name: 'id', type: 'long' }, { name: 'flux', type: 'float' }, { name: 'band', type: 'string' }] });
  const record = { id: 0n, flux: 1.5, band: 'r' };
  const { value } = encodeMessage(record, { encoding: 'schemaless', schema });
  assert.equal(value[0], 0x00);
  assert.equal(detectEncoding(value), 'confluent', 'bytes alone cannot tell (documented ambiguity)');
  const [decoded] = await decodeMessage(value, null, { schema });
  assert.equal(decoded?.encoding, 'schemaless');
  assert.deepEqual(decoded?.record, record);
  // Without a schema the Confluent reading is the only one, and it fails clearly.
  await assert.rejects(decodeMessage(value, null, { source: 't/0/0' }), /needs a schema source/);
});

test('JSON and schemaless values without a schema fail with a clear DecodeError', async () => {
  await assert.rejects(decodeMessage(Buffer.from('{"a": 1}'), null, { source: 'lasair/0/5' }), {
    name: 'DecodeError',
    message: /cannot decode json message from lasair\/0\/5: message is JSON, not Avro/,
  });
  await assert.rejects(decodeMessage(Buffer.from([0x02, 0x04]), null), { name: 'DecodeError', message: /schemaless Avro needs a schema/ });
});
