// How values read on the pages: ids in full digits, measurements rounded to what the eye needs,
// missing values as a dash, byte counts in kB/MB, times in UTC.

/** A cell value as text: BigInt ids exact, doubles to 6 significant digits (MJDs to 5 decimals), null as "—". */
export function formatValue(value: unknown, column = ''): string {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return String(value);
    if (Number.isInteger(value)) return String(value);
    if (/mjd/i.test(column)) return value.toFixed(5);
    if (/^(ra|decl|dec|glon|glat)$/i.test(column)) return value.toFixed(6);
    const abs = Math.abs(value);
    if (abs >= 1e6 || abs < 1e-3) return value.toExponential(3);
    return String(Number(value.toPrecision(6)));
  }
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (value instanceof Date) return formatUtc(value.toISOString());
  if (typeof value === 'object') return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  return String(value);
}

/** True for values shown right-aligned in tables. */
export function isNumeric(value: unknown): boolean {
  return typeof value === 'number' || typeof value === 'bigint';
}

/** "2026-01-29 11:40:14 UTC" from an ISO time. */
export function formatUtc(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** Whole numbers with thousands separators. */
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let i = -1;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ${units[i]}`;
}

/** Values for the browser as JSON-safe plain data: BigInt as its digits (text), so ids stay exact in JavaScript. */
export function browserSafe(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number' && !Number.isFinite(value)) return null;
  if (Array.isArray(value)) return value.map(browserSafe);
  if (value !== null && typeof value === 'object' && !(value instanceof Uint8Array)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, browserSafe(v)]));
  }
  return value;
}
