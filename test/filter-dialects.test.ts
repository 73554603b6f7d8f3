// A filter gives the same answer on both stores: the same objects (real alerts, synthetic ones,
// and rows with edge values) are written to an in-memory DuckDB store and to a PostgreSQL store
// on a fresh database, then many filters run over each through storedMatchesQuery in the
// store's dialect. Every result must be the same rows in the same order with the same values
// (integers and text exactly, doubles to 1e-9), or an error on both: every function of the
// language, the example and benchmark filters, operator edge cases, and random filters.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { benchFilters } from '../bench/lib/filters.ts';
import { DEMO_FILTERS } from '../src/cli/demo-command.ts';
import { catalog } from '../src/features/columns.ts';
import { featuresForBatch } from '../src/features/compute.ts';
import type { ObjectRow } from '../src/features/compute.ts';
import { toAlert } from '../src/formats/adapters/index.ts';
import type { Alert } from '../src/formats/alert.ts';
import { readAlertFile } from '../src/formats/files.ts';
import { allowedFunctions } from '../src/filters/functions.ts';
import { filterSqlFor, isFilterErrors, parseFilter } from '../src/filters/index.ts';
import type { CompiledFilter, FilterSource } from '../src/filters/index.ts';
import { findStoredMatches, storedMatchesQuery } from '../src/service/stored-matches.ts';
import { coneSearch } from '../src/web/api/object-queries.ts';
import { coneSql, objectListSql } from '../src/web/pages/object-pages.ts';
import { generateAlerts } from '../src/simulate/synthetic.ts';
import { openStore } from '../src/store/index.ts';
import type { Store } from '../src/store/index.ts';
import { dropDatabase } from '../src/postgres/local-server.ts';
import { openPostgresStore } from '../src/store/postgres-store.ts';
import { acquireLocalPostgres, releaseLocalPostgres, type PostgresLease, type TestDatabase } from './setup/local-postgres.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dataDir = path.resolve(repoRoot, '../shared/data');
const ALERT_FILES = [
  'fink-client/datatest/lsst/part-2-918301.avro',
  'fink-client/datatest/ztf/part-3-305711.avro',
  'fink-client/datatest/avro_multi_alerts.avro',
  'fink-client/datatest/avro_multi_alerts_other.avro',
  'pittgoogle-client/sample_alerts/ztf/ztf_20250302_programid1_ZTF17aaarzyp_2982177112815010003.v4_02.avro',
  'lsstdesc-plasticc_alerts/Examples/starterkit/53000.0_5_281323062375219199.avro',
];
const ROWS = 5000;

/**
 * A fresh database whose default collation is ICU's en-US ('a' < 'B' < 'b', unlike DuckDB's
 * byte order) rather than the test server's C: the compiled SQL must not depend on the locale
 * of the server it meets.
 */
async function englishDatabase(serverUrl: string): Promise<TestDatabase> {
  const name = `nightjar_test_dialects_${randomBytes(5).toString('hex')}`;
  const admin = new URL(serverUrl);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name} TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C' LOCALE_PROVIDER icu ICU_LOCALE 'en-US'`);
  } finally {
    await client.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => dropDatabase(admin.toString(), name) };
}

let lease: PostgresLease | undefined;
let database: TestDatabase | undefined;
let duck: Store | undefined;
let postgres: Store | undefined;
let objectCount = 0;

/**
 * Rows with edge values, built from a real row: NULLs, zero, -0, negative and tiny fluxes, ids
 * beyond 2^53, text that tests case and collation. (NaN is not among them: the store keeps no
 * NaN, it stores NULL.) Magnitudes stay within 1e±15, so that no product leaves the double
 * range: there DuckDB gives ±Infinity or 0 and PostgreSQL an error (docs/filters.md).
 */
