// Seedable pseudo-random numbers for the simulators: xoshiro128** (fast, 128-bit state, good
// statistical quality), seeded through a splitmix32-style hash so that nearby seeds and stream
// numbers give unrelated sequences. Not for cryptography.

export interface Rng {
  /** Uniform in (0, 1); never exactly 0, so log(u) is always finite. */
  uniform(): number;
  /** Uniform in [lo, hi). */
  range(lo: number, hi: number): number;
  /** Integer in [0, n). */
  int(n: number): number;
  /** Standard normal deviate (Box-Muller; the second value of each pair is kept for the next call). */
  normal(): number;
  /** True with probability p. */
  chance(p: number): boolean;
  /** Index drawn with probability proportional to weights[i]. */
  pick(weights: readonly number[]): number;
}

/** One round of a splitmix32-like finaliser: a bijective scramble of 32 bits. */
function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x21f0aaad);
  x = Math.imul(x ^ (x >>> 15), 0x735a2d97);
  return (x ^ (x >>> 15)) >>> 0;
}

/**
 * A generator for (seed, stream). Different streams of one seed are independent, which lets
 * one part of a simulation (e.g. cutout pixels) draw numbers without shifting another's.
 */
export function createRng(seed: number, stream = 0): Rng {
  if (!Number.isSafeInteger(seed)) throw new Error(`rng seed must be a safe integer, got ${seed}`);
  const lo = seed >>> 0;
  const hi = Math.floor(seed / 0x1_0000_0000) >>> 0;
  let h = mix32(lo ^ 0x9e3779b9);
  h = mix32(h ^ hi ^ 0x85ebca6b);
  h = mix32(h ^ Math.imul(stream >>> 0, 0x9e3779b1));
  const next = (): number => (h = mix32((h + 0x9e3779b9) >>> 0));
  let s0 = next(), s1 = next(), s2 = next(), s3 = next();
  if ((s0 | s1 | s2 | s3) === 0) s0 = 1; // the all-zero state is a fixed point

  const nextU32 = (): number => {
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = rotl(s3, 11);
    return result;
  };
  const uniform = (): number => (nextU32() + 0.5) / 0x1_0000_0000;
  let spare = NaN;

  return {
    uniform,
    range: (lo2, hi2) => lo2 + (hi2 - lo2) * uniform(),
    int: (n) => Math.floor(uniform() * n),
    normal: () => {
      if (!Number.isNaN(spare)) {
        const z = spare;
        spare = NaN;
        return z;
      }
      const r = Math.sqrt(-2 * Math.log(uniform()));
      const theta = 2 * Math.PI * uniform();
      spare = r * Math.sin(theta);
      return r * Math.cos(theta);
    },
    chance: (p) => uniform() < p,
    pick: (weights) => {
      let total = 0;
      for (const w of weights) total += w;
      let u = uniform() * total;
      for (let i = 0; i < weights.length; i++) {
        u -= weights[i] ?? 0;
        if (u < 0) return i;
      }
      return weights.length - 1;
    },
  };
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
