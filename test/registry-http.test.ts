// The schema registry over HTTP: Confluent's REST subset and error bodies (through Fastify's
// inject), then a real server on 127.0.0.1 read by Nightjar's own registry client, surviving a
// restart with the same ids.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readAlertFile } from '../src/formats/files.ts';
import { lsstAlertParsedSchema } from '../src/formats/lsst-schema.ts';
import { registryClient } from '../src/formats/schema-source.ts';
import { repoRoot } from '../src/kafka/local-config.ts';
import { registerSchema } from '../src/registry/registry-client.ts';
import { registryPreload } from '../src/registry/registry-preload.ts';
import { createRegistryApp, startRegistryServer } from '../src/registry/registry-server.ts';
import { openRegistryStore } from '../src/registry/registry-store.ts';

const data = path.resolve(repoRoot, '../shared/data');
const CONFLUENT_JSON = 'application/vnd.schemaregistry.v1+json';

test('the Confluent REST subset, with Confluent error bodies', async () => {
  const app = await createRegistryApp(openRegistryStore({ preload: registryPreload().schemas }));
  try {
    const builtin = lsstAlertParsedSchema();
    const get = async (url: string): Promise<{ status: number; body: unknown; type: string }> => {
      const r = await app.inject({ method: 'GET', url });
      return { status: r.statusCode, body: r.json(), type: String(r.headers['content-type']) };
    };
    const post = async (url: string, payload: unknown, contentType = CONFLUENT_JSON): Promise<{ status: number; body: unknown }> => {
      const r = await app.inject({ method: 'POST', url, payload: typeof payload === 'string' ? payload : JSON.stringify(payload), headers: { 'content-type': contentType } });
      return { status: r.statusCode, body: r.json() };
    };

    const byId = await get('/schemas/ids/1000');
    assert.equal(byId.status, 200);
    assert.deepEqual(byId.body, { schema: builtin.text });
    assert.ok(byId.type.startsWith(CONFLUENT_JSON), byId.type);
    assert.deepEqual(await get('/schemas/ids/999999'), { status: 404, body: { error_code: 40403, message: 'Schema 999999 not found' }, type: `${CONFLUENT_JSON}; charset=utf-8` });
    assert.equal(((await get('/schemas/ids/abc')).body as { error_code: number }).error_code, 40403);

    assert.deepEqual((await get('/subjects')).body, ['lsst.v10_0.alert']);
    assert.deepEqual((await get('/subjects/lsst.v10_0.alert/versions')).body, [1]);
    const latest = { subject: 'lsst.v10_0.alert', version: 1, id: 1000, schema: builtin.text };
    assert.deepEqual((await get('/subjects/lsst.v10_0.alert/versions/latest')).body, latest);
    assert.deepEqual((await get('/subjects/lsst.v10_0.alert/versions/-1')).body, latest);
    assert.deepEqual((await get('/subjects/lsst.v10_0.alert/versions/1')).body, latest);
    assert.deepEqual(await get('/subjects/lsst.v10_0.alert/versions/2'), { status: 404, body: { error_code: 40402, message: 'Version 2 not found.' }, type: `${CONFLUENT_JSON}; charset=utf-8` });
    assert.equal(((await get('/subjects/lsst.v10_0.alert/versions/zero')).body as { error_code: number }).error_code, 42202);
    assert.deepEqual((await get('/subjects/nope/versions')).body, { error_code: 40401, message: "Subject 'nope' not found." });
    assert.deepEqual((await get('/subjects/nope/versions/latest')).body, { error_code: 40401, message: "Subject 'nope' not found." });
    assert.deepEqual(await get('/no/such/path'), { status: 404, body: { error_code: 404, message: 'HTTP 404 Not Found' }, type: `${CONFLUENT_JSON}; charset=utf-8` });

    // Registration: the vendor content type and plain JSON; idempotent; ids by Rubin's rule.
    const [spark] = await readAlertFile(path.join(data, 'fink-broker/datasim/rubin_test_data_9_0_avro/169298432598474793_169298432598474793.avro'));
    assert.deepEqual(await post('/subjects/alerts-value/versions', { schema: spark!.schema.text }), { status: 200, body: { id: 1 } });
    assert.deepEqual(await post('/subjects/alerts-value/versions', { schema: spark!.schema.text, schemaType: 'AVRO' }, 'application/json'), { status: 200, body: { id: 1 } });
    assert.deepEqual(await post('/subjects/alerts-value/versions', { schema: builtin.text }), { status: 200, body: { id: 1000 } });
    assert.deepEqual((await get('/subjects/alerts-value/versions')).body, [1, 2]);
    assert.deepEqual(await post('/subjects/alerts-value', { schema: builtin.text }), { status: 200, body: { subject: 'alerts-value', version: 2, id: 1000, schema: builtin.text } });
    assert.deepEqual((await post('/subjects/lsst.v10_0.alert', { schema: spark!.schema.text })).body, { error_code: 40403, message: 'Schema not found' });

    // Refusals.
    const invalid = await post('/subjects/bad-value/versions', { schema: '{"type": "record", "name": "x"}' });
    assert.equal(invalid.status, 422);
    assert.equal((invalid.body as { error_code: number }).error_code, 42201);
    assert.equal(((await post('/subjects/bad-value/versions', { schema: '"string"', schemaType: 'PROTOBUF' })).body as { error_code: number }).error_code, 42201);
    assert.equal(((await post('/subjects/bad-value/versions', { notschema: 1 })).body as { error_code: number }).error_code, 42201);
    const malformed = await post('/subjects/bad-value/versions', '{"schema": ');
    assert.equal(malformed.status, 400);
    assert.equal((malformed.body as { error_code: number }).error_code, 400);
    assert.equal((await get('/subjects/bad-value/versions')).status, 404, 'nothing was registered by the refusals');
  } finally {
    await app.close();
  }
});