function edgeRows(base: ObjectRow): ObjectRow[] {
  const nulls = Object.fromEntries(Object.entries(base).filter(([, v]) => typeof v === 'number').map(([k]) => [k, null]));
  const row = (objectId: string, values: ObjectRow): ObjectRow => ({ ...base, survey: 'lsst', objectKind: 'object', objectId, ...values });
  return [
    row('9223372036854775807', { diaObjectId: 9223372036854775807n, alertSourceId: -9223372036854775807n, alertFlux: 0, alertFluxErr: 0, alertMag: null, nSources: 0, ra: 0, decl: -90 }),
    row('9007199254740993', { ...nulls, diaObjectId: 9007199254740993n, alertSourceId: 9007199254740993n, alertMjd: 60000.5 }),
    row('Zeta_%.x', { diaObjectId: null, alertFlux: -0, alertFluxErr: 1e-15, alertMag: 25.000000000001, alertBand: 'Y', nSources: 2147483000, ra: 359.9999999, decl: 89.99999 }),
    row('alpha', { diaObjectId: -1n, alertFlux: -1234.5, alertFluxErr: 3.5, alertSnr: -352.71428571428567, alertBand: 'g', nSources: -7, latestMag_g: 2.5, latestMag_r: -0.5 }),
    row('ÉCLAIR-ß ztf', { diaObjectId: 42n, alertFlux: 1e-15, alertFluxErr: 1e15, alertMag: 1e15, alertBand: 'é', nSources: 1, ra: 123.456, decl: 0.000001 }),
    row(' spaced\tname\n', { diaObjectId: 7n, alertFlux: 2.5, alertFluxErr: 1, alertMag: -2.5, alertBand: 'R', nSources: 3, ra: 180, decl: 45 }),
    row('ZTF99zzzzzzz', { survey: 'ztf', diaObjectId: null, alertFlux: 1e15, alertFluxErr: 7, alertMag: 0.5, alertBand: 'r', nSources: 15, ra: 15.5, decl: -15.5 }),
  ];
}

before(async () => {
  const alerts: Alert[] = [];
  for (const file of ALERT_FILES) alerts.push(...(await readAlertFile(path.join(dataDir, file))).map(({ record, schema }) => toAlert(record, schema.name)));
  const real = alerts.length;
  for (const record of generateAlerts({ seed: 23, objects: 300, count: 1200, cutouts: false })) alerts.push(toAlert(record, 'lsst.v10_0.alert'));
  const rows = featuresForBatch(alerts);
  const edges = edgeRows(rows[0] as ObjectRow);
  objectCount = new Set([...rows, ...edges].map((r) => `${String(r.survey)}|${String(r.objectKind)}|${String(r.objectId)}`)).size;
  assert.ok(real > 40, `only ${real} real alerts read`);

  lease = await acquireLocalPostgres();
  database = await englishDatabase(lease.url);
  duck = await openStore({ path: ':memory:', threads: 2 });
  postgres = await openPostgresStore({ url: database.url });
  assert.equal(duck.sqlDialect, 'duckdb');
  assert.equal(postgres.sqlDialect, 'postgres');
  for (const store of [duck, postgres]) {
    for (let start = 0; start < alerts.length; start += 400) {
      const batch = alerts.slice(start, start + 400);
      await store.writeBatch({ alerts: batch, objects: featuresForBatch(batch) });
    }
    await store.writeBatch({ alerts: [], objects: edges });
  }
});

after(async () => {
  await duck?.close();
  await postgres?.close();
  await database?.drop();
  if (lease !== undefined) await releaseLocalPostgres(lease);
});

async function compile(source: FilterSource): Promise<CompiledFilter> {
  const result = await parseFilter(source, catalog());
  if (isFilterErrors(result)) assert.fail(`filter did not compile: ${JSON.stringify(source)}: ${JSON.stringify(result)}`);
  return result;
}

type Outcome = { rows: Record<string, unknown>[] } | { error: string };

async function run(store: Store, filter: CompiledFilter): Promise<Outcome> {
  const query = storedMatchesQuery(filter, ROWS, store.sqlDialect);
  try {
    const result = await store.queryObjects(query.sql, { rowLimit: ROWS, timeLimitMs: 60_000 });
    assert.equal(result.truncated, false);
    return {
      rows: result.rows.map((r) => {
        const row: Record<string, unknown> = { key: `${String(r[query.keyNames.survey])}|${String(r[query.keyNames.objectKind])}|${String(r[query.keyNames.objectId])}` };
        filter.columns.forEach((column, i) => {
          row[column] = r[query.resultNames[i] as string];
        });
        return row;
      }),
    };
  } catch (error) {
    return { error: (error as Error).message.split('\n')[0] ?? '' };
  }
}

