// Cutout images on the object page (no browser): real Rubin alerts stored with their cutouts;
// the object page shows three images whose PNGs decode to the FITS images' sizes, with cache
// headers (immutable for the linked source, revalidated by ETag otherwise); 404 for an object
// without images and for unknown kinds.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Admin } from '@platformatic/kafka';
import Fastify, { type FastifyInstance } from 'fastify';
import { decodePng } from '../src/client/png.ts';
import { readFitsImage } from '../src/client/view-fits.ts';
import { featuresForBatch } from '../src/features/index.ts';
import { toAlert } from '../src/formats/adapters/index.ts';
import type { Alert } from '../src/formats/alert.ts';
import { readAlertFile } from '../src/formats/files.ts';
import { createAdmin, createProducer, defaultSettings, type BytesProducer } from '../src/kafka/connection.ts';
import { createPipelineMetrics } from '../src/pipeline/pipeline-metrics.ts';
import { createFilterService, type FilterService } from '../src/service/filter-service.ts';
import { openStore, type Store } from '../src/store/index.ts';
import { webPlugin } from '../src/web/app.ts';
import { acquireLocalKafka, releaseLocalKafka, type Lease } from './setup/local-kafka.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dataDir = path.resolve(repoRoot, '../shared/data');
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const prefix = `njtest-cutouts-${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;

let lease: Lease;
let admin: Admin;
let producer: BytesProducer;
let store: Store;
let service: FilterService;
let app: FastifyInstance;
let base: string;
let withImages: Alert;
let withoutImages: Alert;

before(async () => {
  lease = await acquireLocalKafka();
  const settings = defaultSettings();
  admin = createAdmin(settings);
  producer = createProducer(settings);
  store = await openStore({ path: ':memory:', threads: 1 });
  const rubin = (await readAlertFile(path.join(dataDir, 'fink-client/datatest/lsst/part-2-918301.avro'))).map(({ record, schema }) => toAlert(record, schema.name));
  withImages = rubin[0] as Alert;
  withoutImages = rubin[1] as Alert;
  // The first object keeps its images (policy all for it); the second object's alert is stored without them (policy none).
  await store.writeBatch({ alerts: [withImages], objects: featuresForBatch([withImages]), keepCutouts: true });
  await store.writeBatch({ alerts: [withoutImages], objects: featuresForBatch([withoutImages]) });
  service = createFilterService({ store, admin, producer, topicPrefix: prefix, createMissingOwners: false });
  app = Fastify({ logger: false });
  await app.register(webPlugin, { store, filters: service, metrics: createPipelineMetrics() });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  base = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
});

after(async () => {
  await app?.close();
  await service?.close();
  await store?.close();
  await producer?.close();
  await admin?.close();
  if (lease !== undefined) await releaseLocalKafka(lease);
});

function imageSources(page: string): string[] {
  const section = /<section[^>]*aria-labelledby="cutouts-title"[\s\S]*?<\/section>/.exec(page)?.[0] ?? '';
  return [...section.matchAll(/<img src="([^"]+)"/g)].map((m) => (m[1] as string).replace(/&amp;/g, '&'));
}

test('the object page of a stored real Rubin alert shows its three cutouts as PNGs that decode', async () => {
  const page = await fetch(`${base}/objects/lsst/${withImages.objectId}`);
  assert.equal(page.status, 200);
  const text = await page.text();
  const sources = imageSources(text);
  assert.equal(sources.length, 3, 'three images on the page');
  assert.match(text, new RegExp(`source ${withImages.sourceId}`), 'the page names the alert the images came with');
  for (const [kind, src] of sources.map((s, i) => [(['science', 'template', 'difference'] as const)[i] as 'science' | 'template' | 'difference', s] as const)) {
    assert.ok(src.startsWith(`/objects/lsst/${withImages.objectId}/cutouts/${kind}.png?`), src);
    assert.ok(src.includes(`source=${withImages.sourceId}`), 'linked with the source id, for caching');
    const response = await fetch(`${base}${src}`);
    assert.equal(response.status, 200, `${src} answered ${response.status}`);
    assert.equal(response.headers.get('content-type'), 'image/png');
    assert.match(response.headers.get('cache-control') ?? '', /immutable/);
    const png = Buffer.from(await response.arrayBuffer());
    assert.deepEqual(png.subarray(0, 8), PNG_SIGNATURE, 'a PNG file');
    const decoded = decodePng(png);
    const fits = readFitsImage(withImages.cutouts[kind] as Uint8Array);
    assert.deepEqual([decoded.width, decoded.height], [fits.width, fits.height], `${kind}: the PNG has the FITS image's size`);
    assert.ok(fits.width >= 20 && fits.height >= 20, 'a real stamp, not a dot');
    const greys = new Set<number>();
    for (let i = 0; i < decoded.pixels.length; i += 4) greys.add(decoded.pixels[i] as number);
    assert.ok(greys.size > 20, `${kind}: the image has many grey levels, not a blank (${greys.size})`);
  }
});

test('cache headers: without the source the image is revalidated, and a matching ETag answers 304', async () => {
  const url = `${base}/objects/lsst/${withImages.objectId}/cutouts/difference.png`;
  const first = await fetch(url);
  assert.equal(first.status, 200);
  assert.equal(first.headers.get('cache-control'), 'public, no-cache');
  const etag = first.headers.get('etag');
  assert.equal(etag, `"${withImages.sourceId}-difference"`);
  const again = await fetch(url, { headers: { 'if-none-match': etag ?? '' } });
  assert.equal(again.status, 304);
  const stale = await fetch(`${url}?source=1`);
  assert.equal(stale.headers.get('cache-control'), 'public, no-cache', 'a link naming another source is not cached for good');
});

test('404 for an object without images, an unknown object or an unknown kind; the page says none are stored', async () => {
  const page = await (await fetch(`${base}/objects/lsst/${withoutImages.objectId}`)).text();
  assert.equal(imageSources(page).length, 0);
  assert.match(page, /No cutout images are stored for this object/);
  for (const url of [
    `/objects/lsst/${withoutImages.objectId}/cutouts/science.png`,
    '/objects/lsst/123/cutouts/science.png',
    `/objects/lsst/${withImages.objectId}/cutouts/sky.png`,
    `/objects/lsst/${withImages.objectId}/cutouts/science.jpg`,
    `/objects/nosuch/${withImages.objectId}/cutouts/science.png`,
  ]) {
    const response = await fetch(`${base}${url}`);
    assert.equal(response.status, 404, url);
    await response.arrayBuffer();
  }
});
