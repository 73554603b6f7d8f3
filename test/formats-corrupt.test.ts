// Truncated and corrupted real alerts must fail with a DecodeError that says where and with
// which schema — never another exception, a hang or a huge allocation.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parseSchema, type ParsedSchema } from '../src/formats/avro-schema.ts';
import { readContainer, writeContainer } from '../src/formats/container.ts';
import { DecodeError } from '../src/formats/errors.ts';
import { decodeMessage, encodeMessage, type DecodeOptions } from '../src/formats/message.ts';
import { recordCodec } from '../src/formats/record-codec.ts';
import { combinedSource, schemaDirectory } from '../src/formats/schema-source.ts';

const repoRoot = path.resolve(import.meta.dirname, '..');
const dataDir = path.resolve(repoRoot, '../shared/data');
const data = (relative: string): Buffer => readFileSync(path.join(dataDir, relative));

const schemas = combinedSource([
  schemaDirectory(path.join(dataDir, 'lsst-alert_packet/schema')),
  schemaDirectory(path.join(dataDir, 'pittgoogle-client/schemas')),
]);
const brokerClassification = parseSchema(data('lsstdesc-tom_desc/tom_desc/stream/parsers/elasticc_schema/lsst.v4_1.brokerClassification.avsc').toString('utf8'));

/** Deterministic PRNG (mulberry32) so a failure can be reproduced. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Sample {
  readonly name: string;
  readonly value: Buffer;
  readonly key: Buffer | null;
  readonly options: DecodeOptions;
  /** Offsets where a cut leaves a valid, shorter input (container block boundaries). */
  readonly validCuts: ReadonlySet<number>;
  /** Cuts at or beyond this offset fail after the schema is known: the error must name it. */
  readonly schemaKnownFrom: number;
  readonly schemaName: string;
  readonly trials: number;
}

function containerSample(name: string, value: Buffer, trials: number): Sample {
  const file = readContainer(value);
  const validCuts = new Set([file.header.length, ...file.blocks.map((b) => b.offset)]);
  return { name, value, key: null, options: { source: name }, validCuts, schemaKnownFrom: file.header.length, schemaName: file.header.schema.name, trials };
}

async function samples(): Promise<Sample[]> {
  const ztf = data('ztf-avro-alert/data/472263571115115000.avro');
  const ztfRecord = readContainer(ztf).blocks[0]?.records[0];
  const ztfSchema = readContainer(ztf).header.schema;
  // A small snappy container with several blocks, written by us (the real one is 2.4 MB).
  const snappyBodies = Array.from({ length: 3 }, () => (ztfRecord as { bytes: Buffer }).bytes);
  const snappy = writeContainer(snappyBodies, { schema: ztfSchema, codec: 'snappy', blockCounts: [2, 1] });
  const rubin = data('pittgoogle-client/sample_alerts/lsst/lsst.v9_0.avro');
  const rubinSchema = await schemas.byId(900);
  const fink = encodeMessage(recordCodec(rubinSchema).decodeExact(rubin, 5) as Record<string, unknown>, { encoding: 'schema-in-key', schema: rubinSchema });
  const none = new Set<number>();
  return [
    containerSample('ztf-avro-alert/data/472263571115115000.avro', ztf, 60),
    containerSample('lsst-alert_packet/schema/9/0/sample_data/fakeAlert.avro', data('lsst-alert_packet/schema/9/0/sample_data/fakeAlert.avro'), 40),
    containerSample('boom/alerts/roman/alert.avro (deflate)', data('boom/alerts/roman/alert.avro'), 30),
    containerSample('ztf alert x3 (snappy, 2 blocks)', snappy, 40),
    containerSample('fink-client snappy part file', data('fink-client/tests/sample.avro/part-00001-0f70696a-f8dd-40ab-89e7-e7f64c104e25-c000.avro'), 3),
    { name: 'boom/alerts/lsst/25409136044802067.avro', value: data('boom/alerts/lsst/25409136044802067.avro'), key: null, options: { schemas, source: 'boom v7.1' }, validCuts: none, schemaKnownFrom: 5, schemaName: 'lsst.v7_1.alert', trials: 60 },
    { name: 'pittgoogle lsst.v9_0.avro', value: rubin, key: null, options: { schemas, source: 'topic/0/42' }, validCuts: none, schemaKnownFrom: 5, schemaName: 'lsst.v9_0.alert', trials: 60 },
    { name: 'ELaSTICC .avro.gz', value: data('fink-client/datatest/elasticc/alert_mjd60674.0512_obj747_src1494043.avro.gz'), key: null, options: { source: 'elasticc gz' }, validCuts: none, schemaKnownFrom: Infinity, schemaName: 'elasticc.v0_9.alert', trials: 40 },
    { name: 'tom_desc schemaless', value: data('lsstdesc-tom_desc/tom_desc/stream/parsers/elasticc_schema/brokerClassification_schemaless_example.avro'), key: null, options: { schema: brokerClassification, source: 'tom_desc' }, validCuts: none, schemaKnownFrom: 0, schemaName: brokerClassification.name, trials: 60 },
    { name: 'Fink schema-in-key', value: fink.value, key: fink.key, options: { source: 'fink/1/7' }, validCuts: none, schemaKnownFrom: 0, schemaName: rubinSchema.name, trials: 60 },
  ];
}

