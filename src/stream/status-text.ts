// How `nightjar monitor` shows a snapshot: a few text lines with a per-partition table (for a
// terminal or a log), or one JSON object (for programs). Pure functions.
import { lag, retained, totals, type Rates, type TopicSnapshot } from './stats.ts';

/** 1234567 → "1.2 MB" (decimal units, as network rates are usually given). */
export function formatBytes(n: number | bigint): string {
  const v = Number(n);
  if (Math.abs(v) < 1000) return `${v} B`;
  const units = ['kB', 'MB', 'GB', 'TB', 'PB'];
  let scaled = v;
  let unit = 'B';
  for (const u of units) {
    if (Math.abs(scaled) < 1000) break;
    scaled /= 1000;
    unit = u;
  }
  return `${scaled.toFixed(1)} ${unit}`;
}

const rate = (v: number | null | undefined, unit: string): string => (v === null || v === undefined ? `- ${unit}` : `${v.toFixed(1)} ${unit}`);
const text = (v: bigint | null | undefined): string => (v === null || v === undefined ? '-' : v.toString());

/** Right-aligns the columns of a table (first row = header). */
function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => cell.padStart(widths[c]!)).join('  '));
}

/**
 * The status as text lines: a title, the topic totals and rates, the group line (with a group),
 * then one table row per partition. `rates` is null for a first snapshot.
 */
export function statusLines(s: TopicSnapshot, r: Rates | null, bootstrap: string): string[] {
  const t = totals(s);
  const when = new Date(s.time).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
  const over = r === null ? '' : ` (rates over ${r.seconds.toFixed(1)} s)`;
  const lines = [`topic ${s.topic} on ${bootstrap} at ${when}${over}`];
  const size = t.logBytes === null ? 'log size -' : `log ${formatBytes(t.logBytes)}`;
  const byteRate = r === null ? '- B/s' : r.bytesPerSecond === null ? '- B/s' : `${formatBytes(Math.round(r.bytesPerSecond))}/s`;
  lines.push(`messages ${t.messages} in ${t.partitions} partition${t.partitions === 1 ? '' : 's'} (${t.written} written)   in ${rate(r?.messagesPerSecond, 'msg/s')}   ${size}   ${byteRate}`);
  if (s.group !== undefined) {
    const g = s.group;
    const state = g.state === undefined ? '' : ` (${g.state}${g.members === undefined ? '' : `, ${g.members} member${g.members === 1 ? '' : 's'}`})`;
    const none = t.uncommittedPartitions > 0 ? `   no commit on ${t.uncommittedPartitions} partition${t.uncommittedPartitions === 1 ? '' : 's'}` : '';
    lines.push(`group ${g.id}${state}   committed ${text(t.committed)}   lag ${text(t.lag)}   reading ${rate(r?.committedPerSecond, 'msg/s')}${none}`);
  }
  const header = ['partition', 'start', 'end', 'messages', 'log size'];
  if (s.group !== undefined) header.push('committed', 'lag');
  const rows = [header];
  for (const p of s.partitions) {
    const row = [String(p.partition), p.start.toString(), p.end.toString(), retained(p).toString(), p.logBytes === null ? '-' : formatBytes(p.logBytes)];
    if (s.group !== undefined) row.push(text(p.committed), text(lag(p)));
    rows.push(row);
  }
  lines.push(...table(rows));
  if (s.bytesProblem !== undefined) lines.push(s.bytesProblem);
  return lines;
}

/** The status as one JSON-ready object (serialise with util/json.ts: offsets are BigInt). */
export function statusObject(s: TopicSnapshot, r: Rates | null): Record<string, unknown> {
  const t = totals(s);
  const out: Record<string, unknown> = {
    time: new Date(s.time).toISOString(),
    topic: s.topic,
    partitions: t.partitions,
    messages: t.messages,
    written: t.written,
    logBytes: t.logBytes,
    seconds: r?.seconds ?? null,
    messagesPerSecond: r?.messagesPerSecond ?? null,
    bytesPerSecond: r?.bytesPerSecond ?? null,
  };
  if (s.group !== undefined) {
    out.group = { ...s.group, committed: t.committed, lag: t.lag, uncommittedPartitions: t.uncommittedPartitions, committedPerSecond: r?.committedPerSecond ?? null };
  }
  out.partitionStatus = s.partitions.map((p) => ({
    partition: p.partition,
    start: p.start,
    end: p.end,
    messages: retained(p),
    logBytes: p.logBytes,
    ...(s.group === undefined ? {} : { committed: p.committed ?? null, lag: lag(p) }),
  }));
  if (s.bytesProblem !== undefined) out.bytesProblem = s.bytesProblem;
  return out;
}