/** Why two values differ, or undefined: integers (number or BigInt) and text exactly, doubles to 1e-9 relative. */
function difference(a: unknown, b: unknown): string | undefined {
  if (a === b) return undefined;
  if (typeof a === 'bigint' || typeof b === 'bigint') {
    const whole = (v: unknown): bigint | undefined => (typeof v === 'bigint' ? v : typeof v === 'number' && Number.isSafeInteger(v) ? BigInt(v) : undefined);
    const [x, y] = [whole(a), whole(b)];
    if (x !== undefined && y !== undefined) return x === y ? undefined : 'integers differ';
    return difference(Number(a), Number(b));
  }
  if (typeof a === 'number' && typeof b === 'number') {
    if (Number.isNaN(a) && Number.isNaN(b)) return undefined;
    if (!Number.isFinite(a) || !Number.isFinite(b)) return 'special values differ';
    const scale = Math.max(Math.abs(a), Math.abs(b));
    return Math.abs(a - b) <= 1e-9 * scale ? undefined : 'numbers differ';
  }
  return 'values differ';
}

const show = (v: unknown): string => (typeof v === 'bigint' ? `${v}n` : typeof v === 'string' ? JSON.stringify(v) : String(v));

/** Asserts that the filter gives the same outcome on both stores; returns the number of rows (-1 for an error on both). */
async function same(source: FilterSource): Promise<number> {
  const filter = await compile(source);
  if (duck === undefined || postgres === undefined) assert.fail('stores not open');
  if (filter.postgres === undefined) {
    // DuckDB's binder could not type it: then it fails on DuckDB too (the filter checker refuses to save it).
    assert.match(filter.postgresProblem ?? '', /^Binder Error/, `${JSON.stringify(source)} has no PostgreSQL form`);
    assert.ok('error' in (await run(duck, filter)), `${JSON.stringify(source)} runs on DuckDB but has no PostgreSQL form: ${filter.postgresProblem ?? ''}`);
    return -1;
  }
  const [d, p] = [await run(duck, filter), await run(postgres, filter)];
  const where = `${JSON.stringify(source)}\n  DuckDB:     ${filter.sql}\n  PostgreSQL: ${filter.postgres.sql}`;
  if ('error' in d || 'error' in p) {
    assert.ok('error' in d && 'error' in p, `only one store failed: ${'error' in d ? `DuckDB: ${d.error}` : `PostgreSQL: ${'error' in p ? p.error : ''}`}\n${where}`);
    return -1;
  }
  assert.equal(p.rows.length, d.rows.length, `row counts differ\n${where}`);
  d.rows.forEach((row, i) => {
    const other = p.rows[i] as Record<string, unknown>;
    assert.equal(other.key, row.key, `row ${i}: different objects\n${where}`);
    for (const column of filter.columns) {
      const problem = difference(row[column], other[column]);
      if (problem !== undefined) assert.fail(`row ${i} (${String(row.key)}), ${column}: ${problem}: DuckDB ${show(row[column])}, PostgreSQL ${show(other[column])}\n${where}`);
    }
  });
  return d.rows.length;
}

