// `nightjar decode` as a user runs it: JSON on stdout with exact ids and cutouts summarised by
// size; a corrupt file gives one clear line on stderr and a failing exit code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '../src/kafka/local-config.ts';

const data = path.resolve(repoRoot, '../shared/data');
const nightjar = path.join(repoRoot, 'nightjar');
const run = (args: string[]): Promise<{ stdout: string; stderr: string; code: number }> =>
  promisify(execFile)(nightjar, args, { maxBuffer: 64 * 1024 * 1024 }).then(
    (r) => ({ ...r, code: 0 }),
    (err: { stdout: string; stderr: string; code: number }) => ({ stdout: err.stdout, stderr: err.stderr, code: err.code }),
  );

test('decode prints a Rubin wire-format alert with exact ids and cutout sizes', async () => {
  const file = path.join(data, 'boom/alerts/lsst/3527242430321524769.avro');
  const { stdout, code } = await run(['decode', file, '--schema-dir', path.join(data, 'lsst-alert_packet/schema')]);
  assert.equal(code, 0);
  assert.match(stdout, /"diaSourceId": 3527242430321524769\b/, 'a 64-bit id printed as bare digits');
  assert.match(stdout, /"encoding": "confluent"/);
  assert.match(stdout, /"schemaId": 703/);
  assert.match(stdout, /"cutoutDifference": \{\s*"\$bytes": \d+\s*\}/);
  assert.ok(stdout.length < 100_000, 'cutout bytes are not dumped');
});

test('decode --alert prints the normalised alert of a ZTF container file', async () => {
  const file = path.join(data, 'boom/alerts/ztf/2695378462115010012.avro');
  const { stdout, code } = await run(['decode', '--alert', '--compact', file]);
  assert.equal(code, 0);
  const line = JSON.parse(stdout) as { alert: { survey: string; objectId: string; band: string } };
  assert.equal(line.alert.survey, 'ztf');
  assert.equal(line.alert.objectId, 'ZTF18abudxnw');
  assert.match(stdout, /"sourceId":2695378462115010012\b/);
});

test('a corrupt file gives one clear line naming the encoding, the byte offset and the schema', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'nightjar-decode-'));
  const original = readFileSync(path.join(data, 'ztf-avro-alert/data/1661382530015060001.avro'));
  const truncated = path.join(dir, 'truncated.avro');
  writeFileSync(truncated, original.subarray(0, Math.floor(original.length * 0.6)));
  const { stdout, stderr, code } = await run(['decode', truncated]);
  assert.notEqual(code, 0);
  assert.equal(stdout, '');
  const lines = stderr.trim().split('\n');
  assert.equal(lines.length, 1, stderr);
  assert.match(lines[0]!, /cannot decode container message from .*truncated\.avro: .* \(at byte \d+.*; schema ztf\.alert\)/);
});

test('a wire-format file without its schema says what to give', async () => {
  const { stderr, code } = await run(['decode', path.join(data, 'boom/alerts/lsst/7912941781254298.avro')]);
  assert.notEqual(code, 0);
  assert.match(stderr, /schema id 900 .*give --registry or --schema-dir/);
});
