import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { toAlert } from '../src/formats/adapters/index.ts';
import { readAlertFile } from '../src/formats/files.ts';
import { bandColour, lightcurvePlot, plottedPoints } from '../src/client/plot-model.ts';
import { parseHexColour } from '../src/client/plot-raster.ts';
import { decodePng, encodePng } from '../src/client/png.ts';
import { readSavedAlerts, type SavedAlert } from '../src/client/saved-alerts.ts';
import { isStreamRecord, savedRecordToAlert, streamRecordToAlert } from '../src/client/stream-record.ts';
import { viewAlert } from '../src/client/view.ts';
import { readFitsImage, stretchToGrey } from '../src/client/view-fits.ts';
import { stringifyWithBytes } from '../src/util/json.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const data = path.resolve(repoRoot, '../shared/data');
const RUBIN = path.join(data, 'fink-client/datatest/lsst/part-2-918301.avro');
const ZTF = path.join(data, 'boom/alerts/ztf/2695378462115010012.avro');

async function firstAlert(file: string): Promise<SavedAlert> {
  const [d] = await readAlertFile(file);
  assert.ok(d);
  return { file, index: 0, schemaName: d.schema.name, record: d.record };
}

/** A FITS file: header cards padded to 2880 bytes, then big-endian data padded likewise. */
function fits(cards: string[], data: Buffer): Buffer {
  const header = Buffer.from([...cards, 'END'].map((c) => c.padEnd(80)).join(''), 'latin1');
  const pad = (b: Buffer, fill: number): Buffer => Buffer.concat([b, Buffer.alloc((2880 - (b.length % 2880)) % 2880, fill)]);
  return Buffer.concat([pad(header, 0x20), pad(data, 0)]);
}

const card = (key: string, value: string | number): string => `${key.padEnd(8)}= ${String(value).padStart(20)}`;

/** Pixels of an RGBA image equal to a colour, counted inside a rectangle. */
function countColour(image: { width: number; pixels: Uint8Array }, rgb: readonly number[], box: { left: number; top: number; right: number; bottom: number }): number {
  let n = 0;
  for (let y = Math.ceil(box.top); y < box.bottom; y++) {
    for (let x = Math.ceil(box.left); x < box.right; x++) {
      const at = (y * image.width + x) * 4;
      if (image.pixels[at] === rgb[0] && image.pixels[at + 1] === rgb[1] && image.pixels[at + 2] === rgb[2]) n++;
    }
  }
  return n;
}

describe('png', () => {
  it('round-trips an RGBA raster with exact bytes', () => {
    const pixels = new Uint8Array(7 * 5 * 4).map((_, i) => (i * 37) & 0xff);
    const png = encodePng({ width: 7, height: 5, pixels });
    assert.deepEqual(png.subarray(1, 4).toString('latin1'), 'PNG');
    const back = decodePng(png);
    assert.equal(back.width, 7);
    assert.equal(back.height, 5);
    assert.deepEqual(back.pixels, pixels);
  });

  it('rejects a corrupted chunk', () => {
    const png = encodePng({ width: 2, height: 2, pixels: new Uint8Array(16) });
    png[20] = (png[20] as number) ^ 0xff; // inside IHDR
    assert.throws(() => decodePng(png), /bad CRC/);
  });
});