const MESSAGE = /^cannot decode (container|gzip|confluent|schema-in-key|schemaless|json) message from .+: .+ \(at byte \d+.*; (no schema|schema \S+.*)\)$/;

/** Decodes; returns 'ok' or the DecodeError. Any other exception fails the test. */
async function attempt(sample: Sample, value: Buffer, what: string): Promise<'ok' | DecodeError> {
  try {
    await decodeMessage(value, sample.key, sample.options);
    return 'ok';
  } catch (err) {
    if (!(err instanceof DecodeError)) assert.fail(`${sample.name}, ${what}: ${String((err as Error)?.stack ?? err)}`);
    assert.match(err.message, MESSAGE, `${sample.name}, ${what}`);
    assert.ok(err.message.includes(sample.options.source as string), `names the source: ${err.message}`);
    assert.ok(err.offset >= 0 && err.offset <= value.length, `offset ${err.offset} within the input`);
    return err;
  }
}

test('truncated alerts fail with a DecodeError naming encoding, offset and schema', { timeout: 60_000 }, async () => {
  for (const sample of await samples()) {
    const rnd = random(sample.value.length);
    const cuts = new Set([0, 1, 4, 5, sample.value.length - 1]);
    while (cuts.size < sample.trials) cuts.add(Math.floor(rnd() * sample.value.length));
    for (const cut of cuts) {
      if (sample.validCuts.has(cut)) continue;
      const result = await attempt(sample, sample.value.subarray(0, cut), `cut at ${cut}`);
      assert.notEqual(result, 'ok', `${sample.name}: cut at ${cut} of ${sample.value.length} decoded`);
      if (result !== 'ok' && cut > sample.schemaKnownFrom) {
        assert.equal(result.schemaName, sample.schemaName, `${sample.name}, cut at ${cut}: ${result.message}`);
        assert.ok(result.message.includes(sample.schemaName), result.message);
      }
    }
  }
});

test('byte flips decode or fail with a DecodeError, quickly', { timeout: 60_000 }, async (t) => {
  for (const sample of await samples()) {
    const rnd = random(sample.value.length + 1);
    let detected = 0;
    let trials = 0;
    for (let i = 0; i < sample.trials; i++) {
      const copy = Buffer.from(sample.value);
      const at = Math.floor(rnd() * copy.length);
      copy[at] = (copy[at] as number) ^ (1 + Math.floor(rnd() * 255));
      const started = performance.now();
      const result = await attempt(sample, copy, `flip at ${at}`);
      const ms = performance.now() - started;
      assert.ok(ms < 2000, `${sample.name}: flip at ${at} took ${ms.toFixed(0)} ms`);
      trials++;
      if (result !== 'ok') detected++;
    }
    t.diagnostic(`${sample.name}: ${detected}/${trials} flips detected (the rest hit values any bytes are valid for)`);
  }
});

/** Avro zig-zag varint of a non-negative length or count. */
function varint(n: number): Buffer {
  const out: number[] = [];
  let z = n * 2;
  while (z >= 0x80) {
    out.push((z % 128) | 0x80);
    z = Math.floor(z / 128);
  }
  out.push(z);
  return Buffer.from(out);
}

async function decodeError(promise: Promise<unknown>): Promise<DecodeError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof DecodeError, `expected a DecodeError, got ${String(err)}`);
    return err;
  }
  return assert.fail('decoded, expected a DecodeError');
}

test('a length prefix claiming 2 GB is rejected before allocating', async () => {
  const value = data('boom/alerts/lsst/25409136044802067.avro');
  const [decoded] = await decodeMessage(value, null, { schemas });
  const cutout = decoded?.record.cutoutDifference as Buffer;
  const contentAt = cutout.byteOffset - value.byteOffset;
  const lengthBytes = varint(cutout.length);
  const lengthAt = contentAt - lengthBytes.length;
  assert.ok(value.subarray(lengthAt, contentAt).equals(lengthBytes), 'found the cutout length prefix');
  const corrupt = Buffer.concat([value.subarray(0, lengthAt), varint(2 ** 31), value.subarray(contentAt)]);
  const before = process.memoryUsage().arrayBuffers;
  const err = await decodeError(decodeMessage(corrupt, null, { schemas, source: 'lsst/0/1' }));
  assert.ok(process.memoryUsage().arrayBuffers - before < 64 * 1024 * 1024, 'no large allocation');
  assert.equal(err.encoding, 'confluent');
  assert.equal(err.offset, lengthAt);
  assert.equal(err.schemaId, 701);
  assert.match(err.message, /bytes length 2147483648 exceeds the \d+ bytes left/);
  assert.match(err.message, /cutoutDifference/);
  assert.match(err.message, /from lsst\/0\/1/);
  assert.match(err.message, /schema lsst\.v7_1\.alert \(id 701\)/);
});

