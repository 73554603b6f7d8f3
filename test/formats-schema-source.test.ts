// Schema directories (Rubin's split .avsc files, RAPID) and the Confluent registry client,
// the latter against a registry served on 127.0.0.1 from a schema directory.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { parseSchema } from '../src/formats/avro-schema.ts';
import { DecodeError, SchemaSourceError } from '../src/formats/errors.ts';
import { readAlertFile } from '../src/formats/files.ts';
import { decodeMessage } from '../src/formats/message.ts';
import { recordCodec } from '../src/formats/record-codec.ts';
import { combinedSource, registryClient, schemaDirectory, versionIdOf, type SchemaEntry } from '../src/formats/schema-source.ts';

const repoRoot = path.resolve(import.meta.dirname, '..');
const dataDir = path.resolve(repoRoot, '../shared/data');
const lsstDir = path.join(dataDir, 'lsst-alert_packet/schema');

test('schema ids come from confluent:version or the vMM_NN name part', () => {
  assert.equal(versionIdOf('lsst.v7_1.alert'), 701);
  assert.equal(versionIdOf('rapid.v01_00.alert'), 100);
  assert.equal(versionIdOf('lsst.v11_1.alert'), 1101);
  assert.equal(versionIdOf('elasticc.v0_9_1.alert'), undefined);
  assert.equal(versionIdOf('ztf.alert'), undefined);
});

/** Names of the record/enum/fixed definitions in a schema's JSON, in order. */
function namedDefinitions(node: unknown): string[] {
  if (Array.isArray(node)) return node.flatMap(namedDefinitions);
  if (node === null || typeof node !== 'object') return [];
  const n = node as Record<string, unknown>;
  const own = ['record', 'enum', 'fixed'].includes(n.type as string) ? [String(n.name)] : [];
  const children = [n.type, n.items, n.values, ...(Array.isArray(n.fields) ? n.fields.map((f: { type?: unknown }) => f.type) : [])];
  return [...own, ...children.flatMap(namedDefinitions)];
}

test('the Rubin schema folders load as one self-contained schema per version', async () => {
  const dir = schemaDirectory(lsstDir);
  assert.deepEqual(dir.problems, []);
  const ids = (await dir.list()).map((e) => e.id);
  assert.deepEqual(ids, [300, 400, 500, 600, 601, 700, 701, 702, 703, 704, 800, 900, 1000, 1100, 1101]);
  for (const entry of await dir.list()) {
    assert.equal(entry.name, `lsst.v${Math.floor(entry.id / 100)}_${entry.id % 100}.alert`);
    // Self-contained: parses alone, with no registry of named types.
    const alone = parseSchema(entry.text);
    assert.equal(alone.name, entry.name);
    assert.equal((await dir.byId(entry.id)).text, entry.text);
    // Each named type is defined once (at its first use), all sub-schema files included.
    const defined = namedDefinitions(JSON.parse(entry.text));
    assert.equal(new Set(defined).size, defined.length, `${entry.name}: ${defined.join(', ')}`);
    assert.ok(defined.length >= 5, `${entry.name} defines ${defined.join(', ')}`);
  }
  // v11 files carry "confluent:version" on their records; v10+ also ship a standalone ssObject.
  assert.equal((await dir.byId(1101)).name, 'lsst.v11_1.alert');
  assert.equal(dir.byName('lsst.v10_0.ssObject').name, 'lsst.v10_0.ssObject');
  assert.equal(dir.schemas.find((s) => s.name === 'lsst.v10_0.ssObject')?.id, undefined);
  assert.equal(dir.schemas.find((s) => s.name === 'lsst.v7_1.alert')?.files.length, 6);

  const rapid = schemaDirectory(path.join(dataDir, 'pittgoogle-client/schemas'));
  assert.equal((await rapid.byId(100)).name, 'rapid.v01_00.alert');
  await assert.rejects(rapid.byId(701), (err: unknown) => err instanceof SchemaSourceError && err.kind === 'not-found' && /schema id 701 not found in schema directory .*pittgoogle-client\/schemas \(ids there: 100\)/.test(err.message));
  const both = combinedSource([dir, rapid]);
  assert.equal((await both.byId(100)).name, 'rapid.v01_00.alert');
  assert.equal((await both.byId(900)).name, 'lsst.v9_0.alert');
  assert.equal((await both.list()).length, 16);
});

