import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { allowedFunctions, isFilterErrors, parseFilter, type Catalog, type CompiledFilter, type FilterError, type FilterSource } from '../src/filters/index.ts';
import { findStatementTerminator } from '../src/filters/sql-text.ts';
import { asciiSkeleton, closestName } from '../src/filters/suggest.ts';

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
        { name: 'mag_g', type: 'DOUBLE', unit: 'mag', doc: 'g magnitude' },
        { name: 'mag_r', type: 'DOUBLE', unit: 'mag', doc: 'r magnitude' },
        { name: 'classification', type: 'VARCHAR', doc: 'broker class' },
      ],
    },
    {
      name: 'sherlock',
      joinOn: 'diaObjectId',
      columns: [
        { name: 'diaObjectId', type: 'BIGINT', doc: 'Rubin object id' },
        { name: 'classification', type: 'VARCHAR', doc: 'context class' },
        { name: 'separationArcsec', type: 'DOUBLE', unit: 'arcsec', doc: 'distance to host' },
      ],
    },
    { name: 'notes', columns: [{ name: 'text', type: 'VARCHAR', doc: 'not joinable' }] },
  ],
};

async function compile(source: FilterSource): Promise<CompiledFilter> {
  const result = await parseFilter(source, catalog);
  if (isFilterErrors(result)) assert.fail(`expected ${JSON.stringify(source)} to compile, got ${JSON.stringify(result)}`);
  return result;
}

async function reject(source: FilterSource): Promise<FilterError[]> {
  const result = await parseFilter(source, catalog);
  if (!isFilterErrors(result)) assert.fail(`expected ${JSON.stringify(source)} to be rejected, got ${result.sql}`);
  assert.ok(result.length > 0);
  return result;
}

test('a typical filter compiles to SQL written by Nightjar, with catalog spelling and quoting', async () => {
  const f = await compile({
    id: 'bright',
    select: 'diaObjectId, RA, flux2mag(latestFlux_g) AS gmag, mag_g - mag_r',
    where: 'nsources > 3 AND mag_r < 19.5 -- bright ones\n AND classification = \'it\'\'s\'',
  });
  assert.equal(f.id, 'bright');
  assert.deepEqual(f.columns, ['diaObjectId', 'ra', 'gmag', 'mag_g - mag_r']);
  assert.deepEqual(f.tables, ['objects']);
  assert.equal(
    f.sql,
    'SELECT "objects"."diaObjectId" AS "diaObjectId", "objects"."ra" AS "ra", flux2mag("objects"."latestFlux_g") AS "gmag", ' +
      '("objects"."mag_g" - "objects"."mag_r") AS "mag_g - mag_r" FROM "objects" ' +
      'WHERE (("objects"."nSources" > 3) AND ("objects"."mag_r" < 19.5) AND ("objects"."classification" = \'it\'\'s\'))',
  );
  assert.ok(!f.sql.includes('--') && !f.sql.includes('bright ones'), 'comments do not reach the SQL');
  assert.equal(f.source.where.includes('-- bright ones'), true, 'the source is kept as written');
});

test('an empty WHERE selects every row; the id defaults to a hash of the SQL', async () => {
  const a = await compile({ select: 'ra', where: '  ' });
  const b = await compile({ select: 'ra', where: '' });
  assert.equal(a.sql, 'SELECT "objects"."ra" AS "ra" FROM "objects"');
  assert.match(a.id, /^filter-[0-9a-f]{16}$/);
  assert.equal(a.id, b.id);
});

test('* expands to the catalog columns; joined tables share their join column once', async () => {
  const star = await compile({ select: '*', where: '' });
  assert.deepEqual(star.columns, catalog.tables[0]?.columns.map((c) => c.name));
  const joined = await compile({ select: '*', where: 'separationArcsec < 2', tables: ['sherlock'] });
  assert.deepEqual(joined.columns.slice(7), ['classification', 'sherlock.classification', 'separationArcsec']);
  const one = await compile({ select: 'sherlock.*', where: '', tables: ['sherlock'] });
  assert.deepEqual(one.columns, ['diaObjectId', 'classification', 'separationArcsec']);
  const named = await compile({ select: 'objects.diaObjectId, sherlock.classification AS context, separationArcsec', where: "sherlock.classification = 'SN'", tables: ['objects', 'SHERLOCK'] });
  assert.deepEqual(named.tables, ['objects', 'sherlock']);
  assert.match(named.sql, / FROM "objects" JOIN "sherlock" ON "sherlock"."diaObjectId" = "objects"."diaObjectId" WHERE /);
  assert.deepEqual(named.columns, ['diaObjectId', 'context', 'separationArcsec']);
});