// Every function of the language at least once (checked below), and the operators' edge cases.
const FUNCTION_FILTERS: FilterSource[] = [
  { select: 'objectId, abs(alertFlux) AS a, abs(nSources - 5) AS b, sign(alertFlux) AS s, sign(nSources - 3) AS si, sign(0.0 - 1.5) AS sd', where: '' },
  { select: 'objectId, sqrt(alertFlux) AS q, cbrt(alertFlux) AS c, exp(alertMag / 10) AS e, ln(alertFlux) AS l, log10(alertFlux) AS l10, log2(alertFlux) AS l2, log2(8) AS eight', where: '' },
  { select: 'objectId, pow(alertFlux, 0.5) AS p, power(alertSnr, 2) AS p2, 2 ^ nSources AS p3, alertMag ** 1.5 AS p4, pow(0, -1) AS p5, pow(-8, 1.0 / 3) AS p6, pow(nSources, -1) AS p7', where: 'nSources < 60' },
  { select: 'objectId, round(alertMag, 2) AS r2, round(alertFlux) AS r0, round(alertFlux, -2) AS rm, round(nSources, -1) AS ri, round(1.25, 1) AS rd, round(-2.5) AS rh, round(alertMjd, 5) AS rt, round(2.675e0, 2) AS rb', where: '' },
  { select: 'objectId, floor(alertMag) AS f, ceil(alertMag) AS c, ceiling(-alertMag) AS cc, trunc(alertFlux) AS t, trunc(nSources) AS ti, floor(nSources) AS fi, floor(1.55) AS fd, ceil(-0.5e0) AS nz', where: '' },
  { select: 'objectId, mod(alertFlux, 7.5) AS m, mod(nSources, -3) AS mi, mod(-7, 3) AS mn, mod(7.5, -2) AS md, mod(diaObjectId, 1000) AS mb, mod(alertMjd, 0.7312) AS phase', where: '' },
  { select: 'objectId, sin(radians(ra)) AS s, cos(radians(decl)) AS c, tan(decl / 100) AS t, asin(decl / 90) AS as_, acos(alertMag / 20) AS ac, atan(alertSnr) AS a, atan2(decl, ra) AS a2, degrees(pi()) AS d', where: '' },
  { select: 'objectId, greatest(latestMag_g, latestMag_r, latestMag_i) AS g, least(latestMag_g, NULL, latestMag_r) AS l, greatest(objectId, survey) AS gt, least(\'B\', \'a\', alertBand) AS lt, greatest(nSources, 2.5) AS gd', where: '' },
  { select: 'objectId, isnan(alertFlux / 0 * 0) AS n, isinf(alertFlux / 0) AS i, isfinite(alertMag) AS f, isnan(nSources) AS ni, isinf(NULL) AS nn', where: '' },
  { select: 'objectId, nullif(nSources, 1) AS n, nullif(alertBand, \'r\') AS b, ifnull(latestMag_u, 99) AS u, coalesce(latestMag_u, latestMag_g, -1) AS c, ifnull(alertBand, \'none\') AS t', where: 'alertBand <> \'x\'' },
  { select: 'objectId, lower(objectId) AS lo, upper(objectId) AS up, upper(alertBand) AS ub, length(objectId) AS n, trim(\'  \' || alertBand || \'  \') AS t, ltrim(\'  x \') AS l, rtrim(\' x  \') AS r', where: '' },
  { select: 'objectId, substr(objectId, 2, 3) AS a, substr(objectId, -3) AS b, substr(objectId, 0, 2) AS c, substring(objectId, 3, -2) AS d, left(objectId, 4) AS e, right(objectId, -2) AS f, left(objectId, -100) AS g', where: '' },
  { select: 'objectId, starts_with(objectId, \'ZTF\') AS s, ends_with(objectId, \'5\') AS e, contains(objectId, \'aa\') AS c, contains(objectId, \'\') AS ce', where: '' },
  { select: 'objectId, concat(objectId, \'-\', ra, \'-\', nSources, NULL, TRUE, 1.50, diaObjectId) AS c, objectId || NULL AS n, survey || \':\' || alertMag AS m, alertFlux || \'\' AS ft', where: '' },
  { select: 'objectId, regexp_matches(objectId, \'^ZTF\\d{2}[a-z]+$\') AS z, regexp_matches(objectId, \'\\bZTF\') AS b, regexp_matches(alertBand, \'^[gr]$\') AS g, regexp_matches(objectId, \'5.\') AS d, regexp_matches(objectId, \'(?:ab|cd)|\\s\') AS alt, regexp_matches(objectId, \'^\\w+\\W\') AS w', where: '' },
  { select: 'objectId, mjdnow() - alertMjd > 365 AS old, round(mjdnow()) > 60000 AS now_', where: 'mjdnow() > alertMjd' },
  { select: 'objectId, flux2mag(alertFlux) AS m, flux2mag(latestFlux_r) AS mr, angdist(ra, decl, 150.1, 2.2) AS sep, angdist(ra, decl, ra + 0.001, decl) AS tiny, angdist(10, 20, 190, -20) AS far', where: '' },
];

