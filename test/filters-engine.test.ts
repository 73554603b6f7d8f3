import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { DuckDBInstance } from '@duckdb/node-api';
import { batchColumns, FilterChecker, FilterEngine, isFilterErrors, parseFilter, type Catalog, type CompiledFilter, type FilterResult, type FilterSource } from '../src/filters/index.ts';

const catalog: Catalog = {
  tables: [
    {
      name: 'objects',
      columns: [
        { name: 'diaObjectId', type: 'BIGINT', doc: 'Rubin object id' },
        { name: 'ra', type: 'DOUBLE', unit: 'deg', doc: 'right ascension' },
        { name: 'decl', type: 'DOUBLE', unit: 'deg', doc: 'declination' },
        { name: 'nSources', type: 'INTEGER', doc: 'number of detections' },
        { name: 'latestFlux_g', type: 'DOUBLE', unit: 'nJy', doc: 'latest g flux' },
        { name: 'latestFlux_r', type: 'DOUBLE', unit: 'nJy', doc: 'latest r flux' },
        { name: 'latestFluxErr_r', type: 'DOUBLE', unit: 'nJy', doc: 'error of the latest r flux' },
        { name: 'mag_r', type: 'DOUBLE', unit: 'mag', doc: 'r magnitude' },
        { name: 'classification', type: 'VARCHAR', doc: 'broker class' },
        { name: 'isVariable', type: 'BOOLEAN', doc: 'known variable' },
      ],
    },
    {
      name: 'sherlock',
      joinOn: 'diaObjectId',
      columns: [
        { name: 'diaObjectId', type: 'BIGINT', doc: 'Rubin object id' },
        { name: 'context', type: 'VARCHAR', doc: 'context class' },
        { name: 'separationArcsec', type: 'DOUBLE', unit: 'arcsec', doc: 'distance to host' },
      ],
    },
  ],
};

// Ids above 2^53: a JavaScript number would round them.
const idA = 169760235333878021n;
const idB = 169760235333878022n;
const idC = 9223372036854775807n;

const objects: Record<string, unknown>[] = [
  { diaObjectId: idA, ra: 10, decl: 0, nSources: 5, latestFlux_g: 36310, latestFlux_r: 100000, latestFluxErr_r: 1000, mag_r: 18.9, classification: 'SN', isVariable: false },
  { diaObjectId: idB, ra: 10, decl: 1, nSources: 2, latestFlux_g: -500, latestFlux_r: 20000, latestFluxErr_r: 5000, mag_r: 18.5, classification: 'AGN', isVariable: true },
  { diaObjectId: idC, ra: 200.5, decl: -45, nSources: 12, latestFlux_g: 0, latestFlux_r: 3631e9, latestFluxErr_r: 1e6, mag_r: 15.5, classification: "it's", isVariable: null },
  { diaObjectId: 42n, ra: 359.9, decl: 89.9 },
];
const sherlock: Record<string, unknown>[] = [
  { diaObjectId: idA, context: 'SN', separationArcsec: 0.8 },
  { diaObjectId: idC, context: 'VS', separationArcsec: 0.1 },
];

let engine: FilterEngine;

before(async () => {
  engine = await FilterEngine.create(catalog);
  await engine.loadBatch('objects', objects);
  await engine.loadBatch('sherlock', sherlock);
});

after(() => engine.close());

async function compile(source: FilterSource): Promise<CompiledFilter> {
  const result = await parseFilter(source, catalog);
  if (isFilterErrors(result)) assert.fail(`expected ${JSON.stringify(source)} to compile, got ${JSON.stringify(result)}`);
  return result;
}

async function runOne(source: FilterSource, rowLimit?: number): Promise<FilterResult> {
  const [result] = await engine.run([await compile(source)], rowLimit === undefined ? {} : { rowLimit });
  assert.ok(result !== undefined);
  assert.equal(result.error, undefined, result.error?.message);
  return result;
}