test('literals are rewritten exactly: 64-bit ids, decimals, doubles, negative numbers, booleans', async () => {
  const f = await compile({
    select: 'ra',
    where: 'diaObjectId = 169760235333878021 AND ra > 12345678901234567890.125 AND mag_g < 1e5 AND decl - -1.5 > 0 AND TRUE AND ra > 1.5e-7',
  });
  assert.match(f.sql, /= 169760235333878021\)/);
  assert.match(f.sql, /> 12345678901234567890\.125\)/);
  assert.match(f.sql, /< 100000e0\)/);
  assert.match(f.sql, /- \(-1\.5\)\)/, 'a negative literal is parenthesised so "- -" never becomes a comment');
  assert.match(f.sql, /CAST\('t' AS BOOLEAN\)/);
  assert.match(f.sql, /> 1\.5e-7\)/);
});

test('semicolons and comment markers inside strings and quoted names are text, not syntax', async () => {
  const f = await compile({ select: 'ra AS "x"" FROM objects; --"', where: "classification IN ('a;b', $$c;d$$, '/*', '--')" });
  assert.deepEqual(f.columns, ['x" FROM objects; --']);
  assert.match(f.sql, /AS "x"" FROM objects; --" FROM "objects" WHERE/);
  assert.match(f.sql, /IN \('a;b', 'c;d', '\/\*', '--'\)/);
});

test('domain-limited math compiles to the NULL-safe helpers', async () => {
  const f = await compile({ select: 'sqrt(ra) AS s, ln(ra) AS l, log10(ra) AS t, log2(ra) AS u, asin(decl) AS v, acos(decl) AS w', where: '' });
  for (const helper of ['nj_sqrt', 'nj_ln', 'nj_log10', 'nj_log2', 'nj_asin', 'nj_acos']) assert.ok(f.sql.includes(`${helper}(`), helper);
});

