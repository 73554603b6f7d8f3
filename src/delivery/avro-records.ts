// The Avro output of a filter stream, in Fink's livestream framing: message value = the
// schemaless Avro body, message key = the writer schema as JSON text. fink-client's
// AlertConsumer decodes every message with the schema in its key, so it reads these streams
// as they are; fastavro (or Nightjar's decodeMessage) reads them the same way.
//
// The record (`nightjar.filter.<filter name>`), field by field:
//   - the filter's selected columns, in SELECT order, each a nullable union ["null", type] with
//     the type DuckDB gives the column (see output-columns.ts): BIGINT → long, INTEGER and
//     smaller → int, DOUBLE/FLOAT/DECIMAL → double, VARCHAR → string, BOOLEAN → boolean;
//     HUGEINT and unsigned 64-bit and wider → string of digits (Avro's long is 64-bit signed).
//     Avro field names allow only letters, digits and `_`: other characters become `_` (the
//     SELECT text is kept in the field's doc), and a clash gets a `_2`, `_3`, ... suffix.
//   - `UTC`: when the record was produced, "YYYY-MM-DD HH:MM:SS", as in the JSON streams.
//   - identifiers and the triggering detection, named as fink-client's display and save read
//     them for either survey setting:
//       ZTF view:  objectId (text), candid, candidate {jd, band, magpsf, sigmapsf, ra, dec},
//                  cdsxmatch (the filter's `classification` column if it selects one)
//       LSST view: diaSourceId, diaSource {diaSourceId, diaObjectId, midpointMjdTai, ra, dec,
//                  band, psfFlux, psfFluxErr, reliability, snr}, diaObject {diaObjectId,
//                  objectId} (null for a solar-system alert), mpc_orbits {designation,
//                  ssObjectId} (only for a solar-system alert)
//     plus survey and objectKind. Values are the Alert model's: jd = mjd + 2400000.5,
//     midpointMjdTai is the survey's own time scale (UTC for ZTF), magnitudes AB.
//   - `alert`: the lite lightcurve, {diaSourcesList: [{diaSourceId, psfFlux, psfFluxErr,
//     midpointMjdTai, band, reliability}], diaForcedSourcesList: [{diaForcedSourceId, psfFlux,
//     psfFluxErr, midpointMjdTai, band}]}, as in the JSON lite stream plus the source ids.
// A selected column whose field name equals one of these broker fields takes its place (the
// filter's value is sent; for `objectId` or `survey` it is the same value), except `UTC`,
// which is always the produced time (as in the JSON streams). Every broker field is nullable:
// a row whose alert is not available gets nulls there.
import type { Alert } from '../formats/alert.ts';
import { parseSchema, type ParsedSchema } from '../formats/avro-schema.ts';
import { encodeMessage } from '../formats/message.ts';
import type { FilterRow } from './records.ts';

/** A column of a filter's output: its name as the SELECT made it and DuckDB's type name. */
export interface OutputColumn {
  name: string;
  type: string;
}

type Scalar = 'long' | 'int' | 'double' | 'string' | 'boolean';

export interface AvroColumnField {
  /** The column name in the filter's output rows. */
  column: string;
  /** The Avro field name. */
  field: string;
  type: Scalar;
}

export interface AvroStreamPlan {
  readonly schema: ParsedSchema;
  readonly columns: readonly AvroColumnField[];
  /** Broker-added fields that the record carries (those not taken by a selected column). */
  readonly brokerFields: ReadonlySet<string>;
  /** The selected column that feeds cdsxmatch (a `classification` column), if any. */
  readonly classificationColumn: string | undefined;
}

export const AVRO_NAMESPACE = 'nightjar.filter';
/** Namespace of the nested record types, apart from the top-level name, which is the filter's. */
const PART_NAMESPACE = 'nightjar.stream';

