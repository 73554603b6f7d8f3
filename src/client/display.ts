// Text output of `nightjar consume`: the alert table (fink_consumer --display's columns) and
// the group's committed offsets and lag per partition (--statistics).
import type { TopicSnapshot } from '../stream/stats.ts';
import { utcText, type AlertSummary } from './alert-summary.ts';

const COLUMNS = [
  ['Emitted at (UTC)', 19],
  ['Received at (UTC)', 19],
  ['Topic', 24],
  ['objectId', 20],
  ['Band', 4],
  ['Magnitude', 9],
] as const;

const row = (cells: readonly string[]): string => `| ${cells.map((c, i) => c.padEnd(COLUMNS[i]?.[1] ?? 0)).join(' | ')} |`;

/** The table header (two lines). */
export function alertTableHeader(): string {
  return `${row(COLUMNS.map(([name]) => name))}\n${row(COLUMNS.map(([, width]) => '-'.repeat(width)))}`;
}

/** One table row for an alert received at `receivedAt`. */
export function alertTableRow(summary: AlertSummary, topic: string, receivedAt: Date): string {
  return row([
    summary.observedAt === null || Number.isNaN(summary.observedAt.getTime()) ? '-' : utcText(summary.observedAt),
    utcText(receivedAt),
    topic,
    summary.objectId ?? '-',
    summary.band ?? '-',
    summary.mag === null ? '-' : summary.mag.toFixed(2),
  ]);
}

/** Committed offset and lag per partition of each topic, then totals. */
export function statisticsText(groupId: string, snapshots: readonly TopicSnapshot[]): string {
  const lines = [`Group ${groupId}`, `${'Topic [Partition]'.padEnd(40)} ${'Committed'.padStart(12)} ${'End'.padStart(12)} ${'Lag'.padStart(12)}`];
  let totalLag = 0n;
  for (const s of snapshots) {
    let topicLag = 0n;
    for (const p of s.partitions) {
      const committed = p.committed ?? null;
      // A partition the group never committed on is read from its oldest retained message.
      const lag = p.end - (committed ?? p.start);
      topicLag += lag;
      lines.push(`${`${s.topic} [${p.partition}]`.padEnd(40)} ${(committed === null ? '-' : committed.toString()).padStart(12)} ${p.end.toString().padStart(12)} ${lag.toString().padStart(12)}`);
    }
    lines.push(`${`${s.topic} total`.padEnd(40)} ${''.padStart(12)} ${''.padStart(12)} ${topicLag.toString().padStart(12)}`);
    totalLag += topicLag;
  }
  lines.push(`Total lag: ${totalLag}`);
  return lines.join('\n') + '\n';
}
