// The progress display of `consume` and `export` (src/util/progress-bar.ts): the line as a pure
// function of the counts, the bar's drawing and erasing, and `nightjar export` drawing it on a
// terminal (a pseudo-terminal from util-linux `script`) but never when stderr is piped, nor with
// --no-progress. (`consume` piped is checked in client-streams.test.ts.)
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { readAlertFile } from '../src/formats/files.ts';
import { encodeMessage } from '../src/formats/message.ts';
import { repoRoot } from '../src/kafka/local-config.ts';
import { createProgressBar, formatElapsed, progressLine } from '../src/util/progress-bar.ts';

const exec = promisify(execFile);
const RUBIN = path.resolve(repoRoot, '../shared/data/fink-client/datatest/lsst/part-2-918301.avro');

describe('progressLine', () => {
  it('shows a bar, percentage, counts, rate and elapsed time when the total is known', () => {
    const line = progressLine({ done: 10_400, total: 20_000, elapsedMs: 4000, unit: 'alerts', columns: 100 });
    assert.equal(line, `[${'#'.repeat(21)}${'.'.repeat(19)}]  52%  10,400/20,000 alerts  2,600/s  0:04`);
  });

  it('shows counts, rate and elapsed time only when the total is unknown', () => {
    assert.equal(progressLine({ done: 1234, total: undefined, elapsedMs: 61_500, unit: 'alerts' }), '1,234 alerts  20/s  1:01');
  });

  it('is full at the total, never beyond it, and a total of 0 is complete', () => {
    assert.match(progressLine({ done: 7, total: 5, elapsedMs: 1000, unit: 'files' }), /^\[#+\] 100% {2}7\/5 files {2}7\/s {2}0:01$/);
    assert.match(progressLine({ done: 0, total: 0, elapsedMs: 0, unit: 'files' }), /^\[#+\] 100% {2}0\/0 files {2}0\/s {2}0:00$/);
  });

  it('fits a narrow terminal without wrapping', () => {
    for (const columns of [20, 40, 60]) {
      const line = progressLine({ done: 123_456, total: 1_000_000, elapsedMs: 3_723_000, unit: 'alerts', columns });
      assert.ok(line.length < columns, `${line.length} >= ${columns}: ${line}`);
      assert.ok(line.startsWith('['));
    }
    assert.match(progressLine({ done: 5, total: 10, elapsedMs: 3_723_000, unit: 'alerts', columns: 200 }), / 1:02:03$/);
  });

  it('formats elapsed time as m:ss or h:mm:ss', () => {
    assert.deepEqual([0, 999, 59_999, 60_000, 3_599_000, 3_600_000, 36_061_000].map(formatElapsed), ['0:00', '0:00', '0:59', '1:00', '59:59', '1:00:00', '10:01:01']);
  });
});

describe('createProgressBar', () => {
  it('draws with a carriage return, at most ten times a second, the last count always, and erases at the end', () => {
    const written: string[] = [];
    const bar = createProgressBar(3, { write: (t) => written.push(t), columns: 80 }, 'files');
    bar.advance(1); // first draw
    bar.advance(1); // within 100 ms: skipped
    bar.advance(1); // the total: drawn at once
    bar.done();
    assert.equal(written.length, 3, JSON.stringify(written));
    assert.match(written[0] ?? '', /^\r\[#+\.+\] {2}33% {2}1\/3 files /);
    assert.match(written[1] ?? '', /^\r\[#+\] 100% {2}3\/3 files /);
    assert.equal(written[2], '\r\x1b[2K');
    bar.done();
    assert.equal(written.length, 3, 'nothing to erase twice');
  });

  it('clear() erases only a drawn bar', () => {
    const written: string[] = [];
    const bar = createProgressBar(undefined, { write: (t) => written.push(t) });
    bar.clear();
    assert.equal(written.length, 0);
    bar.advance(5);
    bar.clear();
    assert.deepEqual(written.slice(1), ['\r\x1b[2K']);
    assert.match(written[0] ?? '', /^\r5 alerts {2}\d[\d,]*\/s {2}0:00$/);
  });
});

describe('nightjar export progress', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'nightjar-progress-'));
    await mkdir(path.join(dir, 'saved'));
    for (const d of await readAlertFile(RUBIN)) {
      const id = (d.record.diaSource as { diaSourceId: bigint }).diaSourceId;
      await writeFile(path.join(dir, 'saved', `${id}.avro`), encodeMessage(d.record, { encoding: 'container', schema: d.schema }).value);
    }
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const exportArgs = (out: string): string[] => [path.join(repoRoot, 'nightjar'), 'export', path.join(dir, 'saved'), '--format', 'jsonl', '--out', path.join(dir, out)];
  /** Runs a command under a pseudo-terminal (util-linux script); returns what the terminal showed. */
  const onTerminal = async (args: string[]): Promise<string> => {
    const command = args.map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
    const { stdout } = await exec('script', ['-qec', command, '/dev/null'], { cwd: repoRoot, env: { ...process.env, COLUMNS: '100' } });
    return stdout;
  };

  it('draws the bar on a terminal and erases it', async () => {
    const shown = await onTerminal(exportArgs('tty.jsonl'));
    assert.match(shown, /\r\[#+\] 100% {2}7\/7 files {2}[\d,]+\/s {2}0:\d\d/);
    assert.ok(shown.includes('\r\x1b[2K'), 'the bar is erased');
    assert.match(shown, /wrote 7 alerts/);
  });

  it('draws nothing with --no-progress, nor when stderr is piped', async () => {
    const off = await onTerminal([...exportArgs('off.jsonl'), '--no-progress']);
    assert.match(off, /wrote 7 alerts/);
    assert.ok(!off.includes('\r[') && !off.includes('\x1b[2K'), JSON.stringify(off));
    const piped = await exec(exportArgs('piped.jsonl')[0] as string, exportArgs('piped.jsonl').slice(1));
    assert.equal(piped.stderr.trim(), `wrote 7 alerts x ${/x (\d+) columns/.exec(piped.stderr)?.[1]} columns from 7 files to ${path.join(dir, 'piped.jsonl')}`);
    assert.ok(!piped.stderr.includes('\r') && !piped.stderr.includes('\x1b'));
  });
});