/** Maps a DuckDB column type to the Avro type of its values; undefined for types a filter cannot deliver. */
export function avroTypeOfDuckDb(duckType: string): Scalar | undefined {
  const t = duckType.trim().toUpperCase();
  if (t === 'BIGINT' || t === 'UINTEGER') return 'long';
  if (t === 'INTEGER' || t === 'SMALLINT' || t === 'TINYINT' || t === 'USMALLINT' || t === 'UTINYINT') return 'int';
  if (t === 'DOUBLE' || t === 'FLOAT' || t === 'REAL' || t.startsWith('DECIMAL')) return 'double';
  if (t === 'VARCHAR' || t === 'HUGEINT' || t === 'UBIGINT' || t === 'UHUGEINT' || t === 'NULL' || t === '"NULL"') return 'string';
  if (t === 'BOOLEAN') return 'boolean';
  return undefined;
}

/** An Avro name made from any text: letters, digits and `_`, not starting with a digit. */
export function avroName(text: string): string {
  const name = text.replace(/[^A-Za-z0-9_]/g, '_');
  return name === '' || /^[0-9]/.test(name) ? `_${name}` : name;
}

const PRIMITIVE_NAMES = new Set(['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string']);

/** The record type's name: an Avro name that is not a primitive type's (Avro forbids those for named types). */
function recordName(filterName: string): string {
  const name = avroName(filterName);
  return PRIMITIVE_NAMES.has(name) ? `${name}_` : name;
}

const nullable = (type: unknown): unknown[] => ['null', type];
const optionalField = (name: string, type: unknown, doc?: string): Record<string, unknown> => ({ name, type: nullable(type), default: null, ...(doc === undefined ? {} : { doc }) });

const CANDIDATE = {
  type: 'record',
  name: 'candidate',
  namespace: PART_NAMESPACE,
  doc: 'The triggering detection, named as in ZTF alerts.',
  fields: [
    { name: 'jd', type: 'double', doc: 'Julian Date of the detection (mjd + 2400000.5), in the survey\'s time scale.' },
    { name: 'band', type: 'string' },
    optionalField('magpsf', 'double', 'AB magnitude (ZTF magpsf; else of the positive difference flux).'),
    optionalField('sigmapsf', 'double'),
    { name: 'ra', type: 'double' },
    { name: 'dec', type: 'double' },
  ],
};

const DIA_SOURCE = {
  type: 'record',
  name: 'diaSource',
  namespace: PART_NAMESPACE,
  doc: 'The triggering detection, named as in Rubin alerts.',
  fields: [
    { name: 'diaSourceId', type: 'long' },
    optionalField('diaObjectId', 'long'),
    { name: 'midpointMjdTai', type: 'double', doc: 'MJD of the detection in the survey\'s own time scale (TAI for Rubin, UTC for ZTF).' },
    { name: 'ra', type: 'double' },
    { name: 'dec', type: 'double' },
    { name: 'band', type: 'string' },
    optionalField('psfFlux', 'double', 'Difference flux, nJy.'),
    optionalField('psfFluxErr', 'double'),
    optionalField('reliability', 'double'),
    optionalField('snr', 'double'),
  ],
};

const DIA_OBJECT = {
  type: 'record',
  name: 'diaObject',
  namespace: PART_NAMESPACE,
  fields: [optionalField('diaObjectId', 'long', 'The 64-bit object id; null for surveys that name objects by text (ZTF).'), { name: 'objectId', type: 'string' }],
};

const MPC_ORBITS = {
  type: 'record',
  name: 'mpc_orbits',
  namespace: PART_NAMESPACE,
  fields: [optionalField('designation', 'string'), optionalField('ssObjectId', 'long')],
};

const LIGHTCURVE = {
  type: 'record',
  name: 'lightcurve',
  namespace: PART_NAMESPACE,
  fields: [
    {
      name: 'diaSourcesList',
      type: {
        type: 'array',
        items: {
          type: 'record',
          name: 'source',
          fields: [optionalField('diaSourceId', 'long'), optionalField('psfFlux', 'double'), optionalField('psfFluxErr', 'double'), { name: 'midpointMjdTai', type: 'double' }, { name: 'band', type: 'string' }, optionalField('reliability', 'double')],
        },
      },
    },
    {
      name: 'diaForcedSourcesList',
      type: {
        type: 'array',
        items: {
          type: 'record',
          name: 'forcedSource',
          fields: [optionalField('diaForcedSourceId', 'long'), optionalField('psfFlux', 'double'), optionalField('psfFluxErr', 'double'), { name: 'midpointMjdTai', type: 'double' }, { name: 'band', type: 'string' }],
        },
      },
    },
  ],
};

