// Cutouts found, stripped and turned into FITS files in real alerts of every survey that
// carries them (Rubin, ZTF, Fink, DECam DESIRT and DECAT, WINTER, Roman RAPID, ASKAP).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { readAlertFile } from '../src/formats/files.ts';
import { schemaDirectory } from '../src/formats/schema-source.ts';
import { repoRoot } from '../src/kafka/local-config.ts';
import { cutoutFits, cutoutKindOf, findCutouts, withoutCutouts, type Cutout } from '../src/stream/cutouts.ts';
import { writeStamps } from '../src/stream/stamps.ts';
import { stringify } from '../src/util/json.ts';

const data = path.resolve(repoRoot, '../shared/data');
const rubinSchemas = schemaDirectory(path.join(data, 'lsst-alert_packet/schema'));

async function firstRecord(file: string): Promise<Record<string, unknown>> {
  const [decoded] = await readAlertFile(path.join(data, file), { schemas: rubinSchemas });
  assert.ok(decoded, `${file} holds no record`);
  return decoded.record;
}

const FITS_BLOCK = 2880;
const isFits = (b: Buffer): boolean => b.subarray(0, 9).toString('latin1') === 'SIMPLE  =' && b.length % FITS_BLOCK === 0;

test('cutout field names of every survey map to their kind; other fields are not cutouts', () => {
  const expected: [string, string | undefined][] = [
    ['cutoutScience', 'science'], ['cutoutTemplate', 'template'], ['cutoutDifference', 'difference'],
    ['cutoutReference', 'template'], ['cutout_science', 'science'], ['cutout_template', 'template'],
    ['cutout_difference', 'difference'], ['scicutout', 'science'], ['refcutout', 'template'], ['diffcutout', 'difference'],
    ['cutouts', undefined], ['cutoutScienceExtra', undefined], ['stampData', undefined], ['diaSource', undefined],
  ];
  for (const [name, kind] of expected) assert.equal(cutoutKindOf(name), kind, name);
});

const SURVEYS: { file: string; paths: string[]; gzipped: boolean; fileNames?: boolean }[] = [
  { file: 'boom/alerts/lsst/7912941781254298.avro', paths: ['cutoutDifference', 'cutoutScience', 'cutoutTemplate'], gzipped: false },
  { file: 'boom/alerts/ztf/2695378462115010012.avro', paths: ['cutoutScience', 'cutoutTemplate', 'cutoutDifference'], gzipped: true, fileNames: true },
  { file: 'fink-broker/datasim/rubin_test_data_9_0_avro/169298432598474793_169298432598474793.avro', paths: ['cutoutDifference', 'cutoutScience', 'cutoutTemplate'], gzipped: false },
  { file: 'fink-client/datatest/ztf/part-3-305711.avro', paths: ['cutoutScience', 'cutoutTemplate', 'cutoutDifference'], gzipped: true, fileNames: true },
  { file: 'boom/alerts/decam/alert.avro', paths: ['cutoutScience', 'cutoutTemplate', 'cutoutDifference'], gzipped: true },
  { file: 'pitt-google-broker/misc/DC21baaa.570349.decat_20210414_2021A-0113.avro', paths: ['triggersource.scicutout', 'triggersource.refcutout', 'triggersource.diffcutout'], gzipped: true },
  { file: 'boom/alerts/winter/alert.avro', paths: ['cutout_science', 'cutout_template', 'cutout_difference'], gzipped: true },
  { file: 'boom/alerts/roman/alert.avro', paths: ['cutoutDifference', 'cutoutScience', 'cutoutReference'], gzipped: false },
];

for (const survey of SURVEYS) {
  test(`cutouts of ${survey.file}: found, become FITS files, and vanish from the printed record`, async () => {
    const record = await firstRecord(survey.file);
    const cutouts = findCutouts(record);
    assert.deepEqual(cutouts.map((c) => c.path), survey.paths);
    assert.deepEqual(new Set(cutouts.map((c) => c.kind)), new Set(['science', 'template', 'difference']));
    for (const c of cutouts) {
      assert.equal(c.data[0] === 0x1f && c.data[1] === 0x8b, survey.gzipped, `${c.path} gzip`);
      assert.equal(c.fileName !== undefined, survey.fileNames === true, `${c.path} file name`);
      const fits = cutoutFits(c);
      assert.ok(isFits(fits), `${c.path}: ${fits.length} bytes, starts ${JSON.stringify(fits.subarray(0, 12).toString('latin1'))}`);
      if (!survey.gzipped) assert.ok(fits.equals(Buffer.from(c.data)), 'plain FITS is written as stored');
    }

    const stripped = withoutCutouts(record);
    assert.deepEqual(findCutouts(stripped), [], 'no cutout left');
    const json = stringify(stripped);
    for (const c of cutouts) {
      const [head, tail] = c.path.includes('.') ? c.path.split('.') : [undefined, c.path];
      const holder = (head === undefined ? stripped : stripped[head]) as Record<string, unknown>;
      assert.deepEqual(holder[tail!], { $bytes: c.data.length }, `${c.path} replaced by its size`);
    }
    assert.ok(!json.includes('stampData'), 'ZTF stamp records are replaced whole');
    assert.ok(json.length < stringify(record).length + 1, 'stripping never adds');
    // The original record is untouched (the print path must not damage what it was given).
    assert.deepEqual(findCutouts(record).map((c) => c.path), survey.paths);
  });
}

test('alerts without cutouts: nothing found, the record itself is returned', async () => {
  const record = await firstRecord('pittgoogle-client/sample_alerts/lsst/lsst.v10_0.avro');
  assert.deepEqual(findCutouts(record), []);
  assert.equal(withoutCutouts(record), record);
  // Null cutouts stay null.
  assert.equal(record.cutoutScience, null);
});

test('bytes that are not a FITS image are refused with the reason: ASKAP placeholder, corrupt gzip, gzip of non-FITS', async () => {
  const askap = findCutouts(await firstRecord('boom/alerts/askap/alert.avro'));
  assert.equal(askap.length, 1);
  assert.throws(() => cutoutFits(askap[0]!), /cutout cutoutScience is not a FITS file \(512 bytes/);
  const corrupt: Cutout = { kind: 'science', path: 'cutoutScience.stampData', data: Buffer.from([0x1f, 0x8b, 8, 0, 1, 2, 3]) };
  assert.throws(() => cutoutFits(corrupt), /gzip data is corrupt/);
  const text: Cutout = { kind: 'template', path: 'cutoutTemplate', data: gzipSync(Buffer.from('not an image at all')) };
  assert.throws(() => cutoutFits(text), /not a FITS file \(19 bytes starting "not an image at "\)/);
});

test('writeStamps writes <name>_<kind>.fits for the FITS cutouts and reports the others', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'nightjar-stamps-'));
  try {
    const ztf = findCutouts(await firstRecord('boom/alerts/ztf/2695378462115010012.avro'));
    const bad: Cutout = { kind: 'science', path: 'x.cutoutScience', data: Buffer.from('plain text') };
    const result = await writeStamps(path.join(dir, 'nested'), '2695378462115010012', [...ztf, bad]);
    assert.deepEqual(result.written.map((f) => path.basename(f)), ['2695378462115010012_science.fits', '2695378462115010012_template.fits', '2695378462115010012_difference.fits']);
    assert.equal(result.problems.length, 1);
    assert.match(result.problems[0]!, /x\.cutoutScience is not a FITS file/);
    for (const file of result.written) assert.ok(isFits(await readFile(file)), file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
