// ICRS (J2000 equatorial) → IAU 1958 galactic coordinates by the standard rotation matrix.
// Its rows are the galactic x (towards the centre, l = 0), y (l = 90°) and z (north galactic
// pole) axes in equatorial coordinates: the pole at RA 192.85948°, Dec +27.12825° and the
// centre at RA 266.40499°, Dec −28.93617° (Hipparcos Vol. 1 §1.5.3). Frame differences between
// ICRS and FK5 J2000 (tens of milliarcseconds) are far below any use made of these angles.

const R = [
  [-0.0548755604162154, -0.873437090234885, -0.4838350155487132],
  [0.4941094278755837, -0.4448296299600112, 0.746982244497219],
  [-0.8676661490190047, -0.1980763734312015, 0.4559837761750669],
] as const;

const DEG = Math.PI / 180;

export interface Galactic {
  /** Galactic longitude l, degrees in [0, 360). */
  l: number;
  /** Galactic latitude b, degrees in [−90, +90]. */
  b: number;
}

/** Galactic (l, b) in degrees of an ICRS position in degrees. */
export function galacticFromEquatorial(raDeg: number, decDeg: number): Galactic {
  const ra = raDeg * DEG;
  const dec = decDeg * DEG;
  const cosDec = Math.cos(dec);
  const x = cosDec * Math.cos(ra);
  const y = cosDec * Math.sin(ra);
  const z = Math.sin(dec);
  const gx = R[0][0] * x + R[0][1] * y + R[0][2] * z;
  const gy = R[1][0] * x + R[1][1] * y + R[1][2] * z;
  const gz = R[2][0] * x + R[2][1] * y + R[2][2] * z;
  // Clamp: rounding can push |gz| a hair past 1 at the poles, and asin would give NaN.
  const b = Math.asin(Math.min(1, Math.max(-1, gz))) / DEG;
  let l = Math.atan2(gy, gx) / DEG;
  if (l < 0) l += 360;
  if (l >= 360) l -= 360;
  return { l, b };
}
