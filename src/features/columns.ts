// THE documentation of the `objects` table: every column's name, SQL type, unit and meaning, in
// table order. The feature code fills exactly these columns, the filter engine takes them as its
// catalog, and the web app and docs/columns.md render them with columnsMarkdown(); nothing else
// lists them.
import type { Catalog, ColumnType } from '../filters/catalog.ts';
import { BANDS, COLOUR_PAIRS } from './bands.ts';
import type { Band } from './bands.ts';
import { COLOUR_WINDOW_MINUTES } from './colours.ts';
import { RELIABLE_THRESHOLD } from './reliability.ts';
import { MIN_RATE_BASELINE_HOURS } from './rates.ts';

export interface ObjectColumn {
  name: string;
  type: ColumnType;
  /** Unit as astronomers write it (deg, nJy, mag, MJD, mag/day); null for counts, ids and text. */
  unit: string | null;
  doc: string;
}

/** Column names that depend on a band or a band pair. */
export const bandColumn = {
  nSources: (band: Band) => `nSources_${band}`,
  latestFlux: (band: Band) => `latestFlux_${band}`,
  latestMjd: (band: Band) => `latestMjd_${band}`,
  latestMag: (band: Band) => `latestMag_${band}`,
  meanFlux: (band: Band) => `meanFlux_${band}`,
  riseRate: (band: Band) => `riseRate_${band}`,
  fadeRate: (band: Band) => `fadeRate_${band}`,
  colour: (bluer: Band, redder: Band) => `${bluer}_${redder}`,
} as const;

/** Definitions that many column docs rely on; shown above the table. */
export const COLUMN_NOTES: readonly string[] = [
  'One row per object, computed from the newest alert of that object in each batch and replaced when a newer alert arrives. Counts, first times and rates cover only the history that alert carries: up to 12 months for Rubin, 30 days for ZTF.',
  'A detection is a source found in the difference image (Rubin diaSource, ZTF candidate), the triggering one included. Forced photometry and upper limits are not detections.',
  'Fluxes are difference-image PSF fluxes in nanojansky (nJy), signed: negative means fainter than the template.',
  'Magnitudes are AB magnitudes computed from those fluxes, m = 31.4 − 2.5·log10(flux / nJy), the same as the SQL function flux2mag(); they are null when the flux is not positive.',
  'Times are Modified Julian Dates in the survey\'s own scale: TAI at mid-exposure for Rubin and the DESC simulations, UTC at exposure start for ZTF and WINTER (the two differ by 37 s).',
  'Bands: u g r i z y. ZTF g, r, i and DECam g, r, i, z use the same columns as Rubin\'s bands of those names; detections in other bands count only in nSources.',
  'A night runs from local noon to local noon at the survey\'s observatory: night = floor(MJD − 0.5 + longitude/360), east longitude in degrees (Rubin −70.75, ZTF −116.86).',
  'Null means unknown or not applicable (no detection in that band, no reliability score, survey does not provide it); values are never NaN or infinite.',
];

const perBand = (make: (band: Band) => ObjectColumn): ObjectColumn[] => BANDS.map(make);

