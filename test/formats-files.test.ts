// Every .avro / .avro.gz file under ../shared/data decodes, every record re-encodes to its
// exact bytes, container files are rewritten from their layout, and 64-bit ids stay exact.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { parseSchema, type ParsedSchema } from '../src/formats/avro-schema.ts';
import { containerLayout, containerRecords, readContainer, writeContainer } from '../src/formats/container.ts';
import { detectEncoding } from '../src/formats/detect.ts';
import { listAlertFiles, readAlertFile } from '../src/formats/files.ts';
import { decodeMessage, encodeMessage, type DecodedRecord } from '../src/formats/message.ts';
import { recordCodec } from '../src/formats/record-codec.ts';
import { combinedSource, schemaDirectory } from '../src/formats/schema-source.ts';
import { stringify } from '../src/util/json.ts';

const repoRoot = path.resolve(import.meta.dirname, '..');
const dataDir = path.resolve(repoRoot, '../shared/data');
const rel = (file: string): string => path.relative(dataDir, file);

const schemas = combinedSource([
  schemaDirectory(path.join(dataDir, 'lsst-alert_packet/schema')),
  schemaDirectory(path.join(dataDir, 'pittgoogle-client/schemas')),
]);

/** A schemaless file is decoded with the .avsc file(s) next to it: the first that reads it exactly. */
function siblingSchemas(file: string): ParsedSchema[] {
  const dir = path.dirname(file);
  return readdirSync(dir)
    .filter((name) => name.endsWith('.avsc'))
    .map((name) => parseSchema(readFileSync(path.join(dir, name), 'utf8')));
}

async function decodeFile(file: string, bytes: Buffer): Promise<DecodedRecord[]> {
  if (detectEncoding(bytes) !== 'schemaless') return decodeMessage(bytes, null, { schemas, source: rel(file) });
  const errors: string[] = [];
  for (const schema of siblingSchemas(file)) {
    try {
      return await decodeMessage(bytes, null, { schema, source: rel(file) });
    } catch (err) {
      errors.push((err as Error).message);
    }
  }
  throw new Error(`no .avsc next to the schemaless file reads it: ${errors.join('; ') || 'none found'}`);
}

interface FileResult {
  records: DecodedRecord[];
  /** How the container was rewritten: 'identical' (whole file), 'recompressed' (same compressed blocks), 'block-data' (same uncompressed blocks only). */
  container?: 'identical' | 'recompressed' | 'block-data';
}

/** Decodes, re-encodes every record and rewrites the file; returns what matched, throws what did not. */
async function checkFile(file: string): Promise<FileResult> {
  const raw = readFileSync(file);
  const records = await decodeFile(file, raw);
  assert.ok(records.length > 0, 'no records');
  records.forEach((r, i) => {
    const again = recordCodec(r.schema).encode(r.record);
    if (!again.equals(r.bytes)) throw new Error(`record ${i} re-encodes to different bytes (${again.length} vs ${r.bytes.length})`);
  });
  const first = records[0] as DecodedRecord;
  if (first.encoding === 'confluent' || first.encoding === 'schemaless') {
    const encoding = first.encoding;
    const { value } = encodeMessage(first.record, { encoding, schema: first.schema, schemaId: first.schemaId });
    if (!value.equals(raw)) throw new Error(`re-encoded ${encoding} message differs from the file`);
    return { records };
  }
  // Containers: rewrite with the file's metadata order, sync marker and block layout.
  const bytes = first.gzipped ? gunzipSync(raw) : raw;
  const original = readContainer(bytes);
  const bodies = containerRecords(original).map((r) => recordCodec(original.header.schema).encode(r.value));
  const rewritten = writeContainer(bodies, containerLayout(original));
  if (rewritten.equals(bytes)) return { records, container: original.header.codec === 'null' ? 'identical' : 'recompressed' };
  if (original.header.codec === 'null') throw new Error('codec null container rewrites to different bytes');
  // Compressors differ (Java/Rust snappy and deflate vs snappyjs and zlib): the uncompressed
  // blocks must still be identical.
  const again = readContainer(rewritten);
  assert.equal(again.blocks.length, original.blocks.length);
  original.blocks.forEach((block, i) => {
    if (!(again.blocks[i]?.data.equals(block.data) ?? false)) throw new Error(`block ${i} uncompressed data differs after rewriting`);
  });
  return { records, container: 'block-data' };
}

/** Paths of the unions avsc represents wrapped, in an avsc type tree. */
function wrappedUnions(type: unknown, where: string, seen = new Set<unknown>()): string[] {
  if (seen.has(type)) return [];
  seen.add(type);
  const t = type as { typeName: string; fields?: { name: string; type: unknown }[]; itemsType?: unknown; valuesType?: unknown; types?: unknown[] };
  return [
    ...(t.typeName === 'union:wrapped' ? [where] : []),
    ...(t.fields ?? []).flatMap((f) => wrappedUnions(f.type, `${where}.${f.name}`, seen)),
    ...(t.itemsType === undefined ? [] : wrappedUnions(t.itemsType, `${where}[]`, seen)),
    ...(t.valuesType === undefined ? [] : wrappedUnions(t.valuesType, `${where}{}`, seen)),
    ...(t.types ?? []).flatMap((b) => wrappedUnions(b, where, seen)),
  ];
}

