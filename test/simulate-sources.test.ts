// Reading replay inputs: the streaming tar reader on archives written by GNU tar (gnu, pax and
// ustar formats, gzipped or not), its refusal of damaged ones, and the loading of a folder of
// real alerts and night archives where the corrupt ones are reported by name and skipped.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream';
import { createGunzip, gzipSync } from 'node:zlib';
import { toAlert } from '../src/formats/adapters/index.ts';
import { readAlertFile } from '../src/formats/files.ts';
import { schemaDirectory, combinedSource } from '../src/formats/schema-source.ts';
import { builtinSchemas } from '../src/formats/builtin-schemas.ts';
import { repoRoot } from '../src/kafka/local-config.ts';
import { listAlertInputs, readArchive } from '../src/simulate/alert-sources.ts';
import { loadAlertInputs } from '../src/simulate/load-alerts.ts';
import { createAlertPreparer } from '../src/simulate/prepared-alert.ts';
import { readTarEntries, TarError, type TarEntry } from '../src/simulate/tar-reader.ts';

const data = path.resolve(repoRoot, '../shared/data');
const RUBIN_V9 = path.join(data, 'fink-broker/datasim/rubin_test_data_9_0_avro');
const RUBIN_V74 = path.join(data, 'fink-broker/datasim/rubin_test_data_7_4_avro');
const ELASTICC_GZ = path.join(data, 'fink-client/datatest/elasticc/alert_mjd60674.0512_obj747_src1494043.avro.gz');
const BOOM_LSST = path.join(data, 'boom/alerts/lsst');

let work: string;
before(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'nightjar-sources-'));
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

async function entries(stream: AsyncIterable<Buffer>): Promise<TarEntry[]> {
  const out: TarEntry[] = [];
  for await (const e of readTarEntries(stream)) out.push({ ...e, data: Buffer.from(e.data) });
  return out;
}

/** A night folder of real alert files under `root`, returned as relative paths. */
async function makeNight(root: string, name: string, files: string[]): Promise<string[]> {
  await mkdir(path.join(root, name), { recursive: true });
  const members: string[] = [];
  for (const file of files) {
    await copyFile(file, path.join(root, name, path.basename(file)));
    members.push(`${name}/${path.basename(file)}`);
  }
  return members;
}