// Each hostile or invalid input, and a pattern its message must match: the message names the problem.
const hostile: [FilterSource, RegExp][] = [
  [{ select: "read_csv('/etc/passwd')", where: '' }, /function "read_csv" is not available/],
  [{ select: "* FROM read_csv('/etc/passwd')", where: '' }, /FROM is not allowed in SELECT/],
  [{ select: 'ra', where: "ra IN (SELECT column0 FROM read_csv('/etc/passwd'))" }, /subqueries .* not allowed/],
  [{ select: 'read_parquet(\'x.parquet\')', where: '' }, /function "read_parquet" is not available/],
  [{ select: "glob('/*')", where: '' }, /function "glob" is not available/],
  [{ select: "COPY objects TO '/tmp/x.csv'", where: '' }, /syntax error at or near "TO"/],
  [{ select: 'ra', where: "1=1; COPY objects TO '/tmp/x.csv'" }, /";" is not allowed in WHERE/],
  [{ select: "ATTACH '/tmp/x.db'", where: '' }, /cast to type ATTACH is not allowed/],
  [{ select: 'ra', where: "ra > 0; ATTACH ':memory:' AS m" }, /";" is not allowed in WHERE/],
  [{ select: 'PRAGMA database_list', where: '' }, /statements such as PRAGMA cannot be used/],
  [{ select: 'ra', where: '1=1; PRAGMA threads=8' }, /";" is not allowed/],
  [{ select: 'INSTALL httpfs', where: '' }, /statements such as INSTALL cannot be used/],
  [{ select: 'ra', where: 'ra > 1; LOAD httpfs' }, /";" is not allowed/],
  [{ select: 'ra', where: '1; DROP TABLE objects' }, /";" is not allowed in WHERE/],
  [{ select: 'ra; SELECT 1', where: '' }, /";" is not allowed in SELECT/],
  [{ select: 'ra', where: 'ra > 1 --\n; DROP TABLE objects' }, /";" is not allowed/],
  [{ select: 'ra', where: 'ra > 1 /* x */; SELECT 1' }, /";" is not allowed/],
  [{ select: 'ra', where: 'ra > 1 /* never closed' }, /unterminated \/\* comment/],
  [{ select: 'ra', where: 'ra > 1) OR (1=1' }, /syntax error at or near "\)"/],
  [{ select: 'ra', where: 'ra > 0 UNION SELECT diaObjectId FROM objects' }, /UNION, EXCEPT and INTERSECT are not allowed/],
  [{ select: 'ra', where: 'ra > (SELECT max(ra) FROM objects)' }, /subqueries .* not allowed/],
  [{ select: 'ra', where: 'diaObjectId IN (SELECT diaObjectId FROM sherlock)' }, /subqueries .* not allowed/],
  [{ select: 'ra', where: 'EXISTS (SELECT 1 FROM duckdb_settings())' }, /subqueries .* not allowed/],
  [{ select: '(SELECT count(*) FROM information_schema.tables) AS n', where: '' }, /subqueries .* not allowed/],
  [{ select: 'information_schema.tables.table_name', where: '' }, /is not a column/],
  [{ select: 'duckdb_settings()', where: '' }, /function "duckdb_settings" is not available/],
  [{ select: "current_setting('threads')", where: '' }, /function "current_setting" is not available/],
  [{ select: "getenv('HOME')", where: '' }, /function "getenv" is not available/],
  [{ select: "system('ls')", where: '' }, /function "system" is not available/],
  [{ select: 'ra', where: 'ra IN (WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t) SELECT n FROM t)' }, /subqueries .* not allowed/],
  [{ select: 'WITH RECURSIVE t(n) AS (SELECT 1) SELECT n FROM t', where: '' }, /syntax error at or near "WITH"/],
  [{ select: 'ra', where: 'nSourсes > 1' }, /unknown column "nSourсes" in WHERE \("с" \(U\+0441\) is not an ASCII letter\) — did you mean "nSources"\?/],
  [{ select: 'ｒａ', where: '' }, /unknown column "ｒａ" .*U\+FF52.* did you mean "ra"\?/],
  [{ select: 'ra', where: 'nSources > 3 AND magg < 19' }, /^unknown column "magg" in WHERE — did you mean "mag_g"\?$/],
  [{ select: 'ra', where: 'classification = "SN"' }, /^unknown column "SN" in WHERE — text goes in single quotes: 'SN'$/],
  [{ select: 'flux2magg(latestFlux_g)', where: '' }, /function "flux2magg" is not available .* did you mean "flux2mag"\?/],
  [{ select: 'ra', where: 'ra > 1 LIMIT 5' }, /LIMIT is not allowed/],
  [{ select: 'ra', where: 'ra > 1 ORDER BY ra' }, /ORDER BY is not allowed/],
  [{ select: 'DISTINCT ra', where: '' }, /DISTINCT is not allowed/],
  [{ select: 'count(*)', where: '' }, /aggregate function count\(\*\) is not allowed/],
  [{ select: 'min(mag_g)', where: '' }, /aggregate function min\(\) .* use least/],
  [{ select: 'row_number() OVER ()', where: '' }, /window functions .* not allowed/],
  [{ select: 'ra', where: 'ra > 1 GROUP BY ra' }, /GROUP BY is not allowed/],
  [{ select: 'ra', where: 'ra > $1' }, /query parameters .* not allowed/],
  [{ select: 'ra', where: "classification COLLATE nocase = 'sn'" }, /COLLATE is not allowed/],
  [{ select: 'ra AS a, decl AS a', where: '' }, /both named "a"/],
  [{ select: '* EXCLUDE (ra)', where: '' }, /EXCLUDE, REPLACE, RENAME or COLUMNS/],
  [{ select: 'ra', where: 'ra > 1', tables: ['objects', 'secrets'] }, /unknown table "secrets"/],
  [{ select: 'ra', where: 'ra > 1', tables: ['notes'] }, /table "notes" cannot be joined/],
  [{ select: 'ra', where: 'separationArcsec < 2' }, /belongs to table "sherlock", which this filter does not read/],
  [{ select: 'ra', where: "classification = 'SN'", tables: ['sherlock'] }, /"classification" in WHERE is ambiguous: write objects.classification or sherlock.classification/],
  [{ select: 'ra', where: 'pg_catalog.abs(ra) > 0' }, /qualified function names \(pg_catalog.abs\)/],
  [{ select: 'system.main.abs(ra)', where: '' }, /qualified function names/],
  [{ select: 'ra', where: 'ra > 1\u0000; DROP TABLE objects' }, /contains a NUL character/],
  [{ select: 'ra', where: `ra > ${'1'.repeat(20_001)}` }, /longer than 20000 characters/],
  [{ select: `${'abs('.repeat(150)}ra${')'.repeat(150)}`, where: '' }, /nested too deeply/],
  [{ select: 'SELECT ra', where: '' }, /leave out the word SELECT/],
  [{ select: 'ra', where: 'WHERE ra > 1' }, /leave out the word WHERE/],
  [{ select: '', where: 'ra > 1' }, /SELECT box is empty/],
  [{ select: 'ra', where: 'ra, decl' }, /WHERE must be one condition/],
  [{ select: 'ra', where: 'ra > 1 AS x' }, /name \(AS \.\.\.\) is not allowed in WHERE/],
  [{ select: '[1, 2] AS l', where: '' }, /lists \(\[\.\.\.\]\) are not supported/],
  [{ select: 'list_transform([1], x -> x + 1)', where: '' }, /function "list_transform" is not available/],
  [{ select: 'ra::DATE', where: '' }, /cast to type DATE is not allowed/],
  [{ select: "repeat('a', 1000000000)", where: '' }, /function "repeat" is not available/],
  [{ select: 'random()', where: '' }, /same answer for the same data/],
  [{ select: 'ra', where: "classification GLOB 'S*'" }, /GLOB is not supported/],
  [{ select: 'ra', where: 'log(ra) > 1' }, /write log10\(x\) or ln\(x\)/],
  [{ select: 'ra', where: "classification = 'a\u0001b'" }, /control character U\+0001/],
  [{ select: '#1', where: '' }, /positional references/],
];