export const OBJECT_COLUMNS: readonly ObjectColumn[] = [
  // Identity
  { name: 'objectId', type: 'VARCHAR', unit: null, doc: 'The object\'s identifier as text: the Rubin or DESC diaObjectId in digits, a ZTF name such as ZTF26aamcbly, the ssObjectId for a solar-system alert, or the diaSourceId for a source not associated with any object. Unique together with survey and objectKind.' },
  { name: 'diaObjectId', type: 'BIGINT', unit: null, doc: 'Rubin (or DESC simulation) diaObjectId, a 64-bit integer. Null for surveys that name objects by strings (ZTF) and for solar-system or unassociated sources.' },
  { name: 'ssObjectId', type: 'BIGINT', unit: null, doc: 'Rubin solar-system object id when the detection was associated with a known moving object (objectKind = \'solarSystem\'), else null.' },
  { name: 'survey', type: 'VARCHAR', unit: null, doc: 'Survey or simulation the alert came from: lsst, ztf, elasticc, plasticc, decam, winter, rapid or askap.' },
  { name: 'objectKind', type: 'VARCHAR', unit: null, doc: 'What objectId names: \'object\' (a static-sky object), \'solarSystem\' (a known moving object) or \'source\' (no object: the triggering detection itself).' },

  // Position
  { name: 'ra', type: 'DOUBLE', unit: 'deg', doc: 'Right ascension (ICRS) of the object: the survey\'s mean position where the alert carries one (Rubin diaObject), else the position of the triggering detection.' },
  { name: 'decl', type: 'DOUBLE', unit: 'deg', doc: 'Declination (ICRS), same source as ra. Named decl, as in Lasair, because DEC is a reserved word in SQL.' },
  { name: 'glon', type: 'DOUBLE', unit: 'deg', doc: 'Galactic longitude l of (ra, decl), 0 to 360.' },
  { name: 'glat', type: 'DOUBLE', unit: 'deg', doc: 'Galactic latitude b of (ra, decl), −90 to +90; near 0 in the Galactic plane.' },

  // Time span
  { name: 'firstDiaSourceMjd', type: 'DOUBLE', unit: 'MJD', doc: 'Time of the first detection in the alert\'s history.' },
  { name: 'lastDiaSourceMjd', type: 'DOUBLE', unit: 'MJD', doc: 'Time of the latest detection (normally the one that triggered the alert).' },

  // Counts
  { name: 'nSources', type: 'INTEGER', unit: null, doc: 'Number of detections in the alert\'s history, all bands, the triggering one included.' },
  ...perBand((band) => ({ name: bandColumn.nSources(band), type: 'INTEGER', unit: null, doc: `Number of detections in band ${band}.` })),
  { name: 'nPositive', type: 'INTEGER', unit: null, doc: 'Number of detections with a positive difference flux (brighter than the template).' },
  { name: 'nNights', type: 'INTEGER', unit: null, doc: 'Number of distinct nights with at least one detection (nights run from local noon to local noon at the observatory).' },
  { name: 'nReliable', type: 'INTEGER', unit: null, doc: `Number of detections whose reliability score is over ${RELIABLE_THRESHOLD} (Rubin reliability, ZTF drb or rb).` },
  { name: 'nForced', type: 'INTEGER', unit: null, doc: 'Number of forced-photometry measurements in the alert (Rubin diaForcedSources, ZTF fp_hists).' },

  // Latest detection per band
  ...perBand((band) => ({ name: bandColumn.latestFlux(band), type: 'DOUBLE', unit: 'nJy', doc: `Difference flux of the latest detection in band ${band}, signed.` })),
  ...perBand((band) => ({ name: bandColumn.latestMjd(band), type: 'DOUBLE', unit: 'MJD', doc: `Time of the latest detection in band ${band}.` })),
  ...perBand((band) => ({ name: bandColumn.latestMag(band), type: 'DOUBLE', unit: 'mag', doc: `AB magnitude of latestFlux_${band}; null if that flux is not positive.` })),

  // Survey means
  ...perBand((band) => ({ name: bandColumn.meanFlux(band), type: 'DOUBLE', unit: 'nJy', doc: `Mean difference-image PSF flux in band ${band} as computed by the survey over all its detections of the object (Rubin diaObject ${band}_psfFluxMean); null where the survey does not provide it.` })),

  // Reliability
  { name: 'latestReliability', type: 'DOUBLE', unit: null, doc: 'Reliability score (0 to 1, the survey\'s real/bogus classifier: Rubin reliability, ZTF drb or rb) of the latest detection that has one.' },
  { name: 'medianReliability', type: 'DOUBLE', unit: null, doc: 'Median reliability score over all detections that have one.' },

  // Colours
  ...COLOUR_PAIRS.map(([bluer, redder]): ObjectColumn => ({
    name: bandColumn.colour(bluer, redder),
    type: 'DOUBLE',
    unit: 'mag',
    doc: `Colour ${bluer} − ${redder}: AB magnitude in ${bluer} minus AB magnitude in ${redder}, from the latest pair of positive-flux detections in the two bands taken at most ${COLOUR_WINDOW_MINUTES} minutes apart (the pair whose later detection is the most recent, then the closest pair); null if no such pair. Negative = bluer.`,
  })),

  // Rates
  ...perBand((band) => ({ name: bandColumn.riseRate(band), type: 'DOUBLE', unit: 'mag/day', doc: `How fast the object brightened in band ${band}: (mag of the first detection − mag of the peak) / days between them, over positive-flux detections in ${band}, the peak being the brightest of them. Zero or positive; larger = faster rise. Null if the peak is less than ${MIN_RATE_BASELINE_HOURS} hour after the first detection (including when the first detection is the peak).` })),
  ...perBand((band) => ({ name: bandColumn.fadeRate(band), type: 'DOUBLE', unit: 'mag/day', doc: `How fast the object has faded in band ${band} since its peak: (mag of the latest detection − mag of the peak) / days between them, over positive-flux detections in ${band}. Zero or positive; larger = faster decline. Null if the latest detection is less than ${MIN_RATE_BASELINE_HOURS} hour after the peak (including when the latest detection is the peak).` })),

  // The triggering detection of the latest alert
  { name: 'alertSourceId', type: 'BIGINT', unit: null, doc: 'Id of the detection that triggered the latest alert (Rubin diaSourceId, ZTF candid).' },
  { name: 'alertMjd', type: 'DOUBLE', unit: 'MJD', doc: 'Time of the triggering detection.' },
  { name: 'alertBand', type: 'VARCHAR', unit: null, doc: 'Band of the triggering detection as the survey names it (u g r i z y; ZTF g r i).' },
  { name: 'alertFlux', type: 'DOUBLE', unit: 'nJy', doc: 'Difference flux of the triggering detection, signed.' },
  { name: 'alertFluxErr', type: 'DOUBLE', unit: 'nJy', doc: 'Uncertainty (1 sigma) of alertFlux.' },
  { name: 'alertMag', type: 'DOUBLE', unit: 'mag', doc: 'AB magnitude of alertFlux; null if that flux is not positive.' },
  { name: 'alertSnr', type: 'DOUBLE', unit: null, doc: 'Signal-to-noise ratio of the triggering detection: the survey\'s value where given, else |alertFlux| / alertFluxErr.' },
];

/** The filter catalog: one table, `objects`, with these columns. */
export function catalog(): Catalog {
  return {
    tables: [{
      name: 'objects',
      columns: OBJECT_COLUMNS.map((c) => (c.unit === null ? { name: c.name, type: c.type, doc: c.doc } : { name: c.name, type: c.type, unit: c.unit, doc: c.doc })),
    }],
  };
}

function cell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ');
}

/** The column documentation as Markdown: notes, then one table row per column. docs/columns.md is this text. */
export function columnsMarkdown(): string {
  const lines = [
    '# The `objects` table',
    '',
    'Filters select from this table (SQL over one row per object). Generated from `src/features/columns.ts`; do not edit by hand.',
    '',
    ...COLUMN_NOTES.map((note) => `- ${note}`),
    '',
    '| Column | Type | Unit | Meaning |',
    '|---|---|---|---|',
    ...OBJECT_COLUMNS.map((c) => `| \`${c.name}\` | ${c.type} | ${c.unit === null ? '' : cell(c.unit)} | ${cell(c.doc)} |`),
  ];
  return `${lines.join('\n')}\n`;
}
