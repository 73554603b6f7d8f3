// Nightjar's own copy of the Rubin alert layout lsst.v10_0, written as code so that the demo,
// the synthetic generator and tests work without ../shared. Field order and types follow the
// upstream alert_packet v10.0 schema exactly (test/lsst-schema.test.ts proves the Parsing
// Canonical Form is identical); the docs are left out, the null defaults are kept.
import { parseSchema } from './avro-schema.ts';
import type { ParsedSchema } from './avro-schema.ts';

/** Confluent schema-registry id Rubin uses for v10.0 (major*100 + minor). */
export const LSST_SCHEMA_ID = 1000;
export const LSST_NAMESPACE = 'lsst.v10_0';
export const LSST_ALERT_NAME = `${LSST_NAMESPACE}.alert`;

/** Rubin's filter bands, in the order the per-band diaObject fields use. */
export const LSST_BANDS = ['u', 'g', 'r', 'i', 'z', 'y'] as const;
export type LsstBand = (typeof LSST_BANDS)[number];

export type LsstRecordName = 'alert' | 'diaSource' | 'diaObject' | 'diaForcedSource' | 'ssSource' | 'mpc_orbits';
const RECORD_NAMES: readonly LsstRecordName[] = ['alert', 'diaSource', 'diaObject', 'diaForcedSource', 'ssSource', 'mpc_orbits'];

type Primitive = 'long' | 'int' | 'float' | 'double' | 'boolean' | 'string' | 'bytes';
const PRIMITIVES: readonly string[] = ['long', 'int', 'float', 'double', 'boolean', 'string', 'bytes'];

/**
 * One field. `type` is an Avro primitive, `timestamp-micros` (a long with that logical type),
 * another record of this schema, or an array of one (`items`). Nullable fields are
 * `["null", type]` unions with default null, as everywhere in the Rubin schemas.
 */
export interface LsstField {
  readonly name: string;
  readonly type: Primitive | 'timestamp-micros' | LsstRecordName;
  readonly array: boolean;
  readonly nullable: boolean;
}

/**
 * Field specs are written `name:type`, `name:type?` (nullable) or `name:record[]` (array);
 * whitespace separates them. Compact enough to read the whole layout on one screen.
 */
function fields(spec: string): LsstField[] {
  return spec.trim().split(/\s+/).map((item) => {
    const match = /^(\w+):([\w-]+)(\[\])?(\?)?$/.exec(item);
    if (!match) throw new Error(`lsst schema: bad field spec "${item}"`);
    const [, name = '', type = '', array, nullable] = match;
    const known = PRIMITIVES.includes(type) || type === 'timestamp-micros' || (RECORD_NAMES as readonly string[]).includes(type);
    if (!known) throw new Error(`lsst schema: unknown type "${type}" in field spec "${item}"`);
    return { name, type: type as LsstField['type'], array: array !== undefined, nullable: nullable !== undefined };
  });
}

/** Expands per-band field specs (`psfFluxMean:float?` → `u_psfFluxMean:float? g_… y_…`), band-major. */
function perBand(spec: string): string {
  const items = spec.trim().split(/\s+/);
  return LSST_BANDS.map((band) => items.map((item) => `${band}_${item}`).join(' ')).join(' ');
}

const ALERT = fields(`
  diaSourceId:long observation_reason:string? target_name:string? diaSource:diaSource
  prvDiaSources:diaSource[]? prvDiaForcedSources:diaForcedSource[]? diaObject:diaObject? ssSource:ssSource?
  mpc_orbits:mpc_orbits? cutoutDifference:bytes? cutoutScience:bytes? cutoutTemplate:bytes?`);

