// Nightjar's code copy of the Rubin lsst.v10_0 alert schema must be the real one: same Avro
// Parsing Canonical Form, same defaults, and real v10.0 alerts decode and re-encode identically.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Type } from 'avsc';
import { parseSchema } from '../src/formats/avro-schema.ts';
import { containerRecords, readContainer } from '../src/formats/container.ts';
import {
  LSST_ALERT_NAME, LSST_RECORDS, LSST_SCHEMA_ID, blankLsstRecord, lsstAlertParsedSchema, lsstAlertSchema,
} from '../src/formats/lsst-schema.ts';

const repoRoot = path.resolve(import.meta.dirname, '..');
const shared = path.resolve(repoRoot, '../shared/data');
const schemaDir = path.join(shared, 'lsst-alert_packet/schema/10/0');
const skip = existsSync(schemaDir) ? false : `real schemas not found at ${schemaDir} (../shared is absent)`;
const SUB_SCHEMAS = ['diaSource', 'diaForcedSource', 'diaObject', 'ssSource', 'mpc_orbits'];

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function readAvsc(record: string): { [key: string]: Json } {
  return JSON.parse(readFileSync(path.join(schemaDir, `lsst.v10_0.${record}.avsc`), 'utf8')) as { [key: string]: Json };
}

/** The upstream files keyed by full name (the alert file refers to the others by name). */
function realSchemaFiles(): Map<string, { [key: string]: Json }> {
  const files = new Map<string, { [key: string]: Json }>();
  for (const r of [...SUB_SCHEMAS, 'alert']) {
    const json = readAvsc(r);
    files.set(`${String(json.namespace)}.${String(json.name)}`, json);
  }
  return files;
}

const PRIMITIVES = new Set(['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string']);

/**
 * Avro Parsing Canonical Form (spec, "Transforming into Parsing Canonical Form"): full names,
 * only name/type/fields/symbols/items/values/size kept, in that order, primitives as bare
 * strings, no whitespace; a named type is written out at its first occurrence and by name
 * afterwards. Names not defined in the document are looked up in `external` and inlined at
 * their first use, which resolves a schema split over several files.
 */
function canonicalForm(schema: Json, external: Map<string, { [key: string]: Json }> = new Map()): string {
  const seen = new Set<string>();
  const fullName = (name: string, namespace: string): string => (name.includes('.') || namespace === '' ? name : `${namespace}.${name}`);
  const walk = (node: Json, namespace: string): string => {
    if (typeof node === 'string') {
      if (PRIMITIVES.has(node)) return JSON.stringify(node);
      const name = fullName(node, namespace);
      if (seen.has(name)) return JSON.stringify(name);
      const definition = external.get(name);
      if (definition === undefined) throw new Error(`undefined named type ${name}`);
      return walk(definition, namespace);
    }
    if (Array.isArray(node)) return `[${node.map((branch) => walk(branch, namespace)).join(',')}]`;
    if (node === null || typeof node !== 'object') throw new Error(`not a schema: ${JSON.stringify(node)}`);
    const type = node.type;
    if (typeof type !== 'string') return walk(type ?? null, namespace);
    if (PRIMITIVES.has(type)) return JSON.stringify(type); // drops logicalType and other attributes
    if (type === 'array') return `{"type":"array","items":${walk(node.items ?? null, namespace)}}`;
    if (type === 'map') return `{"type":"map","values":${walk(node.values ?? null, namespace)}}`;
    const ownNamespace = typeof node.namespace === 'string' ? node.namespace : namespace;
    const name = fullName(String(node.name), ownNamespace);
    seen.add(name);
    const inner = name.includes('.') ? name.slice(0, name.lastIndexOf('.')) : '';
    const head = `{"name":${JSON.stringify(name)},"type":${JSON.stringify(type)}`;
    if (type === 'record' || type === 'error') {
      const fields = (node.fields as { [key: string]: Json }[]).map((f) => `{"name":${JSON.stringify(f.name)},"type":${walk(f.type ?? null, inner)}}`);
      return `${head},"fields":[${fields.join(',')}]}`;
    }
    if (type === 'enum') return `${head},"symbols":${JSON.stringify(node.symbols)}}`;
    if (type === 'fixed') return `${head},"size":${JSON.stringify(node.size)}}`;
    throw new Error(`unknown type ${type}`);
  };
  return walk(schema, '');
}

/** The real alert schema as one document: sub-schemas inlined at first use, docs removed. */
function resolvedRealSchema(): Json {
  const files = realSchemaFiles();
  const seen = new Set<string>();
  const walk = (node: Json): Json => {
    if (typeof node === 'string') {
      const definition = files.get(node);
      if (definition === undefined || seen.has(node)) return node;
      return walk(definition);
    }
    if (Array.isArray(node)) return node.map(walk);
    if (node === null || typeof node !== 'object') return node;
    if (node.type === 'record') seen.add(`${String(node.namespace)}.${String(node.name)}`);
    const out: { [key: string]: Json } = {};
    for (const [key, value] of Object.entries(node)) if (key !== 'doc') out[key] = key === 'default' ? value : walk(value);
    return out;
  };
  return walk(files.get(LSST_ALERT_NAME) ?? null);
}

