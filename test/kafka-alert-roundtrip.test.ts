// Real and synthetic alerts through the real local Kafka in every encoding: what is consumed
// is byte-identical to what was produced, decodes back to the same record bytes, and keeps
// 64-bit ids exact.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Admin } from '@platformatic/kafka';
import { isNonAlertSchema, toAlert } from '../src/formats/adapters/index.ts';
import type { ParsedSchema } from '../src/formats/avro-schema.ts';
import { builtinSchemas } from '../src/formats/builtin-schemas.ts';
import { SchemaSourceError } from '../src/formats/errors.ts';
import { readAlertFile } from '../src/formats/files.ts';
import { LSST_SCHEMA_ID, lsstAlertParsedSchema } from '../src/formats/lsst-schema.ts';
import { decodeMessage, encodeMessage, type DecodedRecord } from '../src/formats/message.ts';
import { combinedSource, schemaDirectory, type SchemaSource } from '../src/formats/schema-source.ts';
import { createAdmin, createConsumer, createProducer, defaultSettings, type KafkaSettings } from '../src/kafka/connection.ts';
import { repoRoot } from '../src/kafka/local-config.ts';
import { sendAll, type OutgoingMessage } from '../src/kafka/produce.ts';
import { createTopic, deleteTopic } from '../src/kafka/topics.ts';
import { generateAlerts } from '../src/simulate/synthetic.ts';
import { acquireLocalKafka, releaseLocalKafka, type Lease } from './setup/local-kafka.ts';

const data = path.resolve(repoRoot, '../shared/data');
const ENCODINGS = ['confluent', 'container', 'schemaless', 'schema-in-key'] as const;
type Encoding = (typeof ENCODINGS)[number];

/** Real alerts of several surveys and encodings, plus synthetic Rubin alerts. */
const REAL_FILES = [
  'boom/alerts/lsst/25409136044802067.avro', // Confluent wire, lsst.v7_1, 2 prvDiaSources
  'boom/alerts/lsst/7912941781254298.avro', // Confluent wire, lsst.v9_0
  'fink-client/datatest/lsst/part-2-918301.avro', // 7 real Rubin v10 alerts, Spark schema
  'fink-broker/datasim/rubin_test_data_9_0_avro/169298432598474793_169298432598474793.avro',
  'boom/alerts/ztf/2695378462115010012.avro', // real ZTF 4.02
  'ztf-avro-alert/data/1661382530015060001.avro', // ZTF 3.5, IPAC header with invalid defaults
  'fink-client/datatest/elasticc/alert_mjd60674.0512_obj747_src1494043.avro.gz', // gzipped ELaSTICC
  'fink-client/tests/sample.avro/part-00001-0f70696a-f8dd-40ab-89e7-e7f64c104e25-c000.avro', // snappy, 54 Fink ZTF
];
const SYNTHETIC_COUNT = 300;

interface Sample {
  label: string;
  schema: ParsedSchema;
  schemaId: number;
  record: Record<string, unknown>;
  bytes: Buffer;
  sourceId: bigint;
}

/** Gives every distinct writer schema a registry id (its Rubin id where it has one), like a registry would. */
function assignIds(samples: { schema: ParsedSchema; schemaId?: number | undefined }[]): { idOf(s: ParsedSchema): number; source: SchemaSource } {
  const ids = new Map<string, number>();
  const byId = new Map<number, ParsedSchema>();
  let next = 5000;
  for (const s of samples) {
    if (ids.has(s.schema.text)) continue;
    const id = s.schemaId ?? next++;
    ids.set(s.schema.text, id);
    byId.set(id, s.schema);
  }
  return {
    idOf: (s) => ids.get(s.text)!,
    source: {
      location: 'test registry',
      byId: (id) => (byId.has(id) ? Promise.resolve(byId.get(id)!) : Promise.reject(new SchemaSourceError('not-found', 'test registry', id, `no id ${id}`))),
      list: () => Promise.resolve([...byId].map(([id, s]) => ({ id, name: s.name, subject: s.name, version: 1, text: s.text }))),
    },
  };
}

let lease: Lease;
let settings: KafkaSettings;
let admin: Admin;
const topics: string[] = [];

before(async () => {
  lease = await acquireLocalKafka();
  settings = defaultSettings();
  admin = createAdmin(settings);
});

after(async () => {
  for (const t of topics) await deleteTopic(admin, t).catch(() => false);
  await admin.close();
  await releaseLocalKafka(lease);
});