const byId = (a: Record<string, unknown>, b: Record<string, unknown>): number => {
  const x = a.diaObjectId as bigint;
  const y = b.diaObjectId as bigint;
  return x < y ? -1 : x > y ? 1 : 0;
};

test('a filter returns the matching rows with their values; 64-bit ids stay exact BigInt', async () => {
  const result = await runOne({ select: 'diaObjectId, ra, nSources, classification, isVariable, diaObjectId + 0 AS same', where: 'nSources >= 2 AND ra < 100' });
  assert.equal(result.truncated, false);
  assert.deepEqual(result.rows.sort(byId), [
    { diaObjectId: idA, ra: 10, nSources: 5, classification: 'SN', isVariable: false, same: idA },
    { diaObjectId: idB, ra: 10, nSources: 2, classification: 'AGN', isVariable: true, same: idB },
  ]);
  const exact = await runOne({ select: 'diaObjectId', where: 'diaObjectId = 9223372036854775807 OR diaObjectId = 169760235333878022' });
  assert.deepEqual(exact.rows.map((r) => r.diaObjectId).sort(), [idB, idC].sort());
  assert.equal(typeof exact.rows[0]?.diaObjectId, 'bigint');
});

test("the LSST prototype's template filter: signal-to-noise over 5 and brighter than magnitude 20", async () => {
  const result = await runOne({ select: 'diaObjectId, flux2mag(latestFlux_r) AS rmag', where: 'latestFlux_r / latestFluxErr_r > 5 AND flux2mag(latestFlux_r) < 20' });
  const rows = result.rows.sort(byId);
  assert.deepEqual(rows.map((r) => r.diaObjectId), [idA, idC]);
  assert.ok(Math.abs((rows[0]?.rmag as number) - 18.9) < 1e-9);
  assert.ok(Math.abs(rows[1]?.rmag as number) < 1e-3, '3631 Jy is magnitude 0 (to the precision of the 31.4 zero point)');
});

test('flux2mag is -2.5 log10(flux) + 31.4 for flux > 0 and NULL otherwise', async () => {
  const result = await runOne({ select: 'diaObjectId, latestFlux_g, flux2mag(latestFlux_g) AS gmag', where: '' });
  const byFlux = new Map(result.rows.map((r) => [r.diaObjectId, r.gmag]));
  assert.ok(Math.abs((byFlux.get(idA) as number) - (-2.5 * Math.log10(36310) + 31.4)) < 1e-12);
  assert.ok(Math.abs((byFlux.get(idA) as number) - 20) < 1e-4, '36310 nJy (3.631e-5 Jy) is magnitude 20');
  assert.equal(byFlux.get(idB), null, 'negative flux');
  assert.equal(byFlux.get(idC), null, 'zero flux');
  assert.equal(byFlux.get(42n), null, 'missing flux');
});

test('mjdnow() is the current Modified Julian Date', async () => {
  const before = Date.now() / 86_400_000 + 40_587;
  const result = await runOne({ select: 'mjdnow() AS now', where: 'diaObjectId = 42' });
  const after = Date.now() / 86_400_000 + 40_587;
  const now = result.rows[0]?.now as number;
  const slack = 2 / 86_400;
  assert.ok(now >= before - slack && now <= after + slack, `${now} not within [${before}, ${after}]`);
});

test('sqrt/log10/ln of a negative value give NULL instead of failing the filter', async () => {
  const result = await runOne({ select: 'diaObjectId, sqrt(latestFlux_g) AS s, log10(latestFlux_g) AS l, ln(latestFlux_g) AS n', where: 'latestFlux_g IS NOT NULL' });
  const rows = new Map(result.rows.map((r) => [r.diaObjectId, r]));
  assert.ok(Math.abs((rows.get(idA)?.s as number) - Math.sqrt(36310)) < 1e-9);
  assert.ok(Math.abs((rows.get(idA)?.l as number) - Math.log10(36310)) < 1e-12);
  assert.deepEqual([rows.get(idB)?.s, rows.get(idB)?.l, rows.get(idB)?.n], [null, null, null]);
  assert.deepEqual([rows.get(idC)?.s, rows.get(idC)?.l, rows.get(idC)?.n], [0, null, null]);
});

