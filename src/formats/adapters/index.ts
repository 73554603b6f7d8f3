// One entry point from a decoded record to the Alert model: `toAlert(record, schemaName)`.
// It picks the adapter from the writer schema's full name (its namespace says the survey) and,
// where the name says nothing — Spark-written files are all `topLevelRecord`, Pitt-Google
// rewrote ZTF headers, JSON samples have no schema — from the record's shape.
import type { Alert } from '../alert.ts';
import { elasticcToAlert } from './elasticc.ts';
import { AdapterError } from './errors.ts';
import { lsstToAlert } from './lsst.ts';
import { askapToAlert, decatToAlert, desirtToAlert, rapidToAlert, winterToAlert } from './others.ts';
import { isRecord } from './read.ts';
import type { Rec } from './read.ts';
import { ztfToAlert } from './ztf.ts';

export { AdapterError } from './errors.ts';
export type { AdapterProblem } from './errors.ts';

export type AdapterFamily = 'lsst' | 'elasticc' | 'ztf' | 'winter' | 'desirt' | 'decat' | 'rapid' | 'askap';

const ADAPTERS: Readonly<Record<AdapterFamily, (record: Rec, schema: string) => Alert>> = {
  lsst: lsstToAlert,
  elasticc: elasticcToAlert,
  ztf: ztfToAlert,
  winter: winterToAlert,
  desirt: desirtToAlert,
  decat: decatToAlert,
  rapid: rapidToAlert,
  askap: askapToAlert,
};

/** Namespaces (first part of the full name) that decide the adapter alone. */
const BY_NAMESPACE: Readonly<Record<string, AdapterFamily>> = {
  lsst: 'lsst',
  elasticc: 'elasticc',
  ztf: 'ztf',
  winter: 'winter',
  desirt: 'desirt',
  decat: 'decat',
  rapid: 'rapid',
  askap: 'askap',
};

/**
 * Schemas that share an alert namespace but are not alerts: the classifications brokers send
 * back to DESC (`lsst.v4_1.brokerClassfication` — sic upstream — and `elasticc.*.brokerClassification`).
 */
export function isNonAlertSchema(schemaName: string): boolean {
  return /brokerClass(?:i)?fication/i.test(schemaName);
}

function familyByShape(record: Rec): AdapterFamily | null {
  const source = record.diaSource;
  if (isRecord(source)) {
    if ('midpointMjd' in source) return 'rapid';
    // DESC simulations keep the LSST v4 names and add simulation/host-galaxy fields.
    const diaObject = record.diaObject;
    const simulated = 'nobs' in source || 'hostgal_photoz' in source || (isRecord(diaObject) && 'hostgal_zphot_q50' in diaObject);
    return 'midPointTai' in source && simulated && !('lsst_schema_version' in record) ? 'elasticc' : 'lsst';
  }
  const candidate = record.candidate;
  if (isRecord(candidate)) {
    if ('flux_peak' in candidate) return 'askap';
    if ('magpsf' in candidate) return 'objectid' in record && !('objectId' in record) ? 'winter' : 'ztf';
    if ('psfFlux' in candidate && 'mjd' in candidate) return 'desirt';
    return null;
  }
  return isRecord(record.triggersource) ? 'decat' : null;
}

/**
 * The adapter family for a record: by the writer schema's namespace when it names a survey
 * (`lsst.v4_1` is PLAsTiCC, read by the ELaSTICC adapter), else by the record's fields.
 */
export function adapterFamily(schemaName: string, record: Rec): AdapterFamily | null {
  if (/^lsst\.v4_1(?:\.|$)/.test(schemaName)) return 'elasticc';
  const namespace = schemaName.split('.')[0] ?? '';
  return (schemaName.includes('.') ? BY_NAMESPACE[namespace] : undefined) ?? familyByShape(record);
}

/**
 * Turns one decoded alert record into the Alert model. Throws AdapterError naming the schema
 * and the field when a required field is missing or unusable, and (problem `unsupported`) for
 * records that are not alerts or of an unknown layout.
 */
export function toAlert(record: Record<string, unknown>, schemaName: string): Alert {
  if (isNonAlertSchema(schemaName)) throw new AdapterError(schemaName, schemaName, 'unsupported', 'a broker classification message, not an alert');
  const family = adapterFamily(schemaName, record);
  if (family === null) throw new AdapterError(schemaName, 'diaSource, candidate or triggersource', 'unsupported', 'the record has none of these fields');
  return ADAPTERS[family](record, schemaName);
}
