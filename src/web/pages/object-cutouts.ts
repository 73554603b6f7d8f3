// An object's stored cutout images as PNG: GET /objects/:survey/:objectId/cutouts/<kind>.png
// (kind science, template or difference; ?kind=<objectKind> as on the object page), rendered from
// the stored FITS with the CLI viewer's code (grey stretch between the 0.5th and 99.5th
// percentiles). 404 when the object has no such image.
//
// Caching: the images change when a newer alert of the object brings its own, so the page links
// them with ?source=<its source id>. A response to a link naming the stored source may be kept
// for good (immutable); any other is revalidated with an ETag naming the source.
import type { FastifyInstance, FastifyReply } from 'fastify';
import { encodePng } from '../../client/png.ts';
import { readFitsImage, stretchToGrey } from '../../client/view-fits.ts';
import type { ObjectKind, Survey } from '../../formats/alert.ts';
import { cutoutFits, type CutoutKind } from '../../stream/cutouts.ts';
import type { ObjectKey, StoredCutouts } from '../../store/store.ts';
import type { PageServices } from './page-services.ts';

export const CUTOUT_IMAGE_KINDS: readonly CutoutKind[] = ['science', 'template', 'difference'];
const SURVEYS: readonly Survey[] = ['lsst', 'ztf', 'elasticc', 'plasticc', 'decam', 'winter', 'rapid', 'askap'];
const OBJECT_KINDS: readonly ObjectKind[] = ['object', 'solarSystem', 'source'];
const IMMUTABLE = 'public, max-age=31536000, immutable';
const REVALIDATE = 'public, no-cache';

/** The address of one stored image of an object, naming the alert it came with (for caching). */
export function cutoutImagePath(survey: string, objectId: string, objectKind: string, kind: CutoutKind, sourceId: bigint): string {
  const query = new URLSearchParams();
  if (objectKind !== 'object') query.set('kind', objectKind);
  query.set('source', sourceId.toString());
  return `/objects/${encodeURIComponent(survey)}/${encodeURIComponent(objectId)}/cutouts/${kind}.png?${query.toString()}`;
}

/** The image kinds an object's stored cutouts have, in display order. */
export function storedKinds(cutouts: StoredCutouts | null): CutoutKind[] {
  return cutouts === null ? [] : CUTOUT_IMAGE_KINDS.filter((kind) => cutouts[kind] !== undefined);
}

/** A stored cutout (plain or gzip FITS) as a grey PNG; throws an Error saying why when it is not a 2D FITS image. */
export function cutoutToPng(data: Uint8Array, kind: CutoutKind): { png: Buffer; width: number; height: number } {
  const image = readFitsImage(cutoutFits({ kind, path: kind, data }));
  return { png: encodePng(stretchToGrey(image)), width: image.width, height: image.height };
}

function notFound(reply: FastifyReply, message: string): FastifyReply {
  return reply.code(404).type('text/plain; charset=utf-8').header('cache-control', 'no-store').send(message);
}

export async function objectCutoutRoutes(app: FastifyInstance, services: PageServices): Promise<void> {
  const store = services.options.store;

  app.get('/objects/:survey/:objectId/cutouts/:file', async (request, reply) => {
    const p = request.params as Record<string, string | undefined>;
    const q = request.query as Record<string, string | undefined>;
    const survey = SURVEYS.find((s) => s === p.survey);
    const objectId = p.objectId ?? '';
    const kind = CUTOUT_IMAGE_KINDS.find((k) => `${k}.png` === p.file);
    const kinds = OBJECT_KINDS.filter((k) => q.kind === undefined || k === q.kind);
    if (survey === undefined || kind === undefined || objectId === '' || objectId.length > 64 || kinds.length === 0) return notFound(reply, 'no such image');
    let stored: StoredCutouts | null = null;
    for (const objectKind of kinds) {
      const key: ObjectKey = { survey, objectKind, objectId };
      stored = await store.cutouts(key);
      if (stored !== null) break;
    }
    const data = stored?.[kind];
    if (stored === null || data === undefined) return notFound(reply, `object ${objectId} has no stored ${kind} image`);
    const etag = `"${stored.sourceId.toString()}-${kind}"`;
    const current = q.source === stored.sourceId.toString();
    reply.header('etag', etag).header('cache-control', current ? IMMUTABLE : REVALIDATE).header('x-content-type-options', 'nosniff');
    if (request.headers['if-none-match'] === etag) return reply.code(304).send();
    let png: Buffer;
    try {
      png = cutoutToPng(data, kind).png;
    } catch (error) {
      request.log.warn({ survey, objectId, kind, sourceId: stored.sourceId.toString(), error: (error as Error).message }, 'stored cutout cannot be drawn');
      return reply.code(422).type('text/plain; charset=utf-8').header('cache-control', 'no-store').send(`the stored ${kind} image of object ${objectId} cannot be drawn: ${(error as Error).message}`);
    }
    return reply.type('image/png').send(png);
  });
}