test('split schema files resolve in any order, and bad files are reported, not fatal', async (t) => {
  const dir = schemaDirectory(path.join(dataDir, 'ztf-avro-alert/schema'));
  assert.deepEqual(dir.problems, []);
  assert.deepEqual(dir.schemas.map((s) => s.name), ['ztf.alert']);
  const alert = dir.byName('ztf.alert');
  const [decoded] = await readAlertFile(path.join(dataDir, 'boom/alerts/ztf/2695378462115010012.avro'));
  assert.ok(decoded !== undefined);
  assert.ok(recordCodec(alert).encode(decoded.record).equals(decoded.bytes), 'the assembled ZTF 4.02 schema writes the real alert identically');

  const elasticc = schemaDirectory(path.join(dataDir, 'lsstdesc-elasticc'));
  assert.deepEqual(elasticc.problems, []);
  assert.equal(elasticc.byName('elasticc.v0_9_1.alert').name, 'elasticc.v0_9_1.alert');
  assert.throws(() => schemaDirectory(path.join(dataDir, 'no-such-folder')), (err: unknown) => err instanceof SchemaSourceError && err.kind === 'unavailable');

  const tmp = mkdtempSync(path.join(tmpdir(), 'nightjar-schemas-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  const write = (name: string, schema: unknown): void => writeFileSync(path.join(tmp, name), typeof schema === 'string' ? schema : JSON.stringify(schema));
  // "a" sorts before the file defining the type it uses; "point" is unqualified and inherits
  // the namespace of the file it sits in.
  write('a.avsc', { type: 'record', name: 'alert', namespace: 'demo.v2_3', fields: [{ name: 'p', type: 'point' }, { name: 'q', type: ['null', 'demo.v2_3.point'] }] });
  write('b.avsc', { type: 'record', name: 'point', namespace: 'demo.v2_3', fields: [{ name: 'x', type: 'double' }] });
  write('broken.avsc', '{"type": "record",');
  write('orphan.avsc', { type: 'record', name: 'orphan', namespace: 'demo.v2_3', fields: [{ name: 'y', type: 'nowhere' }] });
  const demo = schemaDirectory(tmp);
  assert.equal(demo.problems.length, 2, demo.problems.join('\n'));
  assert.match(demo.problems.join('\n'), /broken\.avsc: .*JSON/);
  assert.match(demo.problems.join('\n'), /orphan\.avsc: unknown type "nowhere"/);
  const demoAlert = await demo.byId(203);
  assert.equal(demoAlert.name, 'demo.v2_3.alert');
  const record = { p: { x: 1.5 }, q: { x: -2 } };
  assert.deepEqual(recordCodec(demoAlert).decodeExact(recordCodec(demoAlert).encode(record)), record);
});

test('every .avsc folder under ../shared/data loads; the one invalid file is reported', () => {
  const folders = new Set(readdirSync(dataDir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile() && e.name.endsWith('.avsc')).map((e) => e.parentPath));
  assert.ok(folders.size >= 20, `${folders.size} folders`);
  const problems: string[] = [];
  let parsed = 0;
  for (const folder of folders) {
    const dir = schemaDirectory(folder);
    problems.push(...dir.problems.map((p) => path.relative(dataDir, p)));
    for (const schema of dir.schemas) {
      assert.equal(dir.byName(schema.name).name, schema.name);
      parsed++;
    }
  }
  assert.ok(parsed >= 30, `${parsed} schemas`);
  // PLAsTiCC's brokerClassification uses "record" as a field type name: not valid Avro.
  assert.deepEqual(problems, [
    'lsstdesc-plasticc_alerts/Examples/starterkit/plasticc_schema/lsst.v4_1.brokerClassification.avsc: "record" used as a type name (a complex type needs an object: {"type": "record", ...}); skipped',
  ]);
});

/** A Confluent-compatible registry on 127.0.0.1 serving the given entries; counts requests. */
async function startRegistry(entries: readonly SchemaEntry[]): Promise<{ url: string; server: Server; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url} ${req.headers.authorization ?? ''}`);
    const send = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/vnd.schemaregistry.v1+json' });
      res.end(JSON.stringify(body));
    };
    const byId = /^\/schemas\/ids\/(\d+)$/.exec(req.url ?? '');
    const latest = /^\/subjects\/([^/]+)\/versions\/latest$/.exec(req.url ?? '');
    if (byId !== null) {
      const entry = entries.find((e) => e.id === Number(byId[1]));
      if (entry === undefined) send(404, { error_code: 40403, message: 'Schema not found' });
      else send(200, { schema: entry.text });
    } else if (req.url === '/subjects') {
      send(200, entries.map((e) => e.subject));
    } else if (latest !== null) {
      const entry = entries.find((e) => e.subject === decodeURIComponent(latest[1] as string));
      if (entry === undefined) send(404, { error_code: 40401, message: 'Subject not found' });
      else send(200, { subject: entry.subject, version: entry.version, id: entry.id, schema: entry.text });
    } else {
      send(500, { error_code: 50001, message: 'unexpected' });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, server, requests };
}

test('the registry client fetches schemas by id, caches them and names URL and id in errors', async (t) => {
  const dir = schemaDirectory(lsstDir);
  const { url, server, requests } = await startRegistry(await dir.list());
  t.after(() => server.close());

  const registry = registryClient(`http://user:secret@${url.slice('http://'.length)}/`);
  assert.equal(registry.location, url, 'no credentials in the location');
  const value = readFileSync(path.join(dataDir, 'boom/alerts/lsst/7912941781254298.avro'));
  const [viaRegistry] = await decodeMessage(value, null, { schemas: registry, source: 'lsst-alerts/0/12' });
  const [viaDirectory] = await decodeMessage(value, null, { schemas: dir });
  assert.equal(viaRegistry?.schemaId, 900);
  assert.equal(viaRegistry?.schema.text, viaDirectory?.schema.text);
  assert.deepEqual(viaRegistry?.record, viaDirectory?.record);
  await decodeMessage(value, null, { schemas: registry });
  assert.equal(requests.filter((r) => r.startsWith('GET /schemas/ids/900')).length, 1, 'cached by id');
  assert.ok(requests[0]?.endsWith(`Basic ${Buffer.from('user:secret').toString('base64')}`), 'credentials sent as basic auth');

  const unknown = Buffer.from(value);
  unknown.writeUInt32BE(4242, 1);
  await assert.rejects(decodeMessage(unknown, null, { schemas: registry, source: 'lsst-alerts/0/13' }), (err: unknown) => {
    assert.ok(err instanceof DecodeError);
    assert.equal(err.schemaId, 4242);
    assert.match(err.message, new RegExp(`schema registry ${url}: schema id 4242 not found \\(HTTP 404`));
    assert.match(err.message, /from lsst-alerts\/0\/13/);
    return true;
  });
  await assert.rejects(registry.byId(4242), /not found/);
  assert.equal(requests.filter((r) => r.startsWith('GET /schemas/ids/4242')).length, 2, 'failures are not cached');

  const listed = await registry.list();
  assert.deepEqual(listed.map((e) => e.id), (await dir.list()).map((e) => e.id));
});

test('an unreachable registry is a SchemaSourceError naming the URL and id, not a DecodeError', async () => {
  const { url, server } = await startRegistry([]);
  await new Promise((resolve) => server.close(resolve));
  const registry = registryClient(url, { timeoutMs: 2000 });
  const value = readFileSync(path.join(dataDir, 'pittgoogle-client/sample_alerts/lsst/lsst.v9_0.avro'));
  await assert.rejects(decodeMessage(value, null, { schemas: registry }), (err: unknown) => {
    assert.ok(err instanceof SchemaSourceError, String(err));
    assert.equal(err.kind, 'unavailable');
    assert.equal(err.schemaId, 900);
    assert.match(err.message, new RegExp(`schema registry ${url} unreachable \\(GET /schemas/ids/900 for schema id 900\\): ECONNREFUSED`));
    return true;
  });
});
