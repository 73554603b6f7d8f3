// Rubin/LSST alerts, schema versions 3.0 … 11.1, as Rubin writes them (lsst.vX_Y.alert) and as
// brokers re-serialise them: Fink's Spark files (writer schema `topLevelRecord`, the Rubin
// fields at the top level plus Fink's own, `lsst_schema_version` naming the version) and
// Lasair's JSON samples. Fluxes are already nJy; times are TAI MJD mid-exposure.
import type { Alert } from '../alert.ts';
import { optString, rootPlace } from './read.ts';
import type { Rec } from './read.ts';
import { rubinLayoutToAlert, versionFromName } from './rubin-layout.ts';

/**
 * The Rubin schema version: from the writer schema name (`lsst.v9_0.alert` → `9.0`), else from
 * Fink's `lsst_schema_version` field (`lsst.v9_0`), else null (Fink's v7.4 files say neither).
 */
export function lsstSchemaVersion(schema: string, record: Rec): string | null {
  if (schema.startsWith('lsst.')) return versionFromName(schema);
  const declared = optString(record, 'lsst_schema_version', rootPlace(schema));
  return declared === null ? null : versionFromName(declared);
}

export function lsstToAlert(record: Rec, schema: string): Alert {
  return rubinLayoutToAlert(record, schema, {
    survey: 'lsst',
    schemaVersion: lsstSchemaVersion(schema, record),
    fluxScale: 1,
    signFromFlag: false,
  });
}