function tar(cwd: string, args: string[]): void {
  execFileSync('tar', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

test('GNU tar archives (gnu, pax, ustar; gzipped or not) are read entry by entry, bytes intact', async () => {
  const root = path.join(work, 'formats');
  const v9 = ['169298432598474793_169298432598474793.avro', '169298432603193361_169298432603193361.avro'].map((f) => path.join(RUBIN_V9, f));
  const members = await makeNight(root, 'NITE60924', [...v9, ELASTICC_GZ]);
  // A name longer than tar's 100-byte field: GNU stores it in a long-name entry, pax in a path record, ustar splits it into prefix/name.
  const deep = `NITE60924/${'deep-folder-name-'.repeat(5)}/alert_with_a_rather_long_file_name_for_tar_headers.avro`;
  await mkdir(path.join(root, path.dirname(deep)), { recursive: true });
  await copyFile(v9[0]!, path.join(root, deep));
  const expected = new Map<string, Buffer>();
  for (const m of [...members, deep]) expected.set(m, await readFile(path.join(root, m)));

  for (const format of ['gnu', 'pax', 'ustar']) {
    for (const gzip of [true, false]) {
      const archive = path.join(work, `night-${format}.tar${gzip ? '.gz' : ''}`);
      tar(root, [gzip ? '-czf' : '-cf', archive, `--format=${format}`, 'NITE60924']);
      const raw = createReadStream(archive);
      const read = await entries(gzip ? pipeline(raw, createGunzip(), () => {}) : raw);
      const files = read.filter((e) => e.type === 'file');
      assert.deepEqual(files.map((e) => e.name).sort(), [...expected.keys()].sort(), `${format} ${gzip ? 'gz' : 'plain'}: names`);
      for (const e of files) assert.ok(e.data.equals(expected.get(e.name)!), `${format}: ${e.name} bytes`);
      assert.ok(read.some((e) => e.type === 'directory' && e.name.replace(/\/$/, '') === 'NITE60924'));
      // readArchive tells gzip from plain tar by the bytes and keeps only alert files.
      const alerts: string[] = [];
      for await (const a of readArchive(archive)) alerts.push(a.name);
      assert.deepEqual(alerts.sort(), [...expected.keys()].map((m) => `${archive}:${m}`).sort());
    }
  }
});

test('damaged archives fail with a reason: checksum, truncation, corrupt gzip, not a tar', async () => {
  const root = path.join(work, 'damage');
  await makeNight(root, 'NITE1', [path.join(RUBIN_V9, '169298432598474793_169298432598474793.avro'), ELASTICC_GZ]);
  const plain = path.join(work, 'damage.tar');
  tar(root, ['-cf', plain, 'NITE1']);
  const good = await readFile(plain);
  const chunked = async function* (buf: Buffer): AsyncGenerator<Buffer> {
    for (let i = 0; i < buf.length; i += 7000) yield buf.subarray(i, i + 7000);
  };
  assert.equal((await entries(chunked(good))).filter((e) => e.type === 'file').length, 2, 'the intact archive, in odd-sized chunks');

  const flipped = Buffer.from(good);
  flipped[10] = (flipped[10] as number) ^ 0x20; // a byte of the first header's name
  await assert.rejects(entries(chunked(flipped)), (err: unknown) => err instanceof TarError && /checksum mismatch/.test(err.message) && err.offset === 0);

  await assert.rejects(entries(chunked(good.subarray(0, 100_000))), (err: unknown) => err instanceof TarError && /truncated/.test(err.message));
  await assert.rejects(entries(chunked(good.subarray(0, 512 * 3))), (err: unknown) => err instanceof TarError && /truncated/.test(err.message));
  await assert.rejects(entries(chunked(Buffer.alloc(0))), /empty archive/);
  await assert.rejects(entries(chunked(Buffer.from('this is not a tar archive at all'.repeat(40)))), (err: unknown) => err instanceof TarError);

  const gz = path.join(work, 'damage.tar.gz');
  const zipped = gzipSync(good);
  await writeFile(gz, zipped.subarray(0, Math.floor(zipped.length * 0.6)));
  await assert.rejects(async () => {
    for await (const _ of readArchive(gz)) void _;
  }, (err: unknown) => (err as NodeJS.ErrnoException).code === 'Z_BUF_ERROR' || /unexpected end/.test(String(err)));
});

test('a folder of alerts and night archives: corrupt ones reported by name and skipped, the rest in time order', async () => {
  const root = path.join(work, 'replay');
  const staging = path.join(work, 'staging');
  const v9 = ['169298432598474793_169298432598474793.avro', '169298432627310934_169298432627310934.avro', '169298433340342300_169298433340342300.avro'].map((f) => path.join(RUBIN_V9, f));
  const v74 = ['58804293150441522_58804293150441522.avro', '58804326637764660_58804326637764660.avro'].map((f) => path.join(RUBIN_V74, f));
  await makeNight(staging, 'NITE60924', v9);
  await makeNight(staging, 'NITE60776', v74);
  await mkdir(path.join(root, 'archives'), { recursive: true });
  tar(staging, ['-czf', path.join(root, 'archives', 'NITE60924.tar.gz'), 'NITE60924']);
  tar(staging, ['-czf', path.join(staging, 'NITE60776.tar.gz'), 'NITE60776']);
  const whole = await readFile(path.join(staging, 'NITE60776.tar.gz'));
  await writeFile(path.join(root, 'archives', 'NITE60776.tar.gz'), whole.subarray(0, Math.floor(whole.length * 0.6))); // truncated download
  await writeFile(path.join(root, 'archives', 'NITE0.tar.gz'), Buffer.concat([Buffer.from([0x1f, 0x8b]), Buffer.alloc(3000, 0x55)]));
  // Loose files: boom's Confluent-framed Rubin alerts (need the schema directory), one truncated alert, one unrelated file.
  await mkdir(path.join(root, 'loose'), { recursive: true });
  for (const f of ['25409136044802067.avro', '7912941781254298.avro']) await copyFile(path.join(BOOM_LSST, f), path.join(root, 'loose', f));
  const v9Bytes = await readFile(v9[1]!);
  await writeFile(path.join(root, 'loose', 'broken.avro'), v9Bytes.subarray(0, v9Bytes.length - 5000));
  await writeFile(path.join(root, 'loose', 'README.txt'), 'not an alert');

  const inputs = await listAlertInputs([root]);
  assert.deepEqual(inputs.map((i) => `${i.kind} ${path.relative(root, i.path)}`), [
    'archive archives/NITE0.tar.gz',
    'archive archives/NITE60776.tar.gz',
    'archive archives/NITE60924.tar.gz',
    'file loose/25409136044802067.avro',
    'file loose/7912941781254298.avro',
    'file loose/broken.avro',
  ]);

  const schemas = combinedSource([schemaDirectory(path.join(data, 'lsst-alert_packet/schema')), builtinSchemas()]);
  const preparer = createAlertPreparer({ topic: 't', encoding: 'container', partitions: 4, display: ['diaSource', 'diaSourceId'] });
  const reported: string[] = [];
  const loaded = await loadAlertInputs(inputs, { decode: { schemas }, preparer, onSkip: (s) => reported.push(`${path.relative(root, s.name)}: ${s.reason}`) });

  assert.equal(reported.length, 3, reported.join('\n'));
  assert.match(reported[0]!, /^archives\/NITE0\.tar\.gz: corrupt gzip data: .*; archive skipped$/);
  assert.match(reported[1]!, /^archives\/NITE60776\.tar\.gz: corrupt gzip data: unexpected end of file; archive skipped/);
  assert.match(reported[2]!, /^loose\/broken\.avro: cannot decode container data: /);
  assert.deepEqual(loaded.skipped.map((s) => path.relative(root, s.name)), ['archives/NITE0.tar.gz', 'archives/NITE60776.tar.gz', 'loose/broken.avro']);

  // What was sent: the intact archive's 3 alerts and the 2 boom alerts, in time order, ids exact.
  const expected = [];
  for (const f of v9) for (const d of await readAlertFile(f)) expected.push(toAlert(d.record, d.schema.name));
  for (const f of ['25409136044802067.avro', '7912941781254298.avro']) for (const d of await readAlertFile(path.join(BOOM_LSST, f), { schemas })) expected.push(toAlert(d.record, d.schema.name));
  expected.sort((a, b) => a.mjd - b.mjd || (a.sourceId < b.sourceId ? -1 : 1));
  assert.deepEqual(loaded.alerts.map((a) => a.sourceId), expected.map((a) => a.sourceId));
  assert.deepEqual(loaded.alerts.map((a) => a.display), expected.map((a) => String(a.sourceId)));
  assert.deepEqual(loaded.alerts.map((a) => a.objectId), expected.map((a) => String(a.objectId)));
  assert.ok(loaded.alerts.every((a) => a.message.key?.toString() === a.objectId && a.message.partition >= 0 && a.message.partition < 4));
  assert.ok(loaded.alerts.some((a) => a.sourceId > 2n ** 53n), 'ids beyond 2^53 among them');
});