test('every alert file under ../shared/data decodes and round-trips', async (t) => {
  const files = await listAlertFiles(dataDir);
  assert.ok(files.length >= 190, `found ${files.length} alert files`);
  const failures: string[] = [];
  const results = new Map<string, FileResult>();
  for (const file of files) {
    try {
      results.set(rel(file), await checkFile(file));
    } catch (err) {
      failures.push(`${rel(file)}: ${(err as Error).message}`);
    }
  }
  assert.deepEqual(failures, [], 'files that cannot be decoded or do not round-trip');

  const count = (name: string): number | undefined => results.get(name)?.records.length;
  assert.equal(count('fink-client/tests/sample.avro/part-00001-0f70696a-f8dd-40ab-89e7-e7f64c104e25-c000.avro'), 54);
  assert.equal(count('fink-client/datatest/lsst/part-2-918301.avro'), 7);
  assert.equal(count('fink-client/datatest/ztf/part-3-305711.avro'), 31);
  assert.equal(count('fink-client/datatest/avro_multi_alerts.avro'), 11);
  assert.equal(count('fink-client/datatest/avro_multi_alerts_other.avro'), 3);
  const multi = [...results].filter(([, r]) => r.records.length !== 1).map(([name]) => name);
  assert.equal(multi.length, 5, `files with several records: ${multi.join(', ')}`);
  const total = [...results.values()].reduce((n, r) => n + r.records.length, 0);
  assert.equal(total, files.length - 5 + 54 + 7 + 31 + 11 + 3);

  const byEncoding = new Map<string, number>();
  for (const r of results.values()) {
    const first = r.records[0] as DecodedRecord;
    const key = `${first.gzipped ? 'gzip+' : ''}${first.encoding}`;
    byEncoding.set(key, (byEncoding.get(key) ?? 0) + 1);
  }
  assert.deepEqual(Object.fromEntries([...byEncoding].sort()), {
    confluent: 14, // 3 boom Rubin alerts, 10 pittgoogle LSST samples, 1 RAPID sample
    container: files.length - 14 - 1 - 1,
    'gzip+container': 1, // the ELaSTICC .avro.gz
    schemaless: 1, // the tom_desc brokerClassification example
  });

  // avsc wraps ambiguous unions ({"float": 1.5}); no real alert schema has one (the codec
  // tests cover wrapped unions), so records are plain values throughout.
  const distinct = new Set([...results.values()].map((r) => (r.records[0] as DecodedRecord).schema));
  assert.deepEqual([...distinct].flatMap((schema) => wrappedUnions(schema.type, schema.name)), []);

  const howRewritten = (kind: FileResult['container']): string[] => [...results].filter(([, r]) => r.container === kind).map(([name]) => name);
  const compressed = [...howRewritten('recompressed'), ...howRewritten('block-data')];
  t.diagnostic(`container files rewritten byte for byte: ${howRewritten('identical').length}`);
  t.diagnostic(`compressed containers re-compressed to identical bytes: ${howRewritten('recompressed').join(', ') || 'none'}`);
  t.diagnostic(`compressed containers whose uncompressed blocks are identical (compressor differs): ${howRewritten('block-data').join(', ') || 'none'}`);
  assert.deepEqual(compressed.sort(), ['boom/alerts/roman/alert.avro', 'fink-client/tests/sample.avro/part-00001-0f70696a-f8dd-40ab-89e7-e7f64c104e25-c000.avro']);
});

test('64-bit ids are BigInt and equal the ids in the file names', async () => {
  const files = await listAlertFiles(dataDir);
  let checked = 0;
  let beyond53 = 0;
  const check = (file: string, actual: unknown, expected: bigint): void => {
    assert.equal(typeof actual, 'bigint', `${rel(file)}: id is ${typeof actual}`);
    assert.equal(actual, expected, rel(file));
    assert.ok(stringify({ id: actual }).includes(expected.toString()), 'JSON keeps every digit');
    checked++;
    if (expected > 2n ** 53n) beyond53++;
  };
  for (const file of files) {
    const name = path.basename(file);
    let m: RegExpExecArray | null;
    if ((m = /^(\d+)_\1\.avro$/.exec(name)) !== null) {
      // fink-broker: <diaSourceId>_<diaSourceId>.avro; v9.0 has a top-level diaSourceId, v7.4 an alertId.
      const [{ record }] = (await readAlertFile(file, { schemas })) as [DecodedRecord];
      const id = BigInt(m[1] as string);
      check(file, (record.diaSource as Record<string, unknown>).diaSourceId, id);
      check(file, 'diaSourceId' in record ? record.diaSourceId : record.alertId, id);
    } else if (file.includes('/boom/alerts/lsst/') && (m = /^(\d+)\.avro$/.exec(name)) !== null) {
      // boom names its Rubin alerts by the triggering diaSource.diaSourceId.
      const [{ record }] = (await readAlertFile(file, { schemas })) as [DecodedRecord];
      check(file, (record.diaSource as Record<string, unknown>).diaSourceId, BigInt(m[1] as string));
    } else if ((m = /(?:^ZTF\d{2}[a-z]{7}\.|^|_)(\d{16,19})(?:\.ztf_\d+_programid\d)?(?:\.v\d_\d+)?\.avro$/.exec(name)) !== null && !name.startsWith('ztf_2021')) {
      // ZTF: <candid>.avro, ZTF..<objectId>.<candid>.<topic>.avro, ..._<candid>.v4_02.avro
      const [{ record }] = (await readAlertFile(file, { schemas })) as [DecodedRecord];
      if (!('candid' in record)) continue; // not a ZTF alert (e.g. the PLAsTiCC starter kit)
      check(file, record.candid, BigInt(m[1] as string));
    }
  }
  assert.ok(checked >= 120, `${checked} ids checked against file names`);
  assert.ok(beyond53 >= 120, `${beyond53} of them beyond 2^53`);
});
