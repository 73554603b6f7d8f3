// A file store keeps cutout bytes in segment files beside it (src/store/cutout-segments.ts):
// exact bytes across reopening, the newer-alert rule, rows of schema version 5 (BLOBs) still read
// and replaced, segments rolled over and compacted without losing an image, bytes left after the
// last commit (a crash) harmless, and a missing segment file a clear error the store survives.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { featuresForBatch } from '../src/features/compute.ts';
import { toAlert } from '../src/formats/adapters/index.ts';
import type { Alert } from '../src/formats/alert.ts';
import { readAlertFile } from '../src/formats/files.ts';
import { segmentDirectory } from '../src/store/cutout-segments.ts';
import { openStore, type ObjectKey, type Store } from '../src/store/index.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dataDir = path.resolve(repoRoot, '../shared/data');
const KINDS = ['science', 'template', 'difference'] as const;

let rubin: Alert[] = [];
let dir: string;

before(async () => {
  rubin = (await readAlertFile(path.join(dataDir, 'fink-client/datatest/lsst/part-2-918301.avro'))).map(({ record, schema }) => toAlert(record, schema.name));
  assert.ok(rubin.length >= 3);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nightjar-segments-'));
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

const keyOf = (a: Alert): ObjectKey => ({ survey: a.survey, objectKind: a.objectKind, objectId: a.objectId });

/** A copy of an alert `step` steps later (or earlier), its images marked with `marker` in their last byte; `drop` leaves one image out. */
function version(base: Alert, step: number, marker: number, drop?: (typeof KINDS)[number]): Alert {
  const copy = structuredClone(base);
  copy.mjd = base.mjd + step * 0.01;
  copy.sourceId = base.sourceId + BigInt(step);
  for (const kind of KINDS) {
    const bytes = copy.cutouts[kind];
    if (bytes !== undefined) bytes[bytes.length - 1] = marker;
  }
  if (drop !== undefined) delete copy.cutouts[drop];
  return copy;
}

async function assertImages(store: Store, alert: Alert, message: string): Promise<void> {
  const stored = await store.cutouts(keyOf(alert));
  assert.ok(stored !== null, message);
  assert.equal(stored.sourceId, alert.sourceId, message);
  for (const kind of KINDS) {
    const want = alert.cutouts[kind];
    assert.deepEqual(stored[kind] === undefined ? undefined : Buffer.from(stored[kind]), want === undefined ? undefined : Buffer.from(want), `${message}: ${kind}`);
  }
}

const segmentFiles = (file: string): string[] => fs.readdirSync(segmentDirectory(file)).filter((n) => n.endsWith('.seg')).sort();

test('images round-trip exactly through segment files, across reopening, by the newer-alert rule', async () => {
  const file = path.join(dir, 'roundtrip.duckdb');
  let store = await openStore({ path: file });
  const [a, b, c] = rubin as [Alert, Alert, Alert];
  const bWithoutTemplate = version(b, 0, 7, 'template');
  await store.writeBatch({ alerts: [a, bWithoutTemplate], objects: featuresForBatch([a, bWithoutTemplate]), keepCutouts: true });
  await store.writeBatch({ alerts: [c], objects: featuresForBatch([c]) });
  assert.equal(await store.writeCutouts([c]), 1);
  assert.equal(segmentFiles(file).length, 1);
  // BLOB columns stay empty: the bytes are in the segment.
  await assertImages(store, a, 'a');
  await assertImages(store, bWithoutTemplate, 'b without its template');
  await store.close();

  store = await openStore({ path: file });
  await assertImages(store, a, 'a after reopening');
  await assertImages(store, c, 'c after reopening');
  const newer = version(a, 1, 11);
  const older = version(a, -1, 13);
  assert.equal(await store.writeCutouts([newer]), 1);
  assert.equal(await store.writeCutouts([older]), 0, 'an older alert does not replace the images');
  assert.equal(await store.writeCutouts([newer]), 0, 'a replay changes nothing');
  await assertImages(store, newer, 'the newer alert\'s images');
  await store.close();
});

test('a row of schema version 5 (BLOBs) is read, then replaced by segment images', async () => {
  const file = path.join(dir, 'raw.duckdb');
  let store = await openStore({ path: file });
  const a = rubin[0] as Alert;
  await store.writeBatch({ alerts: [a], objects: featuresForBatch([a]), keepCutouts: true });
  await store.close();
  // As version 5 wrote it: the bytes in the row.
  const instance = await DuckDBInstance.create(file);
  const c = await instance.connect();
  await c.run(
    "UPDATE object_cutouts SET encoding = 'raw', science = $1::BLOB, template = $2::BLOB, difference = NULL, segment = NULL, position = NULL, scienceBytes = NULL, templateBytes = NULL, differenceBytes = NULL",
    [Buffer.from('raw science').toString('latin1'), Buffer.from('raw template').toString('latin1')],
  );
  c.closeSync();
  instance.closeSync();
  store = await openStore({ path: file });
  const raw = await store.cutouts(keyOf(a));
  assert.equal(Buffer.from(raw?.science ?? []).toString(), 'raw science');
  assert.equal(Buffer.from(raw?.template ?? []).toString(), 'raw template');
  assert.equal(raw?.difference, undefined);
  const newer = version(a, 1, 5);
  assert.equal(await store.writeCutouts([newer]), 1);
  await assertImages(store, newer, 'replaced by segment images');
  await store.close();
});

test('segments roll over and compaction reclaims dead bytes without losing an image', async () => {
  const file = path.join(dir, 'compact.duckdb');
  const imageBytes = KINDS.reduce((n, k) => n + ((rubin[0] as Alert).cutouts[k]?.length ?? 0), 0);
  // About two alerts' images per segment.
  const store = await openStore({ path: file, cutoutSegmentBytes: imageBytes * 2 });
  const objects = rubin.slice(0, 5);
  assert.equal(objects.length, 5, 'the sample has five real Rubin alerts');
  // Segment 1 gets all five objects' images; later writes replace three of them only, so
  // compaction must copy the other two (live, under half of segment 1) before deleting it.
  await store.writeBatch({ alerts: objects, objects: featuresForBatch(objects), keepCutouts: true });
  let latest = objects;
  let highest = 0;
  for (let step = 1; step <= 12; step++) {
    latest = [...objects.slice(0, 3).map((a) => version(a, step, step)), ...objects.slice(3)];
    assert.equal(await store.writeCutouts(latest.slice(0, 3)), 3);
    for (const name of segmentFiles(file)) highest = Math.max(highest, Number(name.slice(0, -'.seg'.length)));
  }
  const remaining = segmentFiles(file).length;
  assert.ok(!segmentFiles(file).includes('000001.seg'), 'segment 1 compacted away, its live images moved');
  assert.ok(highest >= 6, `segments rolled over (${highest} made)`);
  assert.ok(remaining <= 3, `compaction deleted segments (${remaining} left of ${highest} made)`);
  const onDisk = segmentFiles(file).reduce((n, f) => n + fs.statSync(path.join(segmentDirectory(file), f)).size, 0);
  const live = latest.reduce((n, a) => n + KINDS.reduce((m, k) => m + (a.cutouts[k]?.length ?? 0), 0), 0);
  assert.ok(onDisk <= 3 * live + 3 * imageBytes * 2, `segments hold ${onDisk} bytes for ${live} live`);
  for (const a of latest) await assertImages(store, a, `object ${a.objectId} after compaction`);
  await store.close();
  const reopened = await openStore({ path: file });
  for (const a of latest) await assertImages(reopened, a, `object ${a.objectId} after reopening`);
  await reopened.close();
});

test('bytes appended after the last commit do not disturb reads or later writes', async () => {
  const file = path.join(dir, 'crash.duckdb');
  let store = await openStore({ path: file });
  const [a, b] = rubin as [Alert, Alert];
  await store.writeBatch({ alerts: [a, b], objects: featuresForBatch([a, b]), keepCutouts: true });
  await store.close();
  const last = segmentFiles(file).at(-1) as string;
  fs.appendFileSync(path.join(segmentDirectory(file), last), Buffer.alloc(12345, 0xee));
  store = await openStore({ path: file });
  await assertImages(store, a, 'a');
  const newer = version(b, 1, 9);
  assert.equal(await store.writeCutouts([newer]), 1);
  await assertImages(store, newer, 'b after a crash tail');
  await store.close();
});

test('a missing segment file is a clear error for that object, and the store goes on', async () => {
  const file = path.join(dir, 'missing.duckdb');
  const store = await openStore({ path: file });
  const [a, b] = rubin as [Alert, Alert];
  await store.writeBatch({ alerts: [a], objects: featuresForBatch([a]), keepCutouts: true });
  await store.close();
  const reopened = await openStore({ path: file });
  await reopened.writeBatch({ alerts: [b], objects: featuresForBatch([b]), keepCutouts: true });
  const first = segmentFiles(file)[0] as string;
  fs.rmSync(path.join(segmentDirectory(file), first));
  await assert.rejects(reopened.cutouts(keyOf(a)), (error: Error) => error.message.includes(`cutouts of ${a.survey}:${a.objectKind}:${a.objectId}`) && error.message.includes(first));
  await assertImages(reopened, b, 'b, in another segment');
  assert.equal(await reopened.writeCutouts([version(a, 1, 3)]), 1, 'new images for the object are stored');
  await reopened.close();
});