const OPERATOR_FILTERS: FilterSource[] = [
  { select: 'objectId, alertFlux / alertFluxErr AS snr, nSources / 2 AS half, nSources // 3 AS q, nSources % 3 AS r, -nSources % 3 AS nr, alertFlux % 7.5 AS fm', where: '' },
  { select: 'objectId, alertFlux // 0 AS fz, alertFlux / 0 AS inf, 0 / 0 * alertFlux AS nan_, nSources // 0 AS zi, nSources % 0 AS zm, alertFlux % 0 AS fzm, 1.5 % 0 AS dzm', where: '' },
  { select: 'objectId, alertFlux / (nSources - nSources) AS z, -7 // 2 AS a, 7 // -2 AS b, -7.5 // 2 AS c, diaObjectId // 7 AS d, diaObjectId % 1000 AS e, diaObjectId + 1 AS f', where: 'diaObjectId IS NOT NULL AND diaObjectId < 9223372036854775807' },
  { select: 'objectId, 1 / 3 AS third, 0.1 + 0.2 AS dec_, 0.1e0 + 0.2e0 AS dbl, 1.5 * 2.00 AS scale, 12345678901234567.89 * 2 AS big, 1e0 / 3 * 3 = 1 AS exact', where: 'nSources > 1' },
  { select: 'objectId', where: 'alertFlux / alertFluxErr > 5 AND flux2mag(alertFlux) < 20' },
  { select: 'objectId, nSources', where: 'nSources' },
  { select: 'objectId', where: 'objectId < \'ZTF19\' AND objectId > \'Z\'' },
  { select: 'objectId, alertBand', where: 'alertBand BETWEEN \'a\' AND \'h\' OR alertBand > \'Y\'' },
  { select: 'objectId, objectId LIKE \'ZTF%\' AS l1, objectId LIKE \'%5_\' AS l2, objectId NOT LIKE \'1%\' AS l3, survey ILIKE \'LS%\' AS i1, objectId ILIKE \'%aa%\' AS i2, objectId LIKE \'%.%\' AS dot, objectId ILIKE \'éclair%\' AS accent, objectId LIKE \'%\\_%\' AS underscore', where: '' },
  { select: 'objectId, alertBand IN (\'g\', \'r\') AS a, nSources IN (1, 2, 3) AS b, nSources NOT IN (1, NULL) AS c, nSources IN (\'2\', 3.0) AS d, nSources IN (\'2.5\', 7) AS e, alertBand IN (\'Y\', NULL) AS f', where: '' },
  { select: 'objectId, nSources BETWEEN 2 AND 5 AS a, alertMag NOT BETWEEN 18 AND 20 AS b, nSources BETWEEN \'2\' AND 5.5 AS c', where: '' },
  { select: 'objectId, (nSources > 2) = TRUE AS a, NOT (alertMag < 20) AS b, (alertMag < 20) IS DISTINCT FROM (nSources > 2) AS c, latestMag_u IS NOT DISTINCT FROM NULL AS d, alertMag = NULL AS e, (nSources > 2) = 1 AS f, (nSources > 2) < 2 AS g', where: '' },
  { select: 'objectId, CASE WHEN alertMag < 19 THEN \'bright\' WHEN alertMag < 21 THEN \'medium\' ELSE \'faint\' END AS c, CASE WHEN nSources > 2 THEN 1 ELSE 2.5 END AS d, CASE alertBand WHEN \'g\' THEN 1 END AS e, CASE WHEN nSources > 2 THEN nSources ELSE alertFlux END AS f, CASE WHEN FALSE THEN nSources ELSE \'3.7\' END AS g', where: '' },
  { select: 'objectId, nSources = \'3\' AS a, nSources = \'2.5\' AS b, alertMag < \'20.5\' AS c, alertBand = \'g\' AS d, diaObjectId = \'42\' AS e', where: '' },
  { select: 'objectId, CAST(nSources AS DOUBLE) AS a, CAST(alertMag AS INTEGER) AS b, CAST(alertMag AS DECIMAL(6, 2)) AS c, CAST(alertFlux AS BIGINT) AS d, TRY_CAST(objectId AS BIGINT) AS e, CAST(ra AS VARCHAR) AS f, CAST(nSources AS VARCHAR) AS g', where: 'abs(alertFlux) < 1e12 AND abs(alertMag) < 1000' },
  { select: 'objectId, CAST(nSources > 2 AS INTEGER) AS a, CAST(alertBand = \'g\' AS VARCHAR) AS b, CAST(\'1.5\' AS DOUBLE) AS c, TRY_CAST(alertBand AS INTEGER) AS d, TRY_CAST(alertMag AS TINYINT) AS e, TRY_CAST(nSources AS SMALLINT) AS f, CAST(diaObjectId AS HUGEINT) AS g, CAST(3 AS TINYINT) AS h', where: '' },
  { select: 'objectId, CAST(alertMag AS FLOAT) AS a, CAST(alertMag AS FLOAT) * 3 AS b, CAST(alertFlux AS FLOAT) / 7 AS c, round(CAST(alertMag AS FLOAT), 1) AS d, CAST(CAST(alertMag AS FLOAT) AS DOUBLE) AS e', where: '' },
  { select: 'objectId, TRY_CAST(alertMag AS DECIMAL(4, 2)) AS a, TRY_CAST(objectId AS DOUBLE) AS b, TRY_CAST(objectId AS BOOLEAN) AS c, CAST(nSources AS BOOLEAN) AS d, CAST(alertMag * 1000 AS DECIMAL(18, 3)) AS e, CAST(CAST(alertMag AS DECIMAL(9, 4)) AS VARCHAR) AS f', where: 'abs(alertMag) < 1000' },
  { select: 'objectId, diaObjectId, alertSourceId', where: 'diaObjectId = 9223372036854775807 OR alertSourceId > 9007199254740993 OR diaObjectId = 9007199254740993' },
  { select: 'objectId, 169760235333878021 AS id, 99999999999999999999 AS huge, -0.25 AS neg, 1e5 AS dbl, TRUE AS t, NULL AS n', where: 'nSources >= 0' },
];