test(`${hostile.length} hostile or invalid filters are rejected with a message naming the problem`, async () => {
  assert.ok(hostile.length >= 30);
  for (const [source, pattern] of hostile) {
    const errors = await reject(source);
    assert.ok(
      errors.some((e) => pattern.test(e.message)),
      `${JSON.stringify(source).slice(0, 120)}: expected a message matching ${pattern}, got ${JSON.stringify(errors)}`,
    );
    for (const e of errors) {
      const text = e.part === 'select' ? source.select : e.part === 'where' ? source.where : '';
      assert.ok(e.offset >= 0 && e.offset <= Math.max(text.length, (source.tables ?? []).length), `offset ${e.offset} out of range`);
    }
  }
});

test('error offsets point into the box the user typed, counted in characters', async () => {
  const [unknown] = await reject({ select: 'ra', where: 'nSources > 3 AND magg < 19' });
  assert.deepEqual(unknown, { message: 'unknown column "magg" in WHERE — did you mean "mag_g"?', part: 'where', offset: 17 });
  // Multi-byte text before the error: DuckDB counts bytes, the box counts characters.
  const where = "classification = 'éé—✓' AND flux2mgg(ra) > 1";
  const [fn] = await reject({ select: 'ra', where });
  assert.equal(fn?.offset, where.indexOf('flux2mgg'));
  const [semicolon] = await reject({ select: 'ra', where: "classification = 'a;b'; DROP TABLE objects" });
  assert.equal(semicolon?.offset, 22);
  const [syntax] = await reject({ select: 'ra, decl +', where: '' });
  assert.equal(syntax?.part, 'select');
  assert.equal(syntax?.offset, 10);
});

test('errors in both boxes are all reported', async () => {
  const errors = await reject({ select: 'magg, decll', where: 'nsources > 1 AND foo(ra)' });
  assert.deepEqual(
    errors.map((e) => [e.part, e.offset]),
    [
      ['select', 0],
      ['select', 6],
      ['where', 17],
    ],
  );
});

test('the statement scanner skips strings, quoted names, dollar quotes and comments', () => {
  assert.equal(findStatementTerminator("a = 'x;y' AND b"), undefined);
  assert.equal(findStatementTerminator('"we;ird" > 1'), undefined);
  assert.equal(findStatementTerminator('a -- ; comment'), undefined);
  assert.equal(findStatementTerminator('a /* ; /* nested ; */ still ; */ > 1'), undefined);
  assert.equal(findStatementTerminator('$$;$$ = $t$;$t$'), undefined);
  assert.equal(findStatementTerminator("E'it\\'s;' = a"), undefined);
  assert.equal(findStatementTerminator("'it''s' ; x"), 8);
  assert.equal(findStatementTerminator('a -- c\n; x'), 7);
  assert.equal(findStatementTerminator('a /* c */; x'), 9);
});

test('suggestions see through look-alike letters and missing underscores', () => {
  assert.equal(asciiSkeleton('nSourсes'), 'nSources');
  assert.equal(asciiSkeleton('ｒａ'), 'ra');
  assert.equal(closestName('magg', ['mag_g', 'mag_r']), 'mag_g');
  assert.equal(closestName('NSOURCE', ['nSources', 'ra']), 'nSources');
  assert.equal(closestName('zzzzzz', ['nSources', 'ra']), undefined);
});

test('docs/filters.md lists every function a filter may call', () => {
  const docs = readFileSync(path.resolve(import.meta.dirname, '../docs/filters.md'), 'utf8');
  for (const name of allowedFunctions.keys()) assert.match(docs, new RegExp(`\`${name}[(\`]`), `${name} is not documented`);
});