describe('fits images', () => {
  it('reads BITPIX 16 with BZERO/BSCALE, row 1 at the bottom after stretching', () => {
    const data = Buffer.alloc(3 * 2 * 2);
    [0, 1, 2, 3, 4, 5].forEach((v, i) => data.writeInt16BE(v - 2, i * 2));
    const file = fits([card('SIMPLE', 'T'), card('BITPIX', 16), card('NAXIS', 2), card('NAXIS1', 3), card('NAXIS2', 2), card('BZERO', 10), card('BSCALE', 2)], data);
    const image = readFitsImage(file);
    assert.equal(image.width, 3);
    assert.equal(image.height, 2);
    assert.deepEqual([...image.values], [6, 8, 10, 12, 14, 16]);
    const grey = stretchToGrey(image, 0, 1);
    // Top-left of the display is FITS row 2, column 1 (value 12 → (12-6)/10 of white).
    assert.equal(grey.pixels[0], Math.round(0.6 * 255));
    // Bottom-left is row 1, column 1: the minimum, black.
    assert.equal(grey.pixels[3 * 4], 0);
  });

  it('refuses a cube and a header without data', () => {
    const cube = fits([card('SIMPLE', 'T'), card('BITPIX', -32), card('NAXIS', 3), card('NAXIS1', 2), card('NAXIS2', 2), card('NAXIS3', 2)], Buffer.alloc(32));
    assert.throws(() => readFitsImage(cube), /not a 2D image/);
    const empty = fits([card('SIMPLE', 'T'), card('BITPIX', 8), card('NAXIS', 0)], Buffer.alloc(0));
    assert.throws(() => readFitsImage(empty), /not a 2D image/);
  });
});

describe('view', () => {
  let out: string;
  before(async () => {
    out = await mkdtemp(path.join(tmpdir(), 'nightjar-view-'));
  });
  after(async () => {
    await rm(out, { recursive: true, force: true });
  });

  it('plots a Rubin alert with a long history as a PNG with every band colour', async () => {
    const saved = await firstAlert(RUBIN);
    const alert = toAlert(saved.record, saved.schemaName);
    const result = await viewAlert(saved, { outDir: out, format: 'png', mag: false });
    assert.ok('file' in result.plot);
    const bytes = await readFile(result.plot.file);
    assert.ok(bytes.length > 4000, `PNG is only ${bytes.length} bytes`);
    const image = decodePng(bytes);
    assert.equal(image.width, 800);
    assert.equal(image.height, 500);
    const model = lightcurvePlot(alert);
    const bands = new Set([...alert.lightcurve.detections, ...alert.lightcurve.forced].filter((p) => p.flux !== null).map((p) => p.band));
    assert.ok(bands.size >= 2, `only bands ${[...bands].join(',')}`);
    for (const band of bands) {
      assert.ok(countColour(image, parseHexColour(bandColour(band)), model.area) > 10, `no ${band} pixels in the plot area`);
    }
    const colours = new Set<number>();
    for (let i = 0; i < image.pixels.length; i += 4) colours.add(((image.pixels[i] as number) << 16) | ((image.pixels[i + 1] as number) << 8) | (image.pixels[i + 2] as number));
    assert.ok(colours.size > 4, 'background is uniform');
    assert.match(result.table, /source id\s+170094456272322680/);
    assert.match(result.table, /detections\s+346/);
  });

  it('writes an SVG with one circle per plotted point, and magnitudes inverted', async () => {
    const saved = await firstAlert(ZTF);
    const alert = toAlert(saved.record, saved.schemaName);
    const result = await viewAlert(saved, { outDir: out, format: 'svg', mag: false });
    assert.ok('file' in result.plot);
    const svg = await readFile(result.plot.file, 'utf8');
    const circles = svg.match(/<circle class="(detection|forced)"/g) ?? [];
    const expected = [...alert.lightcurve.detections, ...alert.lightcurve.forced].filter((p) => p.flux !== null).length;
    assert.equal(circles.length, expected);
    assert.equal(result.plot.points, expected);
    assert.ok(svg.includes('data-band="g"') && svg.includes('data-band="r"'));

    const magModel = lightcurvePlot(alert, { mag: true });
    // Magnitude ticks grow downwards (brighter is up).
    assert.ok(magModel.yTicks.length >= 2 && (magModel.yTicks[0] as { position: number }).position < (magModel.yTicks.at(-1) as { position: number }).position);
    assert.ok(Number(magModel.yTicks[0]?.label) < Number(magModel.yTicks.at(-1)?.label));
  });

  it('writes each cutout as a PNG of the cutout\'s size (ZTF gzip FITS and Rubin plain FITS)', async () => {
    for (const [file, size] of [[ZTF, 63], [RUBIN, 30]] as const) {
      const result = await viewAlert(await firstAlert(file), { outDir: out, format: 'png', mag: false });
      assert.equal(result.cutouts.length, 3);
      for (const c of result.cutouts) {
        assert.ok('file' in c, `cutout ${c.kind} skipped`);
        assert.equal(path.basename(c.file), `${result.alert.sourceId}_${c.kind}.png`);
        const image = decodePng(await readFile(c.file));
        assert.equal(image.width, size);
        assert.equal(image.height, size);
      }
    }
  });

  it('reads an alert saved as JSON with base64 bytes and views it the same way', async () => {
    const saved = await firstAlert(ZTF);
    const jsonFile = path.join(out, 'alert.json');
    await writeFile(jsonFile, stringifyWithBytes({ schema: saved.schemaName, record: saved.record }));
    const [fromJson] = await readSavedAlerts(jsonFile);
    assert.ok(fromJson);
    assert.equal(fromJson.schemaName, 'ztf.alert');
    const result = await viewAlert(fromJson, { outDir: out, format: 'png', mag: true });
    assert.equal(result.alert.sourceId, 2695378462115010012n);
    assert.equal(result.cutouts.filter((c) => 'file' in c).length, 3);
  });
});