const EXAMPLE_FILTERS: FilterSource[] = [
  ...DEMO_FILTERS.map((f) => ({ select: f.select, where: f.where ?? '' })),
  { select: 'diaObjectId, ra, decl, alertMag, alertSnr', where: 'alertFlux / alertFluxErr > 5 AND flux2mag(alertFlux) < 20' },
  { select: 'diaObjectId, latestMag_g - latestMag_r AS colour, nNights', where: 'latestMag_r < 19 AND latestMag_g - latestMag_r > 0.5 AND nNights >= 2' },
  { select: 'diaObjectId, ra, decl, angdist(ra, decl, 150.1, 2.2) AS sep', where: 'angdist(ra, decl, 150.1, 2.2) < 30 AND lastDiaSourceMjd > mjdnow() - 2' },
  { select: '*', where: 'riseRate_g > 0.1 AND abs(glat) > 20 AND ssObjectId IS NULL' },
  { select: '*', where: '' },
];

test('the stores hold the same objects; the PostgreSQL database orders text by English rules', async () => {
  const rows = await same({ select: '*', where: '' });
  assert.equal(rows, objectCount);
  const order = await postgres?.queryObjects("SELECT 'a' < 'B' AS english");
  assert.equal(order?.rows[0]?.english, true);
});

test('every function of the filter language gives the same values on both stores', async () => {
  const texts = FUNCTION_FILTERS.map((f) => `${f.select} ${f.where}`.toLowerCase());
  const missing = [...allowedFunctions.keys()].filter((name) => !texts.some((t) => new RegExp(`\\b${name}\\(`).test(t)));
  assert.deepEqual(missing, [], 'functions not covered');
  for (const source of FUNCTION_FILTERS) assert.ok((await same(source)) > 0, JSON.stringify(source));
});

test('operators, comparisons, casts and literals agree, edge values included', async () => {
  for (const source of OPERATOR_FILTERS) assert.ok((await same(source)) >= 0, `${JSON.stringify(source)} failed on both stores`);
});

test('the example filters and the benchmark mix agree', async () => {
  let matched = 0;
  for (const source of [...EXAMPLE_FILTERS, ...benchFilters(100, 'dialects').map((f) => ({ select: f.select, where: f.where }))]) matched += Math.max(0, await same(source));
  assert.ok(matched > 0);
});

test('filters outside what both stores can answer alike are refused, or left to DuckDB only where said', async () => {
  const refused: [FilterSource, RegExp][] = [
    [{ select: 'objectId', where: "regexp_matches(objectId, '(?i)ztf')" }, /flags and named groups/],
    [{ select: 'objectId', where: "regexp_matches(objectId, '[[:alpha:]]')" }, /POSIX classes/],
    [{ select: 'objectId', where: "regexp_matches(objectId, '\\pL')" }, /\\p is not supported/],
    [{ select: 'objectId', where: "regexp_matches(objectId, 'a{x')" }, /must start a count/],
  ];
  for (const [source, message] of refused) {
    const result = await parseFilter(source, catalog());
    assert.ok(isFilterErrors(result), `${JSON.stringify(source)} compiled`);
    assert.match(result[0]?.message ?? '', message);
  }
  const floatText = await compile({ select: "concat('x', CAST(alertMag AS FLOAT)) AS t", where: '' });
  assert.equal(floatText.postgres, undefined);
  assert.match(floatText.postgresProblem ?? '', /FLOAT/);
  assert.throws(() => filterSqlFor(floatText, 'postgres'), /cannot run on the PostgreSQL store: FLOAT/);
  if (postgres === undefined) assert.fail('stores not open');
  await assert.rejects(findStoredMatches(postgres, floatText, 10), /cannot run on the PostgreSQL store: FLOAT/);
  if (duck === undefined) assert.fail('stores not open');
  assert.ok((await findStoredMatches(duck, floatText, 10)).matches.length > 0);
});