test('angdist gives the angular distance in arcseconds', async () => {
  const result = await runOne({ select: 'diaObjectId, angdist(ra, decl, 10, 0) AS sep', where: 'ra = 10' });
  const sep = new Map(result.rows.map((r) => [r.diaObjectId, r.sep as number]));
  assert.ok(Math.abs(sep.get(idA) ?? NaN) < 1e-6);
  assert.ok(Math.abs((sep.get(idB) ?? NaN) - 3600) < 1e-6);
  const near = await runOne({ select: 'angdist(0, 0, 0.001, 0) AS a, angdist(359.9995, 0, 0.0005, 0) AS b', where: 'diaObjectId = 42' });
  assert.ok(Math.abs((near.rows[0]?.a as number) - 3.6) < 1e-6);
  assert.ok(Math.abs((near.rows[0]?.b as number) - 3.6) < 1e-6, 'across RA 0');
});

test('a filter over a joined table reads the matching pairs', async () => {
  const result = await runOne({ select: 'diaObjectId, context, separationArcsec', where: 'separationArcsec < 1 AND nSources > 3', tables: ['sherlock'] });
  assert.deepEqual(result.rows.sort(byId), [
    { diaObjectId: idA, context: 'SN', separationArcsec: 0.8 },
    { diaObjectId: idC, context: 'VS', separationArcsec: 0.1 },
  ]);
});

test('quoted output names and text are returned as written', async () => {
  const result = await runOne({ select: 'classification AS "x"" FROM objects; --"', where: "classification IN ('it''s', 'a;b')" });
  assert.deepEqual(result.rows, [{ 'x" FROM objects; --': "it's" }]);
});

test('a filter failing at run time reports its id and text; the other filters still return rows', async () => {
  const good = await compile({ id: 'good', select: 'diaObjectId', where: "classification = 'SN'" });
  const bad = await compile({ id: 'bad', select: 'diaObjectId', where: 'CAST(classification AS INTEGER) > 1' });
  const [first, failed, last] = await engine.run([good, bad, good]);
  assert.deepEqual(first?.rows, [{ diaObjectId: idA }]);
  assert.deepEqual(last?.rows, [{ diaObjectId: idA }]);
  assert.equal(failed?.filterId, 'bad');
  assert.deepEqual(failed?.rows, []);
  assert.equal(failed?.error?.kind, 'error');
  assert.match(failed?.error?.reason ?? '', /^Conversion Error: Could not convert string/);
  assert.match(failed?.error?.message ?? '', /^filter bad: Conversion Error: .* — SELECT diaObjectId WHERE CAST\(classification AS INTEGER\) > 1$/);
  assert.equal(failed?.error?.where, 'CAST(classification AS INTEGER) > 1');
});

test('truncation is reported when a filter matches more rows than the row limit', async () => {
  const all = await compile({ select: 'diaObjectId', where: '' });
  const [cut] = await engine.run([all], { rowLimit: 2 });
  assert.equal(cut?.rows.length, 2);
  assert.equal(cut?.truncated, true);
  const [exact] = await engine.run([all], { rowLimit: 4 });
  assert.equal(exact?.rows.length, 4);
  assert.equal(exact?.truncated, false);
});

test('the default row limit is 1000 per filter per batch', async () => {
  const local = await FilterEngine.create(catalog, { parallelQueries: 1 });
  try {
    await local.loadBatch('objects', Array.from({ length: 1500 }, (_, i) => ({ diaObjectId: BigInt(i), ra: i })));
    const [result] = await local.run([await compile({ select: 'diaObjectId', where: 'ra >= 0' })]);
    assert.equal(result?.rows.length, 1000);
    assert.equal(result?.truncated, true);
  } finally {
    await local.close();
  }
});