test('huge array counts, block sizes and snappy lengths are rejected at once', async () => {
  const doubles = parseSchema({ type: 'record', name: 'r', fields: [{ name: 'xs', type: { type: 'array', items: 'double' } }] });
  const nulls = parseSchema({ type: 'record', name: 'n', fields: [{ name: 'xs', type: { type: 'array', items: 'null' } }] });
  let err = await decodeError(decodeMessage(Buffer.concat([varint(2 ** 40), Buffer.alloc(16)]), null, { schema: doubles }));
  assert.match(err.message, /block of 1099511627776 items cannot fit in the 16 bytes left/);
  err = await decodeError(decodeMessage(Buffer.concat([varint(2 ** 40), Buffer.alloc(16)]), null, { schema: nulls }));
  assert.match(err.message, /block of 1099511627776 items/);
  // Many blocks of zero-byte items: capped per record, not per block.
  const started = performance.now();
  err = await decodeError(decodeMessage(Buffer.concat(Array.from({ length: 100_000 }, () => varint(999_999))), null, { schema: nulls }));
  assert.match(err.message, /block of 999999 items cannot fit/);
  assert.ok(performance.now() - started < 1000, 'stopped early');
  err = await decodeError(decodeMessage(Buffer.from([0x03]), null, { schema: doubles }));
  assert.match(err.message, /truncated/, 'negative count -2 then a missing block size');

  const ztf = data('ztf-avro-alert/data/472263571115115000.avro');
  const file = readContainer(ztf);
  const block = file.blocks[0] as (typeof file.blocks)[number];
  const sizeAt = block.offset + varint(block.count).length;
  const sizeEnd = sizeAt + varint(block.stored.length).length;
  const corrupt = Buffer.concat([ztf.subarray(0, sizeAt), varint(2 ** 31), ztf.subarray(sizeEnd)]);
  err = await decodeError(decodeMessage(corrupt, null, { source: 'ztf.avro' }));
  assert.equal(err.offset, block.offset);
  assert.match(err.message, /block 0: size 2147483648 plus sync marker exceeds the \d+ bytes left/);

  // A snappy block whose preamble claims 2^31 - 1 uncompressed bytes.
  const snappy = writeContainer([block.records[0]?.bytes as Buffer], { schema: file.header.schema, codec: 'snappy' });
  const snappyFile = readContainer(snappy);
  const stored = (snappyFile.blocks[0] as (typeof snappyFile.blocks)[number]).stored;
  const storedAt = stored.byteOffset - snappy.byteOffset;
  const preamble = Buffer.from([0xff, 0xff, 0xff, 0xff, 0x07]);
  const oldPreambleLength = stored.findIndex((b) => b < 0x80) + 1;
  const newStored = Buffer.concat([preamble, stored.subarray(oldPreambleLength)]);
  const blockStart = (snappyFile.blocks[0] as (typeof snappyFile.blocks)[number]).offset;
  const rebuilt = Buffer.concat([snappy.subarray(0, blockStart), varint(1), varint(newStored.length), newStored, snappy.subarray(storedAt + stored.length)]);
  err = await decodeError(decodeMessage(rebuilt, null, { source: 'snappy.avro' }));
  assert.match(err.message, /snappy block is corrupt: .*uncompressed length of 2147483647 is too big/);
});

test('trailing bytes, bad union indexes, bad booleans and unknown schema ids are errors', async () => {
  const rubin = data('pittgoogle-client/sample_alerts/lsst/lsst.v9_0.avro');
  let err = await decodeError(decodeMessage(Buffer.concat([rubin, Buffer.from([0])]), null, { schemas, source: 'extra' }));
  assert.equal(err.offset, rubin.length);
  assert.match(err.message, /1 trailing bytes after the record/);

  const unknownId = Buffer.from(rubin);
  unknownId.writeUInt32BE(999, 1);
  err = await decodeError(decodeMessage(unknownId, null, { schemas, source: 'lsst/3/9' }));
  assert.equal(err.encoding, 'confluent');
  assert.equal(err.schemaId, 999);
  assert.match(err.message, /schema id 999 not found in schema directory .*lsst-alert_packet\/schema/);

  const schema: ParsedSchema = parseSchema({ type: 'record', name: 'u', fields: [{ name: 'b', type: 'boolean' }, { name: 'x', type: ['null', 'double'] }] });
  err = await decodeError(decodeMessage(Buffer.from([2, 0]), null, { schema }));
  assert.match(err.message, /boolean byte is 2/);
  assert.equal(err.offset, 0);
  err = await decodeError(decodeMessage(Buffer.from([1, 4]), null, { schema }));
  assert.match(err.message, /union index 2 out of range 0\.\.1/);
  assert.match(err.message, /field x/);
  assert.equal(err.offset, 1);
});

test('runaway recursion in a corrupt recursive record is a DecodeError', async () => {
  const list = parseSchema({ type: 'record', name: 'node', fields: [{ name: 'next', type: ['null', 'node'] }] });
  const err = await decodeError(decodeMessage(Buffer.alloc(1_000_000, 2), null, { schema: list }));
  assert.match(err.message, /cannot decode schemaless message/);
});