describe('filter-stream records', () => {
  it('reads a full record (the alert\'s own sources) like the alert itself', async () => {
    const saved = await firstAlert(RUBIN);
    const original = toAlert(saved.record, saved.schemaName);
    const r = saved.record as { diaSource: { diaObjectId: bigint }; diaObject: unknown; prvDiaSources: unknown[]; prvDiaForcedSources: unknown[] };
    // Lasair lists the sources in time order; the triggering one is not first.
    const record = { diaObjectId: r.diaSource.diaObjectId, UTC: '2026-03-18 01:02:03', alert: { diaObject: r.diaObject, diaSourcesList: [...r.prvDiaSources, r.diaSource], diaForcedSourcesList: r.prvDiaForcedSources } };
    assert.ok(isStreamRecord(record));
    const alert = streamRecordToAlert(record, '');
    assert.equal(alert.sourceId, original.sourceId);
    assert.equal(alert.objectId, original.objectId);
    assert.deepEqual(alert.lightcurve, original.lightcurve);
    assert.equal(alert.record, record);
  });

  it('reads a lite record from its points, ids exact, the latest point as the trigger', () => {
    const record = {
      diaObjectId: 169760235333878021n,
      ra: 150.25,
      decl: -30.5,
      UTC: '2026-03-18 01:02:03',
      alert: {
        diaSourcesList: [
          { psfFlux: 1500, psfFluxErr: 100, midpointMjdTai: 61000.1, band: 'g', reliability: 0.9 },
          { psfFlux: 2500, psfFluxErr: 120, midpointMjdTai: 61002.2, band: 'r', reliability: null },
          { psfFlux: null, psfFluxErr: null, midpointMjdTai: 61001.3, band: 'i', reliability: null },
        ],
        diaForcedSourcesList: [{ psfFlux: -20, psfFluxErr: 90, midpointMjdTai: 60999.5, band: 'g' }],
      },
    };
    const alert = savedRecordToAlert(record, '');
    assert.equal(alert.objectId, 169760235333878021n);
    assert.equal(alert.sourceId, 169760235333878021n, 'no source named: the object id');
    assert.deepEqual(alert.lightcurve.detections.map((p) => p.mjd), [61000.1, 61001.3, 61002.2]);
    assert.equal(alert.lightcurve.forced.length, 1);
    assert.deepEqual([alert.mjd, alert.band, alert.flux, alert.ra, alert.dec], [61002.2, 'r', 2500, 150.25, -30.5]);
    assert.equal(plottedPoints(lightcurvePlot(alert)), 3, 'the point without a flux is not plotted');
  });

  it('leaves survey alerts to their adapters and refuses a record naming no object', async () => {
    const saved = await firstAlert(ZTF);
    assert.ok(!isStreamRecord(saved.record));
    assert.equal(savedRecordToAlert(saved.record, saved.schemaName).sourceId, 2695378462115010012n);
    assert.throws(() => streamRecordToAlert({ alert: { diaSourcesList: [] } }, ''), /names no object/);
  });
});