/** Broker fields after UTC, in order, with their (nullable) types. */
const BROKER_FIELDS: readonly [string, unknown, string][] = [
  ['survey', 'string', 'Survey the alert came from (lsst, ztf, ...).'],
  ['objectKind', 'string', 'What objectId names: object, solarSystem or source.'],
  ['objectId', 'string', 'The object id as text (digits for Rubin, a name such as ZTF26aamcbly for ZTF).'],
  ['candid', 'long', 'Id of the triggering detection (ZTF candid, Rubin diaSourceId).'],
  ['candidate', CANDIDATE, 'The triggering detection (ZTF view).'],
  ['cdsxmatch', 'string', 'The filter\'s classification column, when it selects one.'],
  ['diaSourceId', 'long', 'Id of the triggering detection (Rubin view).'],
  ['diaSource', DIA_SOURCE, 'The triggering detection (Rubin view).'],
  ['diaObject', DIA_OBJECT, 'The object; null for a solar-system alert.'],
  ['mpc_orbits', MPC_ORBITS, 'The known moving object, for a solar-system alert only.'],
  ['alert', LIGHTCURVE, 'The lite lightcurve: detections and forced photometry in time order.'],
];

/**
 * The Avro schema and field mapping of a filter's stream. `filterName` names the record type
 * (`nightjar.filter.<name>`); `columns` are the filter's output columns with DuckDB types.
 * Throws for a column type that has no Avro counterpart, naming the column.
 */
export function avroStreamPlan(filterName: string, columns: readonly OutputColumn[]): AvroStreamPlan {
  const taken = new Set<string>(['UTC']);
  const mapped: AvroColumnField[] = [];
  const fields: unknown[] = [];
  for (const column of columns) {
    const type = avroTypeOfDuckDb(column.type);
    if (type === undefined) throw new Error(`filter ${filterName}: column "${column.name}" has type ${column.type}, which the Avro stream cannot carry (cast it to VARCHAR, DOUBLE or BIGINT)`);
    const base = avroName(column.name);
    // The produced time wins over a selected UTC, as in the JSON streams.
    if (base === 'UTC') continue;
    let field = base;
    for (let n = 2; taken.has(field); n++) field = `${base}_${n}`;
    taken.add(field);
    mapped.push({ column: column.name, field, type });
    fields.push(optionalField(field, type, `SELECT item "${column.name}" (${column.type})`));
  }
  fields.push({ name: 'UTC', type: 'string', doc: 'When Nightjar produced the record, UTC, YYYY-MM-DD HH:MM:SS.' });
  const brokerFields = new Set<string>();
  for (const [name, type, doc] of BROKER_FIELDS) {
    if (taken.has(name)) continue;
    brokerFields.add(name);
    fields.push(optionalField(name, type, doc));
  }
  const schemaJson = {
    type: 'record',
    name: recordName(filterName),
    namespace: AVRO_NAMESPACE,
    doc: `Matches of the Nightjar filter "${filterName}": the selected columns, the produced time, the object and its triggering detection, and its lightcurve.`,
    fields,
  };
  const classification = mapped.find((c) => c.column.toLowerCase() === 'classification' && c.type === 'string');
  return { schema: parseSchema(schemaJson), columns: mapped, brokerFields, classificationColumn: classification?.column };
}

const INT_MIN = -(2 ** 31);
const INT_MAX = 2 ** 31 - 1;