function withoutDocs(node: Json): Json {
  if (Array.isArray(node)) return node.map(withoutDocs);
  if (node === null || typeof node !== 'object') return node;
  return Object.fromEntries(Object.entries(node).filter(([key]) => key !== 'doc').map(([key, value]) => [key, withoutDocs(value)]));
}

/** Plain objects all the way down (avsc decodes records into class instances). */
function plain(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(plain);
  if (value === null || typeof value !== 'object' || Buffer.isBuffer(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([key, v]) => [key, plain(v)]));
}

/** The real schema parsed from the upstream files (sub-schemas first, into one registry). */
function realType(): Type {
  const registry: Record<string, Type> = {};
  for (const r of SUB_SCHEMAS) parseSchema(readAvsc(r), registry);
  return parseSchema(readAvsc('alert'), registry).type;
}

test('the canonical-form function follows the spec on a small example', () => {
  const schema: Json = {
    type: 'record', name: 'a', namespace: 'ns', doc: 'dropped',
    fields: [
      { name: 'x', type: { type: 'long', logicalType: 'timestamp-micros' }, default: 0 },
      { name: 'b', type: ['null', { type: 'record', name: 'b', fields: [{ name: 'y', type: { type: 'int' } }] }], default: null },
      { name: 'c', type: { type: 'array', items: 'b' } },
      { name: 'e', type: { type: 'enum', name: 'other.e', symbols: ['P', 'Q'] } },
    ],
  };
  assert.equal(
    canonicalForm(schema),
    '{"name":"ns.a","type":"record","fields":[{"name":"x","type":"long"},{"name":"b","type":["null",{"name":"ns.b","type":"record","fields":[{"name":"y","type":"int"}]}]},' +
      '{"name":"c","type":{"type":"array","items":"ns.b"}},{"name":"e","type":{"name":"other.e","type":"enum","symbols":["P","Q"]}}]}',
  );
});

test('Parsing Canonical Form equals the real lsst.v10_0 schema (split over its .avsc files)', { skip }, () => {
  const files = realSchemaFiles();
  const real = canonicalForm(files.get(LSST_ALERT_NAME) ?? null, files);
  const ours = canonicalForm(lsstAlertSchema() as Json);
  assert.equal(ours, real);
  assert.ok(real.length > 10_000, 'the canonical form covers every sub-record');
  // avsc agrees (its fingerprint is the MD5 of its canonical schema).
  assert.ok(lsstAlertParsedSchema().type.fingerprint().equals(realType().fingerprint()));
});

test('defaults, logical types and namespaces match the real schema too (everything but docs)', { skip }, () => {
  assert.deepStrictEqual(withoutDocs(lsstAlertSchema() as Json), resolvedRealSchema());
});

test('a real v10.0 alert in Confluent wire format decodes and re-encodes identically', { skip }, () => {
  const file = path.join(shared, 'pittgoogle-client/sample_alerts/lsst/lsst.v10_0.avro');
  const message = readFileSync(file);
  assert.equal(message[0], 0, 'magic byte');
  assert.equal(message.readUInt32BE(1), LSST_SCHEMA_ID);
  const body = message.subarray(5);
  const ours = lsstAlertParsedSchema().type;
  const value = ours.fromBuffer(body) as Record<string, unknown>;
  assert.deepStrictEqual(plain(value), plain(realType().fromBuffer(body)));
  assert.equal(typeof value.diaSourceId, 'bigint');
  assert.ok(ours.isValid(value));
  assert.ok(ours.toBuffer(value).equals(body));
});

test('the upstream fakeAlert.avro container decodes identically with our schema', { skip }, () => {
  const file = path.join(schemaDir, 'sample_data/fakeAlert.avro');
  const container = readContainer(readFileSync(file), { source: file });
  assert.equal(canonicalForm(JSON.parse(container.header.schema.text) as Json), canonicalForm(lsstAlertSchema() as Json));
  const records = containerRecords(container);
  assert.equal(records.length, 1);
  const ours = lsstAlertParsedSchema().type;
  for (const { value, bytes } of records) {
    const decoded = ours.fromBuffer(bytes) as { diaObject: { diaObjectId: bigint } };
    assert.deepStrictEqual(plain(decoded), plain(value));
    assert.equal(decoded.diaObject.diaObjectId, 281323062375219201n); // above 2^53, exact
    assert.ok(ours.toBuffer(decoded).equals(bytes));
  }
});

test('schema constants and blank records', () => {
  assert.equal(LSST_SCHEMA_ID, 1000);
  assert.equal(lsstAlertParsedSchema().name, 'lsst.v10_0.alert');
  assert.equal(lsstAlertParsedSchema(), lsstAlertParsedSchema(), 'parsed once');
  // A blank diaSource has every field, in schema order, and only needs its required values.
  const source = blankLsstRecord('diaSource');
  assert.deepEqual(Object.keys(source), LSST_RECORDS.diaSource.map((f) => f.name));
  assert.equal(source.psfFlux, null);
  assert.equal(source.diaSourceId, 0n);
  const alert = { ...blankLsstRecord('alert'), diaSource: source };
  assert.ok(lsstAlertParsedSchema().type.isValid(alert));
  assert.equal(LSST_RECORDS.diaObject.filter((f) => f.name.endsWith('_psfFluxMean')).length, 6);
});
