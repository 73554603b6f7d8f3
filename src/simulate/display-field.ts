// The field the simulator prints for the first and last alert of each observation, given as a
// path into the record: `diaSource.midpointMjdTai`, or fink's comma form `diaSource,midPointTai`.
import { stringify } from '../util/json.ts';
import { UserError } from '../util/errors.ts';

export type DisplayPath = readonly string[];

/** Parses `a.b.c` or `a,b,c`; throws UserError for an empty path or segment. */
export function parseDisplayPath(text: string): DisplayPath {
  const parts = text.split(/[.,]/).map((p) => p.trim());
  if (text.trim() === '' || parts.some((p) => p === '')) throw new UserError(`--display "${text}" is not a field path (e.g. diaSource.midpointMjdTai)`);
  return parts;
}

/** The value at the path as text: numbers as JavaScript prints them, 64-bit ids exact, `null` where absent. */
export function displayValue(record: Record<string, unknown>, path: DisplayPath): string {
  let value: unknown = record;
  for (const part of path) {
    if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return 'null';
    value = Array.isArray(value) ? value[Number(part)] : (value as Record<string, unknown>)[part];
  }
  if (value === undefined || value === null) return 'null';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  return stringify(value);
}
