// Percentiles of measured samples (nearest rank, as latency figures are usually given).

/** The p-th percentile (0-100) of the samples by nearest rank; NaN for no samples. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  if (!(p >= 0 && p <= 100)) throw new Error(`percentile must be within 0-100, not ${p}`);
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] as number;
}

export function maximum(samples: readonly number[]): number {
  return samples.reduce((m, x) => (x > m ? x : m), Number.NEGATIVE_INFINITY);
}
