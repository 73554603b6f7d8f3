// The photometric bands that get their own columns, and the colours formed from them.
// Rubin's u g r i z y; ZTF's g r i and DECam's g r i z fall on the same columns (close enough
// for filtering, not for photometric comparison across surveys). Other bands (WINTER's Y J H K,
// radio frequencies) count in the totals only.

export const BANDS = ['u', 'g', 'r', 'i', 'z', 'y'] as const;

export type Band = (typeof BANDS)[number];

/** Index of a band name in BANDS, or −1 for a band without columns. Names are case-sensitive. */
export function bandIndex(band: string): number {
  switch (band) {
    case 'u': return 0;
    case 'g': return 1;
    case 'r': return 2;
    case 'i': return 3;
    case 'z': return 4;
    case 'y': return 5;
    default: return -1;
  }
}

/** Colours of neighbouring bands, bluer band first: the column `g_r` is mag_g − mag_r. */
export const COLOUR_PAIRS: readonly (readonly [Band, Band])[] = [
  ['u', 'g'],
  ['g', 'r'],
  ['r', 'i'],
  ['i', 'z'],
  ['z', 'y'],
];