const DIA_SOURCE = fields(`
  diaSourceId:long visit:long detector:int diaObjectId:long? ssObjectId:long? parentDiaSourceId:long?
  midpointMjdTai:double ra:double raErr:float? dec:double decErr:float? ra_dec_Cov:float? x:float xErr:float?
  y:float yErr:float? centroid_flag:boolean? apFlux:float? apFluxErr:float? apFlux_flag:boolean?
  apFlux_flag_apertureTruncated:boolean? isNegative:boolean? snr:float? psfFlux:float? psfFluxErr:float?
  psfLnL:float? psfChi2:float? psfNdata:int? psfFlux_flag:boolean? psfFlux_flag_edge:boolean?
  psfFlux_flag_noGoodPixels:boolean? trailFlux:float? trailFluxErr:float? trailRa:double? trailRaErr:float?
  trailDec:double? trailDecErr:float? trailLength:float? trailLengthErr:float? trailAngle:float?
  trailAngleErr:float? trailChi2:float? trailNdata:int? trail_flag_edge:boolean? dipoleMeanFlux:float?
  dipoleMeanFluxErr:float? dipoleFluxDiff:float? dipoleFluxDiffErr:float? dipoleLength:float?
  dipoleAngle:float? dipoleChi2:float? dipoleNdata:int? scienceFlux:float? scienceFluxErr:float?
  forced_PsfFlux_flag:boolean? forced_PsfFlux_flag_edge:boolean? forced_PsfFlux_flag_noGoodPixels:boolean?
  templateFlux:float? templateFluxErr:float? ixx:float? iyy:float? ixy:float? ixxPSF:float? iyyPSF:float?
  ixyPSF:float? shape_flag:boolean? shape_flag_no_pixels:boolean? shape_flag_not_contained:boolean?
  shape_flag_parent_source:boolean? extendedness:float? reliability:float? band:string? isDipole:boolean?
  dipoleFitAttempted:boolean? timeProcessedMjdTai:double timeWithdrawnMjdTai:double? bboxSize:int?
  pixelFlags:boolean? pixelFlags_bad:boolean? pixelFlags_cr:boolean? pixelFlags_crCenter:boolean?
  pixelFlags_edge:boolean? pixelFlags_nodata:boolean? pixelFlags_nodataCenter:boolean?
  pixelFlags_interpolated:boolean? pixelFlags_interpolatedCenter:boolean? pixelFlags_offimage:boolean?
  pixelFlags_saturated:boolean? pixelFlags_saturatedCenter:boolean? pixelFlags_suspect:boolean?
  pixelFlags_suspectCenter:boolean? pixelFlags_streak:boolean? pixelFlags_streakCenter:boolean?
  pixelFlags_injected:boolean? pixelFlags_injectedCenter:boolean? pixelFlags_injected_template:boolean?
  pixelFlags_injected_templateCenter:boolean? glint_trail:boolean?`);

const DIA_OBJECT = fields(`
  diaObjectId:long validityStartMjdTai:double ra:double raErr:float? dec:double decErr:float? ra_dec_Cov:float?
  ${perBand('psfFluxMean:float? psfFluxMeanErr:float? psfFluxSigma:float? psfFluxNdata:int? fpFluxMean:float? fpFluxMeanErr:float?')}
  ${perBand('scienceFluxMean:float? scienceFluxMeanErr:float?')}
  ${perBand('psfFluxMin:float? psfFluxMax:float? psfFluxMaxSlope:float? psfFluxErrMean:float?')}
  firstDiaSourceMjdTai:double? lastDiaSourceMjdTai:double? nDiaSources:int`);

const DIA_FORCED_SOURCE = fields(`
  diaForcedSourceId:long diaObjectId:long ra:double dec:double visit:long detector:int psfFlux:float?
  psfFluxErr:float? midpointMjdTai:double scienceFlux:float? scienceFluxErr:float? band:string?
  timeProcessedMjdTai:double timeWithdrawnMjdTai:double?`);

const SS_SOURCE = fields(`
  diaSourceId:long ssObjectId:long designation:string? eclLambda:double eclBeta:double galLon:double
  galLat:double elongation:float? phaseAngle:float? topoRange:float? topoRangeRate:float? helioRange:float?
  helioRangeRate:float? ephRa:double? ephDec:double? ephVmag:float? ephRate:float? ephRateRa:float?
  ephRateDec:float? ephOffset:float? ephOffsetRa:double? ephOffsetDec:double? ephOffsetAlongTrack:float?
  ephOffsetCrossTrack:float? helio_x:float? helio_y:float? helio_z:float? helio_vx:float? helio_vy:float?
  helio_vz:float? helio_vtot:float? topo_x:float? topo_y:float? topo_z:float? topo_vx:float? topo_vy:float?
  topo_vz:float? topo_vtot:float? diaDistanceRank:int?`);

