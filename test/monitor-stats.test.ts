// The monitor's numbers from snapshots: totals, lag, rates (with retention and new partitions)
// and how they are shown as text and JSON.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lag, rates, retained, totals, type PartitionStatus, type TopicSnapshot } from '../src/stream/stats.ts';
import { formatBytes, statusLines, statusObject } from '../src/stream/status-text.ts';
import { parse, stringify } from '../src/util/json.ts';

const BIG = 2n ** 60n; // offsets are 64-bit: nothing may pass through a JS number on the way

function snap(time: number, parts: [start: bigint, end: bigint, bytes: bigint | null, committed?: bigint | null][], group?: string): TopicSnapshot {
  const partitions: PartitionStatus[] = parts.map(([start, end, logBytes, committed], partition) =>
    group === undefined ? { partition, start, end, logBytes } : { partition, start, end, logBytes, committed: committed ?? null });
  return { topic: 't', time, partitions, ...(group === undefined ? {} : { group: { id: group, state: 'Stable', members: 1 } }) };
}

test('retained messages and lag per partition: lag counts from the start once retention passed the commit', () => {
  const p = (start: bigint, end: bigint, committed?: bigint | null): PartitionStatus => ({ partition: 0, start, end, logBytes: null, ...(committed === undefined ? {} : { committed }) });
  assert.equal(retained(p(10n, 25n)), 15n);
  assert.equal(lag(p(0n, 100n, 40n)), 60n);
  assert.equal(lag(p(50n, 100n, 40n)), 50n, 'committed offset deleted by retention');
  assert.equal(lag(p(0n, 100n, 100n)), 0n);
  assert.equal(lag(p(0n, 100n, 120n)), 0n, 'a commit past the end (topic recreated) is no negative lag');
  assert.equal(lag(p(0n, 100n, null)), null, 'no commit on the partition');
  assert.equal(lag(p(0n, 100n)), null, 'no group');
  assert.equal(lag(p(BIG, BIG + 7n, BIG + 2n)), 5n);
});

test('totals sum partitions exactly; unknown sizes and uncommitted partitions are said so', () => {
  const t = totals(snap(0, [[0n, 6478n, 100n, 997n], [0n, 6755n, 200n, null], [BIG, BIG + 3n, 300n, BIG]], 'g'));
  assert.deepEqual(t, { partitions: 3, messages: 6478n + 6755n + 3n, written: 6478n + 6755n + BIG + 3n, logBytes: 600n, committed: 997n + BIG, lag: 5481n + 3n, uncommittedPartitions: 1 });
  const noGroup = totals(snap(0, [[0n, 5n, null], [0n, 7n, 10n]]));
  assert.equal(noGroup.logBytes, null);
  assert.equal(noGroup.committed, null);
  assert.equal(noGroup.lag, null);
  assert.equal(noGroup.uncommittedPartitions, 0);
});

test('rates: end-offset and log-size growth per second; committed growth where both snapshots have commits', () => {
  const a = snap(1_000, [[0n, 100n, 1_000n, 10n], [0n, 50n, 500n, null]], 'g');
  const b = snap(3_000, [[0n, 300n, 5_000n, 30n], [0n, 90n, 900n, 40n]], 'g');
  const r = rates(a, b);
  assert.deepEqual(r, { seconds: 2, messagesPerSecond: (200 + 40) / 2, bytesPerSecond: (4_000 + 400) / 2, committedPerSecond: 20 / 2 });
  assert.equal(rates(a, a), null, 'no time between the snapshots');
  assert.equal(rates(b, a), null, 'snapshots in the wrong order');
});

test('rates: a shrinking log (retention deleted a segment) gives no byte rate; a new partition counts from zero', () => {
  const a = snap(0, [[0n, 100n, 1_000n]]);
  const shrunk = snap(1_000, [[60n, 150n, 400n]]);
  const r = rates(a, shrunk)!;
  assert.equal(r.messagesPerSecond, 50);
  assert.equal(r.bytesPerSecond, null);
  assert.equal(r.committedPerSecond, null, 'no group');
  const grown = snap(2_000, [[0n, 110n, 1_100n], [0n, 30n, 300n]]);
  assert.deepEqual(rates(a, grown), { seconds: 2, messagesPerSecond: 20, bytesPerSecond: 200, committedPerSecond: null });
  const unknownSize = snap(1_000, [[0n, 110n, null]]);
  assert.equal(rates(a, unknownSize)!.bytesPerSecond, null);
});

test('text status: totals, rates, group line and an aligned partition table', () => {
  const a = snap(Date.UTC(2026, 2, 1, 12, 0, 0), [[0n, 6000n, 9_000_000n, 997n], [0n, 6755n, 10_544_011n, null]], 'g1');
  const b = snap(Date.UTC(2026, 2, 1, 12, 0, 2), [[0n, 6478n, 10_050_786n, 1497n], [0n, 6755n, 10_544_011n, null]], 'g1');
  const lines = statusLines(b, rates(a, b), '127.0.0.1:19092');
  assert.equal(lines[0], 'topic t on 127.0.0.1:19092 at 2026-03-01 12:00:02 UTC (rates over 2.0 s)');
  assert.equal(lines[1], 'messages 13233 in 2 partitions (13233 written)   in 239.0 msg/s   log 20.6 MB   525.4 kB/s');
  assert.equal(lines[2], 'group g1 (Stable, 1 member)   committed 1497   lag 4981   reading 250.0 msg/s   no commit on 1 partition');
  assert.deepEqual(lines.slice(3), [
    'partition  start   end  messages  log size  committed   lag',
    '        0      0  6478      6478   10.1 MB       1497  4981',
    '        1      0  6755      6755   10.5 MB          -     -',
  ]);
  const first = statusLines(snap(0, [[0n, 1n, null]]), null, 'h:1');
  assert.equal(first[1], 'messages 1 in 1 partition (1 written)   in - msg/s   log size -   - B/s');
  assert.deepEqual(first.slice(2), ['partition  start  end  messages  log size', '        0      0    1         1         -']);
});

test('JSON status keeps 64-bit offsets exact', () => {
  const a = snap(0, [[BIG, BIG + 10n, 1_000n, BIG + 1n]], 'g');
  const b = snap(500, [[BIG, BIG + 20n, 2_000n, BIG + 4n]], 'g');
  const text = stringify(statusObject(b, rates(a, b)));
  assert.ok(text.includes(`"end":${BIG + 20n}`), text);
  const obj = parse(text) as { messages: bigint | number; written: bigint; messagesPerSecond: number; bytesPerSecond: number; group: { committed: bigint; lag: number; committedPerSecond: number }; partitionStatus: { lag: number }[] };
  assert.equal(obj.written, BIG + 20n);
  assert.equal(obj.messages, 20);
  assert.equal(obj.messagesPerSecond, 20);
  assert.equal(obj.bytesPerSecond, 2_000);
  assert.equal(obj.group.committed, BIG + 4n);
  assert.equal(obj.group.lag, 16);
  assert.equal(obj.group.committedPerSecond, 6);
  assert.equal(obj.partitionStatus[0]!.lag, 16);
});

test('byte sizes in decimal units', () => {
  assert.equal(formatBytes(0), '0 B');
  assert.equal(formatBytes(999), '999 B');
  assert.equal(formatBytes(1_000), '1.0 kB');
  assert.equal(formatBytes(31_156_879n), '31.2 MB');
  assert.equal(formatBytes(2_500_000_000), '2.5 GB');
});
