// The counters of a filter-stream run and the one-line summaries printed on stderr.

export interface FilterStreamCounts {
  /** Messages read from the input and accounted for (judged, or counted as errors). */
  consumed: number;
  /** Messages with at least one alert that satisfies the condition. */
  matched: number;
  /** Matching messages produced to the output (acknowledged). */
  produced: number;
  /** Matching messages not produced because of --max-per-batch. */
  capped: number;
  /** Messages that are not alerts or cannot be decoded. */
  errors: number;
  /** Of those, the ones produced to the dead-letter topic. */
  deadLettered: number;
  batches: number;
}

export function emptyCounts(): FilterStreamCounts {
  return { consumed: 0, matched: 0, produced: 0, capped: 0, errors: 0, deadLettered: 0, batches: 0 };
}

/**
 * `consumed 20043, matched 8166, produced 8166, errors 3, 5120 msg/s`: the rate is over the
 * given interval (messages consumed in it / its length).
 */
export function summaryLine(counts: Readonly<FilterStreamCounts>, rate: { messages: number; ms: number }): string {
  const parts = [`consumed ${counts.consumed}`, `matched ${counts.matched}`, `produced ${counts.produced}`];
  if (counts.capped > 0) parts.push(`capped ${counts.capped}`);
  parts.push(`errors ${counts.errors}`);
  if (counts.deadLettered > 0) parts.push(`dead-lettered ${counts.deadLettered}`);
  const perSecond = rate.ms > 0 ? (rate.messages * 1000) / rate.ms : 0;
  parts.push(`${perSecond >= 100 ? Math.round(perSecond) : perSecond.toFixed(1)} msg/s`);
  return parts.join(', ');
}