const MPC_ORBITS = fields(`
  id:int designation:string packed_primary_provisional_designation:string
  unpacked_primary_provisional_designation:string mpc_orb_jsonb:string? created_at:timestamp-micros?
  updated_at:timestamp-micros? orbit_type_int:int? u_param:int? nopp:int? arc_length_total:double?
  arc_length_sel:double? nobs_total:int? nobs_total_sel:int? a:double? q:double? e:double? i:double?
  node:double? argperi:double? peri_time:double? yarkovsky:double? srp:double? a1:double? a2:double?
  a3:double? dt:double? mean_anomaly:double? period:double? mean_motion:double? a_unc:double? q_unc:double?
  e_unc:double? i_unc:double? node_unc:double? argperi_unc:double? peri_time_unc:double? yarkovsky_unc:double?
  srp_unc:double? a1_unc:double? a2_unc:double? a3_unc:double? dt_unc:double? mean_anomaly_unc:double?
  period_unc:double? mean_motion_unc:double? epoch_mjd:double? h:double? g:double? not_normalized_rms:double?
  normalized_rms:double? earth_moid:double? fitting_datetime:timestamp-micros?`);

/** Every record's fields in schema order. */
export const LSST_RECORDS: Readonly<Record<LsstRecordName, readonly LsstField[]>> = {
  alert: ALERT,
  diaSource: DIA_SOURCE,
  diaObject: DIA_OBJECT,
  diaForcedSource: DIA_FORCED_SOURCE,
  ssSource: SS_SOURCE,
  mpc_orbits: MPC_ORBITS,
};

type SchemaNode = string | { [key: string]: unknown } | SchemaNode[];

/**
 * Builds the alert schema as a plain JSON object. Each named record is defined inline at its
 * first use and referred to by full name afterwards, as Avro requires of a single document.
 */
export function lsstAlertSchema(): object {
  const defined = new Set<LsstRecordName>();
  const record = (name: LsstRecordName, doc?: string): SchemaNode => {
    defined.add(name);
    const node: { [key: string]: unknown } = { type: 'record', namespace: LSST_NAMESPACE, name };
    if (doc !== undefined) node.doc = doc;
    node.fields = LSST_RECORDS[name].map(field);
    return node;
  };
  const valueType = (f: LsstField): SchemaNode => {
    let t: SchemaNode;
    if (f.type === 'timestamp-micros') t = { type: 'long', logicalType: 'timestamp-micros' };
    else if (PRIMITIVES.includes(f.type)) t = f.type;
    else {
      const name = f.type as LsstRecordName;
      t = defined.has(name) ? `${LSST_NAMESPACE}.${name}` : record(name);
    }
    return f.array ? { type: 'array', items: t } : t;
  };
  const field = (f: LsstField): SchemaNode =>
    f.nullable ? { name: f.name, type: ['null', valueType(f)], default: null } : { name: f.name, type: valueType(f) };
  return record('alert', 'Rubin Avro alert schema v10.0') as object;
}

let parsed: ParsedSchema | undefined;

/** The v10.0 alert schema parsed for reading and writing (longs as BigInt). */
export function lsstAlertParsedSchema(): ParsedSchema {
  parsed ??= parseSchema(lsstAlertSchema());
  return parsed;
}

/**
 * A record of the given type with every field present in schema order: nullable fields are
 * null, required ones hold a zero value of their type to be overwritten. Starting from a full
 * record keeps one object shape per record type, which keeps encoding fast.
 */
export function blankLsstRecord(name: LsstRecordName): Record<string, unknown> {
  // Object.fromEntries yields a fast-properties object; adding ~100 keys one by one would
  // leave it in dictionary mode, and every copy of it 100 times slower to make.
  return Object.fromEntries(LSST_RECORDS[name].map((f) => [f.name, f.nullable ? null : zeroValue(f)]));
}

function zeroValue(f: LsstField): unknown {
  if (f.array) return [];
  switch (f.type) {
    case 'long': case 'timestamp-micros': return 0n;
    case 'int': case 'float': case 'double': return 0;
    case 'boolean': return false;
    case 'string': return '';
    case 'bytes': return Buffer.alloc(0);
    default: return blankLsstRecord(f.type);
  }
}