test('a real server on 127.0.0.1: Nightjar clients register and read schemas; ids survive a restart', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'nightjar-registry-http-'));
  const file = path.join(dir, 'schemas.json');
  const schemaDir = path.join(data, 'lsst-alert_packet/schema');
  let server = await startRegistryServer({ store: openRegistryStore({ file, preload: registryPreload([schemaDir]).schemas }) });
  try {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    // A boom Rubin v9.0 alert in Confluent wire format decodes with schemas fetched by id 900.
    const client = registryClient(server.url);
    const [boom] = await readAlertFile(path.join(data, 'boom/alerts/lsst/7912941781254298.avro'), { schemas: client });
    assert.equal(boom!.schemaId, 900);
    assert.equal(boom!.schema.name, 'lsst.v9_0.alert');
    assert.equal((boom!.record.diaSource as { diaSourceId: bigint }).diaSourceId, 7912941781254298n);
    const listed = await client.list();
    assert.ok(listed.some((e) => e.id === 900 && e.name === 'lsst.v9_0.alert'));

    const [spark] = await readAlertFile(path.join(data, 'fink-broker/datasim/rubin_test_data_7_4_avro/58804293150441522_58804293150441522.avro'));
    const id = await registerSchema(server.url, 'raw-value', spark!.schema.text);
    assert.equal(await registerSchema(server.url, 'raw-value', spark!.schema.text), id);
    assert.equal(await registerSchema(server.url, 'other-value', spark!.schema.text), id, 'one id per schema, whatever the subject');
    await assert.rejects(registerSchema(server.url, 'raw-value', 'nonsense'), /HTTP 422.*42201/);

    await server.close();
    server = await startRegistryServer({ store: openRegistryStore({ file, preload: registryPreload([schemaDir]).schemas }) });
    const again = registryClient(server.url);
    assert.equal((await again.byId(id)).text, spark!.schema.text);
    assert.equal((await again.byId(900)).name, 'lsst.v9_0.alert');
  } finally {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
  await assert.rejects(registerSchema(server.url, 'raw-value', '"string"'), /unreachable/);
});