// Random filters from a grammar of the whole language: the strongest check that the two forms
// agree, on combinations no list would think of.
function randomFilters(count: number, seed: number): FilterSource[] {
  let state = seed;
  const random = (): number => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const numbers = ['ra', 'decl', 'nSources', 'alertMag', 'alertFlux', 'latestFlux_r', 'latestMag_g', 'diaObjectId', 'alertMjd', 'nNights'];
  const literals = ['1', '-2', '19.5', '-0.25', '1e5', '2.5E-3', '0', '7', '3.75', '0.0'];
  const texts = ['objectId', 'alertBand', 'survey', "'SN'", "'ZTF'", "'é'", "''"];
  const num = (d: number): string => {
    if (d <= 0 || random() < 0.3) return random() < 0.6 ? pick(numbers) : pick(literals);
    switch (Math.floor(random() * 10)) {
      case 0: return `${num(d - 1)} ${pick(['+', '-', '*', '/', '//', '%'])} ${num(d - 1)}`;
      case 1: return `(${num(d - 1)}) ${pick(['^', '**'])} ${pick(['2', '0.5', '-1', '3'])}`;
      case 2: return `-(${num(d - 1)})`;
      case 3: return `${pick(['abs', 'floor', 'ceil', 'trunc', 'sin', 'radians', 'flux2mag', 'round', 'sign', 'sqrt', 'ln', 'log10', 'cbrt', 'atan'])}(${num(d - 1)})`;
      case 4: return `${pick(['greatest', 'least', 'coalesce', 'pow', 'atan2', 'nullif', 'ifnull', 'mod', 'round'])}(${num(d - 1)}, ${random() < 0.5 ? num(d - 1) : pick(['1', '2', '-1', '0', '3'])})`;
      case 5: return `CASE WHEN ${bool(d - 1)} THEN ${num(d - 1)}${random() < 0.5 ? ` ELSE ${num(d - 1)}` : ''} END`;
      case 6: return `CAST(${num(d - 1)} AS ${pick(['DOUBLE', 'INTEGER', 'BIGINT', 'DECIMAL(10,3)', 'SMALLINT'])})`;
      case 7: return `TRY_CAST(${pick([num(d - 1), text(d - 1)])} AS ${pick(['INTEGER', 'DOUBLE', 'DECIMAL(6,2)', 'TINYINT'])})`;
      case 8: return `${pick(['greatest', 'least'])}(${num(d - 1)}, ${num(d - 1)}, ${num(d - 1)})`;
      default: return `length(${text(d - 1)})`;
    }
  };
  const text = (d: number): string => {
    if (d <= 0 || random() < 0.35) return pick(texts);
    return pick([
      `lower(${text(d - 1)})`, `upper(${text(d - 1)})`, `${text(d - 1)} || ${text(d - 1)}`, `substr(${text(d - 1)}, ${pick(['1', '2', '-2', '0'])}, ${pick(['2', '-1', '3'])})`,
      `concat(${text(d - 1)}, ${num(d - 1)})`, `trim(${text(d - 1)})`, `left(${text(d - 1)}, ${pick(['2', '-1'])})`, `right(${text(d - 1)}, 3)`,
      `CAST(${num(d - 1)} AS VARCHAR)`, `CASE WHEN ${bool(d - 1)} THEN ${text(d - 1)} ELSE ${text(d - 1)} END`, `greatest(${text(d - 1)}, ${text(d - 1)})`,
    ]);
  };
  const bool = (d: number): string => {
    if (d <= 0 || random() < 0.2) return pick(['TRUE', 'FALSE', `${pick(numbers)} > 1`, "alertBand = 'g'", 'diaObjectId IS NULL']);
    switch (Math.floor(random() * 10)) {
      case 0: return `${num(d - 1)} ${pick(['=', '<>', '<', '>', '<=', '>='])} ${num(d - 1)}`;
      case 1: return `${bool(d - 1)} ${pick(['AND', 'OR'])} ${bool(d - 1)}`;
      case 2: return `NOT (${bool(d - 1)})`;
      case 3: return `${num(d - 1)} ${pick(['BETWEEN', 'NOT BETWEEN'])} ${num(d - 1)} AND ${num(d - 1)}`;
      case 4: return `${num(d - 1)} ${pick(['IN', 'NOT IN'])} (${num(d - 1)}, ${pick(literals)})`;
      case 5: return `${num(d - 1)} IS ${pick(['', 'NOT '])}NULL`;
      case 6: return `${text(d - 1)} ${pick(['LIKE', 'NOT LIKE', 'ILIKE', 'NOT ILIKE'])} ${pick(["'S%'", "'%a_'", "'z%'", "'%'"])}`;
      case 7: return `${pick(['starts_with', 'ends_with', 'contains', 'regexp_matches'])}(${text(d - 1)}, ${pick(["'a'", "'Z'", "'^[a-z]'", "'1'"])})`;
      case 8: return `${text(d - 1)} ${pick(['<', '>', '=', '<='])} ${text(d - 1)}`;
      default: return `(${bool(d - 1)}) IS ${pick(['', 'NOT '])}${pick(['TRUE', 'FALSE', 'DISTINCT FROM NULL'])}`;
    }
  };
  return Array.from({ length: count }, () => ({ select: `${num(3)} AS a, ${text(2)} AS b, ${bool(2)} AS c`, where: bool(3) }));
}

