// Reliability scores: the survey's real/bogus classifier output per detection, 0 (bogus) to 1
// (real): Rubin `reliability`, ZTF `drb` (or the older `rb`).

/** A detection counts as reliable when its score is over this. */
export const RELIABLE_THRESHOLD = 0.5;

/**
 * Median of the first `n` values, which it reorders; null when n is 0. Selection rather than a
 * sort: linear time, and an alert can carry hundreds of scores.
 */
export function medianOf(values: Float64Array, n: number): number | null {
  if (n === 0) return null;
  const mid = n >> 1;
  const upper = select(values, n, mid);
  if (n % 2 === 1) return upper;
  // After selecting `mid`, everything before it is ≤ it: the lower middle is their maximum.
  let lower = values[0] as number;
  for (let i = 1; i < mid; i++) if ((values[i] as number) > lower) lower = values[i] as number;
  return (lower + upper) / 2;
}

/** The k-th smallest of values[0..n) (Hoare's quickselect, middle pivot), leaving smaller ones before index k. */
function select(values: Float64Array, n: number, k: number): number {
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const pivot = values[(lo + hi) >>> 1] as number;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while ((values[i] as number) < pivot) i++;
      while ((values[j] as number) > pivot) j--;
      if (i <= j) {
        const t = values[i] as number;
        values[i] = values[j] as number;
        values[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else break;
  }
  return values[k] as number;
}