test('a runaway filter is stopped at its time limit, the others return rows, and the engine stays usable', async () => {
  const local = await FilterEngine.create(catalog);
  try {
    // Every row shares one id, so the join has 20,000 x 20,000 pairs and the condition is never true.
    const n = 20_000;
    await local.loadBatch('objects', Array.from({ length: n }, (_, i) => ({ diaObjectId: 7n, ra: i, nSources: i })));
    await local.loadBatch('sherlock', Array.from({ length: n }, (_, i) => ({ diaObjectId: 7n, separationArcsec: i })));
    const slow = await compile({ id: 'runaway', select: 'objects.diaObjectId', where: 'ra + separationArcsec < -1', tables: ['sherlock'] });
    const fast = await compile({ id: 'quick', select: 'ra', where: 'nSources < 3' });
    const started = performance.now();
    const results = await local.run([slow, fast, slow, fast], { timeLimitMs: 300 });
    const elapsed = performance.now() - started;
    assert.deepEqual(results.map((r) => [r.filterId, r.error?.kind]), [['runaway', 'timeout'], ['quick', undefined], ['runaway', 'timeout'], ['quick', undefined]]);
    const runaway = results[0];
    assert.ok((runaway?.elapsedMs ?? 0) >= 290, `stopped after ${runaway?.elapsedMs} ms`);
    assert.match(runaway?.error?.message ?? '', /^filter runaway: stopped after 300 ms, its time limit — SELECT objects.diaObjectId WHERE ra \+ separationArcsec < -1$/);
    assert.deepEqual(results[1]?.rows.map((r) => r.ra).sort(), [0, 1, 2]);
    assert.ok(elapsed < 5000, `the batch took ${elapsed} ms`);
    const [again] = await local.run([fast]);
    assert.deepEqual(again?.rows.map((r) => r.ra).sort(), [0, 1, 2]);
    // Closing stops a filter that is still running instead of waiting for it.
    const running = local.run([slow]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const closing = performance.now();
    await local.close();
    assert.ok(performance.now() - closing < 3000);
    const [stopped] = await running;
    assert.equal(stopped?.error?.kind, 'error');
    await assert.rejects(local.run([fast]), /filter engine is closed/);
  } finally {
    await local.close();
  }
});

test('loadBatch replaces the batch; a bad value is refused with its place and leaves the old batch', async () => {
  const local = await FilterEngine.create(catalog, { parallelQueries: 1 });
  try {
    await local.loadBatch('objects', objects);
    await local.loadBatch('objects', [{ diaObjectId: 1n, ra: 1 }, { diaObjectId: 2, ra: 2 }]);
    assert.equal(await local.count('objects'), 2);
    await assert.rejects(
      local.loadBatch('objects', [{ diaObjectId: 3n }, { diaObjectId: Number('169760235333878021') }]),
      /^Error: batch for table objects, row 1, column diaObjectId \(BIGINT\): \d+ is not an exact integer; 64-bit values must be BigInt$/,
    );
    await assert.rejects(local.loadBatch('objects', [{ diaObjectId: 3n, nSources: 2.5 }]), /row 0, column nSources \(INTEGER\): expected a 32-bit integer, got number 2.5/);
    await assert.rejects(local.loadBatch('objects', [{ diaObjectId: 3n, ra: '1' }]), /column ra \(DOUBLE\): expected a number, got string/);
    await assert.rejects(local.loadBatch('nothing', []), /no table "nothing"/);
    assert.equal(await local.count('objects'), 2);
    const [result] = await local.run([await compile({ select: 'diaObjectId', where: '' })]);
    assert.deepEqual(result?.rows.sort(byId), [{ diaObjectId: 1n }, { diaObjectId: 2n }]);
  } finally {
    await local.close();
  }
});

test('batchColumns checks rows against the catalog types and returns them column by column', () => {
  const table = catalog.tables[1];
  assert.ok(table !== undefined);
  assert.deepEqual(batchColumns(table, [{ diaObjectId: idA, context: 'SN' }, { diaObjectId: 5, separationArcsec: 0.5 }]), [
    [idA, 5n],
    ['SN', null],
    [null, 0.5],
  ]);
  assert.throws(() => batchColumns(table, [{ diaObjectId: 2n ** 64n }]), /row 0, column diaObjectId \(BIGINT\): 18446744073709551616 is outside the 64-bit range/);
  assert.throws(() => batchColumns(table, [{ diaObjectId: 1n, context: 7 }]), /column context \(VARCHAR\): expected a string, got number 7/);
});

test('the filter database cannot read files even for SQL that bypassed the compiler', async () => {
  const forged: CompiledFilter = {
    id: 'forged',
    sql: "SELECT * FROM read_csv('/etc/passwd')",
    columns: [],
    tables: [],
    source: { select: '*', where: '', tables: [] },
    parts: { select: '*', from: "read_csv('/etc/passwd')", where: undefined },
  };
  const [result] = await engine.run([forged]);
  assert.equal(result?.error?.kind, 'error');
  assert.match(result?.error?.reason ?? '', /^Permission Error: .*disabled by configuration/);
});

test('the checker finds type errors before a filter is saved', async () => {
  const checker = await FilterChecker.create(catalog);
  try {
    assert.deepEqual(await checker.check(await compile({ select: 'diaObjectId, flux2mag(latestFlux_r) AS m', where: "classification = 'SN' AND ra > 1" })), []);
    const [text] = await checker.check(await compile({ select: 'ra', where: "ra = 'abc'" }));
    assert.equal(text?.part, 'where');
    assert.match(text?.message ?? '', /Could not convert string 'abc' to DOUBLE \(in WHERE\)$/);
    const [lower] = await checker.check(await compile({ select: 'lower(ra) AS l', where: '' }));
    assert.equal(lower?.part, 'select');
    assert.match(lower?.message ?? '', /lower\(DOUBLE\)/);
  } finally {
    await checker.close();
  }
});

// Random filters from a small grammar: the compiled SQL (rewritten by Nightjar) must give the
// same rows as DuckDB running the user's text directly. This checks that rewriting keeps
// precedence, literal types and function meaning.
function randomFilters(count: number, seed: number): FilterSource[] {
  let state = seed;
  const random = (): number => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const columns = ['ra', 'decl', 'nSources', 'mag_r', 'latestFlux_g', 'objects.latestFlux_r'];
  const literals = ['1', '-2', '19.5', '-0.25', '1e5', '2.5E-3', '169760235333878021', '0', '12345678901234567890.5', '1_000'];
  const num = (d: number): string => {
    if (d <= 0 || random() < 0.3) return random() < 0.6 ? pick(columns) : pick(literals);
    switch (Math.floor(random() * 8)) {
      case 0: return `${num(d - 1)} ${pick(['+', '-', '*', '/', '//', '%', '^', '**'])} ${num(d - 1)}`;
      case 1: return `(${num(d - 1)})`;
      case 2: return `-(${num(d - 1)})`;
      case 3: return `${pick(['abs', 'floor', 'ceil', 'sin', 'radians', 'flux2mag', 'round', 'sign'])}(${num(d - 1)})`;
      case 4: return `${pick(['greatest', 'least', 'coalesce', 'pow', 'atan2', 'nullif', 'ifnull'])}(${num(d - 1)}, ${num(d - 1)})`;
      case 5: return `CASE WHEN ${bool(d - 1)} THEN ${num(d - 1)}${random() < 0.5 ? ` ELSE ${num(d - 1)}` : ''} END`;
      case 6: return `CAST(${num(d - 1)} AS ${pick(['DOUBLE', 'INTEGER', 'BIGINT', 'DECIMAL(10,3)', 'REAL'])})`;
      default: return `length(${text(d - 1)})`;
    }
  };
  const text = (d: number): string => {
    if (d <= 0 || random() < 0.4) return pick(['classification', "'SN'", "'it''s'", "'é—✓'", '$$x;y$$', "'--'"]);
    return pick([`lower(${text(d - 1)})`, `${text(d - 1)} || ${text(d - 1)}`, `substr(${text(d - 1)}, 1, 2)`, `concat(${text(d - 1)}, ${num(d - 1)})`, `trim(${text(d - 1)})`]);
  };
  const bool = (d: number): string => {
    if (d <= 0 || random() < 0.2) return pick(['TRUE', 'FALSE', `${pick(columns)} > 1`, "classification = 'SN'", 'isVariable']);
    switch (Math.floor(random() * 9)) {
      case 0: return `${num(d - 1)} ${pick(['=', '<>', '!=', '<', '>', '<=', '>=', '=='])} ${num(d - 1)}`;
      case 1: return `${bool(d - 1)} ${pick(['AND', 'OR'])} ${bool(d - 1)}`;
      case 2: return `NOT (${bool(d - 1)})`;
      case 3: return `${num(d - 1)} ${pick(['BETWEEN', 'NOT BETWEEN'])} ${num(d - 1)} AND ${num(d - 1)}`;
      case 4: return `${num(d - 1)} ${pick(['IN', 'NOT IN'])} (${num(d - 1)}, ${pick(literals)})`;
      case 5: return `${num(d - 1)} IS ${pick(['', 'NOT '])}NULL`;
      case 6: return `${text(d - 1)} ${pick(['LIKE', 'NOT LIKE', 'ILIKE', 'NOT ILIKE'])} 'S%'`;
      case 7: return `${pick(['starts_with', 'contains', 'regexp_matches'])}(${text(d - 1)}, 'a')`;
      default: return `(${bool(d - 1)}) IS ${pick(['', 'NOT '])}${pick(['TRUE', 'FALSE', 'DISTINCT FROM NULL'])}`;
    }
  };
  return Array.from({ length: count }, () => ({ select: `${num(3)} AS a, ${text(2)} AS b, ${bool(2)} AS c`, where: bool(3) }));
}

test('compiled filters give the same rows as DuckDB running the text as written (150 random filters)', async () => {
  const instance = await DuckDBInstance.create(':memory:');
  const reference = await instance.connect();
  try {
    const columns = catalog.tables[0]?.columns ?? [];
    await reference.run(`CREATE TABLE objects (${columns.map((c) => `"${c.name}" ${c.type}`).join(', ')})`);
    const appender = await reference.createAppender('objects');
    for (const row of objects) {
      for (const c of columns) appender.appendValue((row[c.name] ?? null) as never);
      appender.endRow();
    }
    appender.closeSync();
    await reference.run('CREATE MACRO flux2mag(flux) AS CASE WHEN flux > 0 THEN -2.5 * log10(flux) + 31.4 ELSE NULL END');
    // Row order is not part of a filter's meaning: compare sorted rows.
    const normal = (rows: unknown[]): string =>
      rows
        .map((row) => JSON.stringify(row, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : typeof v === 'number' ? (Number.isNaN(v) ? 'NaN' : Number(v.toPrecision(12))) : v)))
        .sort()
        .join('\n');
    let compared = 0;
    for (const source of randomFilters(150, 20_260_129)) {
      const [ours] = await engine.run([await compile(source)]);
      let expected: unknown[];
      try {
        expected = (await reference.runAndReadAll(`SELECT ${source.select} FROM objects WHERE ${source.where}`)).getRowObjectsJS();
      } catch {
        continue; // DuckDB itself refuses it (e.g. an overflow); nothing to compare.
      }
      assert.equal(ours?.error, undefined, `${JSON.stringify(source)}: ${ours?.error?.message}`);
      assert.equal(normal(ours?.rows ?? []), normal(expected), JSON.stringify(source));
      compared++;
    }
    assert.ok(compared > 100, `only ${compared} filters compared`);
  } finally {
    reference.closeSync();
    instance.closeSync();
  }
});