async function loadSamples(): Promise<{ samples: Sample[]; source: SchemaSource }> {
  const dirs = combinedSource([schemaDirectory(path.join(data, 'lsst-alert_packet/schema')), builtinSchemas()]);
  const decoded: (DecodedRecord & { label: string })[] = [];
  for (const file of REAL_FILES) {
    for (const d of await readAlertFile(path.join(data, file), { schemas: dirs })) decoded.push({ ...d, label: file });
  }
  const synthetic = lsstAlertParsedSchema();
  let i = 0;
  for (const record of generateAlerts({ seed: 7, objects: 200, count: SYNTHETIC_COUNT })) {
    const { value } = encodeMessage(record, { encoding: 'schemaless', schema: synthetic });
    decoded.push({ label: `synthetic #${i++}`, encoding: 'schemaless', gzipped: false, schema: synthetic, schemaId: LSST_SCHEMA_ID, record, bytes: value });
  }
  const registry = assignIds(decoded);
  const samples = decoded
    .filter((d) => !isNonAlertSchema(d.schema.name))
    .map((d) => ({ label: d.label, schema: d.schema, schemaId: registry.idOf(d.schema), record: d.record, bytes: d.bytes, sourceId: toAlert(d.record, d.schema.name).sourceId }));
  return { samples, source: registry.source };
}

test('real and synthetic alerts survive Kafka in every encoding: bytes identical, ids exact', { timeout: 180_000 }, async () => {
  const { samples, source } = await loadSamples();
  assert.ok(samples.length >= 10 + SYNTHETIC_COUNT, `only ${samples.length} samples`);
  assert.ok(samples.some((s) => s.sourceId > BigInt(Number.MAX_SAFE_INTEGER)), 'the samples include ids above 2^53');

  const run = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const sent = new Map<string, { sample: Sample; encoding: Encoding; key: Buffer | null; value: Buffer }>();
  const messages: OutgoingMessage[] = [];
  for (const encoding of ENCODINGS) {
    const topic = `nightjar-test-roundtrip-${encoding}-${run}`;
    topics.push(topic);
    await createTopic(admin, topic, 3);
    samples.forEach((sample, index) => {
      const { key, value } = encodeMessage(sample.record, { encoding, schema: sample.schema, schemaId: sample.schemaId });
      // Every message carries its own index in a header, so the test can match what comes back.
      const tag = `${encoding}:${index}`;
      sent.set(tag, { sample, encoding, key, value });
      messages.push({ topic, value, headers: new Map([[Buffer.from('test-tag'), Buffer.from(tag)]]), ...(key ? { key } : { key: Buffer.from(String(sample.sourceId)) }) });
    });
  }

  const producer = createProducer(settings);
  try {
    await sendAll(producer, messages);
  } finally {
    await producer.close();
  }

  const consumer = createConsumer(settings, { groupId: `nightjar-test-roundtrip-${run}`, fromBeginning: true });
  const received = new Map<string, { key: Buffer | null; value: Buffer }>();
  try {
    const stream = await consumer.consume(topics);
    const timer = setTimeout(() => stream.destroy(new Error(`timed out after ${received.size} of ${messages.length} messages`)), 120_000);
    try {
      for await (const m of stream) {
        const tag = [...m.headers].find(([k]) => k.toString() === 'test-tag')?.[1].toString();
        assert.ok(tag !== undefined, 'a message without the test tag');
        assert.ok(!received.has(tag), `${tag} received twice`);
        received.set(tag, { key: m.key, value: m.value });
        if (received.size === messages.length) break;
      }
    } finally {
      clearTimeout(timer);
    }
  } finally {
    await consumer.close();
  }
  assert.equal(received.size, messages.length);

  for (const [tag, original] of sent) {
    const got = received.get(tag)!;
    assert.ok(got.value.equals(original.value), `${tag} (${original.sample.label}): value bytes differ`);
    if (original.key) assert.ok(got.key?.equals(original.key), `${tag}: key bytes differ`);
    const forced = original.encoding === 'schemaless' ? original.sample.schema : undefined;
    const [decoded, ...extra] = await decodeMessage(got.value, got.key, { schemas: source, schema: forced, source: tag });
    assert.equal(extra.length, 0);
    assert.equal(decoded!.encoding, original.encoding, `${tag}: detected encoding`);
    assert.ok(decoded!.bytes.equals(original.sample.bytes), `${tag} (${original.sample.label}): record bytes differ after the round trip`);
    const alert = toAlert(decoded!.record, decoded!.schema.name);
    assert.equal(typeof alert.sourceId, 'bigint');
    assert.equal(alert.sourceId, original.sample.sourceId, `${tag}: source id changed`);
  }
});
