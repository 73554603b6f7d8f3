// DESC's simulated LSST streams: ELaSTICC (elasticc.v0_9, elasticc.v0_9_1) and PLAsTiCC alerts
// written with lsst.v4_1. Both use the LSST v4 names (midPointTai, filterName, decl, psFlux)
// and SNANA's calibrated flux unit FLUXCAL (zero point 27.5: m = 27.5 − 2.5·log10 FLUXCAL),
// converted here to nJy. Evidence for FLUXCAL: the ELaSTICC sample's psFluxErr values put the
// 5-sigma limits at the LSST single-visit depths (z 23.4, Y 22.8) with zero point 27.5; with
// nJy they would be four magnitudes too deep.
import { AB_ZERO_POINT_NJY } from '../alert.ts';
import type { Alert } from '../alert.ts';
import { isRecord } from './read.ts';
import type { Rec } from './read.ts';
import { rubinLayoutToAlert, versionFromName } from './rubin-layout.ts';

/** SNANA FLUXCAL zero point. */
export const FLUXCAL_ZERO_POINT = 27.5;

/** nJy per FLUXCAL unit, 10^((31.4 − 27.5) / 2.5) ≈ 36.31. */
export const FLUXCAL_TO_NJY = 10 ** ((AB_ZERO_POINT_NJY - FLUXCAL_ZERO_POINT) / 2.5);

/** PLAsTiCC alerts carry lsst.v4_1 names and per-source host-galaxy fields (hostgal_photoz). */
function isPlasticc(record: Rec, schema: string): boolean {
  if (schema.startsWith('lsst.')) return true;
  if (schema.startsWith('elasticc.')) return false;
  const source = record.diaSource;
  return isRecord(source) && 'hostgal_photoz' in source;
}

export function elasticcToAlert(record: Rec, schema: string): Alert {
  return rubinLayoutToAlert(record, schema, {
    survey: isPlasticc(record, schema) ? 'plasticc' : 'elasticc',
    schemaVersion: versionFromName(schema),
    fluxScale: FLUXCAL_TO_NJY,
    signFromFlag: false,
  });
}