/** A row value as the Avro type of its field; throws naming the column for a value that does not fit. */
function coerce(value: unknown, type: Scalar, column: string): unknown {
  if (value === null || value === undefined) return null;
  const bad = (): never => {
    throw new Error(`column "${column}": value ${typeof value === 'bigint' ? `${value}n` : JSON.stringify(value)} does not fit Avro ${type}`);
  };
  switch (type) {
    case 'long':
      if (typeof value === 'bigint') return value;
      return typeof value === 'number' && Number.isSafeInteger(value) ? BigInt(value) : bad();
    case 'int':
      if (typeof value === 'number' && Number.isInteger(value) && value >= INT_MIN && value <= INT_MAX) return value;
      return typeof value === 'bigint' && value >= BigInt(INT_MIN) && value <= BigInt(INT_MAX) ? Number(value) : bad();
    case 'double':
      if (typeof value === 'number') return value;
      return typeof value === 'bigint' ? Number(value) : bad();
    case 'string':
      return typeof value === 'string' ? value : typeof value === 'bigint' || typeof value === 'number' || typeof value === 'boolean' ? String(value) : bad();
    case 'boolean':
      return typeof value === 'boolean' ? value : bad();
  }
}

function designation(record: Record<string, unknown>): string | null {
  const orbits = record.mpc_orbits;
  if (typeof orbits !== 'object' || orbits === null || Array.isArray(orbits)) return null;
  const d = (orbits as Record<string, unknown>).designation;
  return typeof d === 'string' ? d : null;
}

function brokerValues(alert: Alert, classification: unknown): Record<string, unknown> {
  const id = alert.objectId;
  const numericId = typeof id === 'bigint' ? id : null;
  const solar = alert.objectKind === 'solarSystem';
  return {
    survey: alert.survey,
    objectKind: alert.objectKind,
    objectId: String(id),
    candid: alert.sourceId,
    candidate: { jd: alert.mjd + 2400000.5, band: alert.band, magpsf: alert.mag, sigmapsf: alert.magErr, ra: alert.ra, dec: alert.dec },
    cdsxmatch: typeof classification === 'string' ? classification : null,
    diaSourceId: alert.sourceId,
    diaSource: {
      diaSourceId: alert.sourceId,
      diaObjectId: alert.objectKind === 'object' ? numericId : null,
      midpointMjdTai: alert.mjd,
      ra: alert.ra,
      dec: alert.dec,
      band: alert.band,
      psfFlux: alert.flux,
      psfFluxErr: alert.fluxErr,
      reliability: alert.reliability,
      snr: alert.snr,
    },
    diaObject: solar ? null : { diaObjectId: alert.objectKind === 'object' ? numericId : null, objectId: String(id) },
    mpc_orbits: solar ? { designation: designation(alert.record), ssObjectId: numericId } : null,
    alert: {
      diaSourcesList: alert.lightcurve.detections.map((p) => ({ diaSourceId: p.sourceId, psfFlux: p.flux, psfFluxErr: p.fluxErr, midpointMjdTai: p.mjd, band: p.band, reliability: p.reliability })),
      diaForcedSourcesList: alert.lightcurve.forced.map((p) => ({ diaForcedSourceId: p.sourceId, psfFlux: p.flux, psfFluxErr: p.fluxErr, midpointMjdTai: p.mjd, band: p.band })),
    },
  };
}

/** The Avro record (avsc's shape: BigInt longs, unions unwrapped) of one matched row. */
export function avroRecord(plan: AvroStreamPlan, row: FilterRow, alert: Alert | undefined, utc: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const c of plan.columns) out[c.field] = coerce(row[c.column], c.type, c.column);
  out.UTC = utc;
  const values = alert === undefined ? undefined : brokerValues(alert, plan.classificationColumn === undefined ? undefined : row[plan.classificationColumn]);
  for (const name of plan.brokerFields) out[name] = values?.[name] ?? null;
  return out;
}

/** Encodes a record as a Kafka message: key = schema JSON, value = schemaless Avro body. */
export function encodeAvroRecord(plan: AvroStreamPlan, record: Record<string, unknown>): { key: Buffer; value: Buffer } {
  const { key, value } = encodeMessage(record, { encoding: 'schema-in-key', schema: plan.schema });
  if (key === null) throw new Error('schema-in-key encoding produced no key');
  return { key, value };
}