test('random filters give the same rows and values on both stores', async () => {
  let compared = 0;
  for (const source of randomFilters(300, 20_261_122)) {
    const rows = await same(source);
    if (rows >= 0) compared++;
  }
  assert.ok(compared > 200, `only ${compared} random filters ran`);
});

test('the cone searches and object lists of the API and the pages give the same rows on both stores', async () => {
  if (duck === undefined || postgres === undefined) assert.fail('stores not open');
  const rowsOf = async (store: Store, sql: string, params: (string | number)[]): Promise<Record<string, unknown>[]> => (await store.queryObjects(sql, { params, rowLimit: 500 })).rows;
  const compare = (d: Record<string, unknown>[], p: Record<string, unknown>[], what: string): void => {
    assert.equal(p.length, d.length, `${what}: row counts differ`);
    d.forEach((row, i) => {
      for (const [column, value] of Object.entries(row)) {
        const problem = difference(value, p[i]?.[column]);
        if (problem !== undefined) assert.fail(`${what}, row ${i}, ${column}: ${problem}: DuckDB ${show(value)}, PostgreSQL ${show(p[i]?.[column])}`);
      }
    });
  };
  // Cones around a real object, around the edge rows at the pole and at ra 0, and one that holds nothing.
  const cones = [
    { ra: 150.1, dec: 2.2, radius: 3600 },
    { ra: 0, dec: -90, radius: 60 },
    { ra: 180, dec: 45, radius: 1 },
    { ra: 10, dec: 10, radius: 0.001 },
  ];
  let found = 0;
  for (const cone of cones) {
    const limits = { maxRows: 500, timeLimitMs: 60_000 };
    const [d, p] = [await coneSearch(duck, cone, 500, limits), await coneSearch(postgres, cone, 500, limits)];
    compare(d.rows, p.rows, `API cone ${JSON.stringify(cone)}`);
    const page = { ra: cone.ra, dec: cone.dec, radiusArcsec: cone.radius };
    const [dp, pp] = [coneSql(page, 200, 'duckdb'), coneSql(page, 200, 'postgres')];
    compare(await rowsOf(duck, dp.sql, dp.params as number[]), await rowsOf(postgres, pp.sql, pp.params as number[]), `page cone ${JSON.stringify(cone)}`);
    found += d.rows.length;
  }
  assert.ok(found > 0, 'no cone found anything');
  for (const id of ['9223372036854775807', 'alpha', 'no such object']) {
    compare(await rowsOf(duck, objectListSql('duckdb').byId, [id]), await rowsOf(postgres, objectListSql('postgres').byId, [id]), `objects named ${id}`);
  }
  compare(await rowsOf(duck, objectListSql('duckdb').newest, []), await rowsOf(postgres, objectListSql('postgres').newest, []), 'newest objects');
});
