// The filter service's pure parts: caret lines under the user's text, the query that runs a
// filter over the stored objects (with the object key under names of its own), the Alert rebuilt
// from a stored object, and the settings checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { catalog } from '../src/features/columns.ts';
import type { ObjectRow } from '../src/features/compute.ts';
import { isFilterErrors, parseFilter, type CompiledFilter } from '../src/filters/index.ts';
import type { Lightcurve, Point } from '../src/formats/alert.ts';
import { settingsProblems } from '../src/service/filter-validation.ts';
import { caretLines, formatProblems } from '../src/service/problem-text.ts';
import { storedAlert } from '../src/service/stored-alert.ts';
import { splitMatch, storedMatchesQuery } from '../src/service/stored-matches.ts';
import type { StoredAlert } from '../src/store/store.ts';

async function compile(select: string, where: string): Promise<CompiledFilter> {
  const compiled = await parseFilter({ select, where }, catalog());
  if (isFilterErrors(compiled)) throw new Error(compiled.map((e) => e.message).join('; '));
  return compiled;
}

test('a problem is shown under the user\'s text with a caret at its position', () => {
  const where = 'mag_r < 19 AND nSourcs > 3';
  assert.deepEqual(caretLines('where', where, 15, 'unknown column "nSourcs" — did you mean "nSources"?'), [
    'where: mag_r < 19 AND nSourcs > 3',
    '                      ^ unknown column "nSourcs" — did you mean "nSources"?',
  ]);
  // The caret is under character 15 of the text: 'where: '.length + 15.
  const caret = caretLines('where', where, 15, 'x')[1] ?? '';
  assert.equal(caret.indexOf('^'), 'where: '.length + 15);
  assert.equal(where[15], 'n');
});

test('carets in multi-line text, under tabs, past the end, and after a character outside the BMP', () => {
  const text = 'alertMag < 19\n\tAND nSourcs > 3';
  const offset = text.indexOf('nSourcs');
  assert.deepEqual(caretLines('where', text, offset, 'm'), ['where (line 2): \tAND nSourcs > 3', `${' '.repeat('where (line 2): '.length)}\t    ^ m`]);
  assert.deepEqual(caretLines('where', 'alertMag <', 10, 'syntax error at end of input'), ['where: alertMag <', `${' '.repeat(7 + 10)}^ syntax error at end of input`]);
  const emoji = "'🔭' || x";
  const at = emoji.indexOf('x');
  assert.equal(at, 8, 'the telescope takes two UTF-16 units');
  assert.equal((caretLines('select', emoji, at, 'm')[1] ?? '').indexOf('^'), 'select: '.length + 7, 'and one column');
});

test('problems of every part are formatted; tables point at the table named', () => {
  const lines = formatProblems(
    [
      { part: 'select', offset: 13, message: 'unknown column "rra"' },
      { part: 'tables', offset: 1, message: 'unknown table "sherlok"' },
      { part: 'name', offset: 0, message: 'a filter needs a name' },
    ],
    { select: 'diaObjectId, rra', tables: ['watchlist', 'sherlok'] },
  );
  assert.deepEqual(lines, [
    'select: diaObjectId, rra',
    `${' '.repeat(8 + 13)}^ unknown column "rra"`,
    'tables: watchlist, sherlok',
    `${' '.repeat(8 + 11)}^ unknown table "sherlok"`,
    'name: a filter needs a name',
  ]);
});

test('the stored-objects query adds the key under names that do not clash with the filter\'s, newest alert first', async () => {
  const filter = await compile('objectId, survey, 1 AS __nightjar_survey', 'alertMag < 19');
  const query = storedMatchesQuery(filter, 40);
  assert.deepEqual(query.keyNames, { survey: '___nightjar_survey', objectKind: '__nightjar_objectKind', objectId: '__nightjar_objectId' });
  assert.ok(query.sql.startsWith(`SELECT ${filter.parts.select}, "objects"."survey" AS "___nightjar_survey"`));
  assert.ok(query.sql.endsWith(`WHERE ${filter.parts.where ?? ''} ORDER BY "objects"."alertMjd" DESC NULLS LAST, "objects"."survey", "objects"."objectKind", "objects"."objectId" LIMIT 40`));
  const match = splitMatch({ objectId: '42', survey: 'lsst', __nightjar_survey: 1, ___nightjar_survey: 'lsst', __nightjar_objectKind: 'object', __nightjar_objectId: '42' }, query, filter.columns);
  assert.deepEqual(match, { row: { objectId: '42', survey: 'lsst', __nightjar_survey: 1 }, key: { survey: 'lsst', objectKind: 'object', objectId: '42' } });
  assert.throws(() => splitMatch({ objectId: '42' }, query, filter.columns), /has no key/);

  const everything = storedMatchesQuery(await compile('diaObjectId', ''), 10);
  assert.ok(!everything.sql.includes('WHERE'));
});

function point(sourceId: bigint, mjd: number, flux: number): Point {
  return { sourceId, mjd, band: 'r', flux, fluxErr: 10, mag: 31.4 - 2.5 * Math.log10(flux), magErr: 0.01, reliability: 0.9, scienceFlux: null, scienceFluxErr: null, ra: 10.5, dec: -20.25 };
}

test('the Alert rebuilt from a stored object: the objects row\'s triggering detection, the stored lightcurve, BigInt ids', () => {
  const id = 169760235333878021n;
  const lightcurve: Lightcurve = { detections: [point(1n, 61000, 1000), point(2n, 61001, 2000)], forced: [], upperLimits: [] };
  const object: ObjectRow = {
    objectId: String(id), diaObjectId: id, survey: 'lsst', objectKind: 'object', ra: 10.4, decl: -20.2,
    alertSourceId: 2n, alertMjd: 61001, alertBand: 'r', alertFlux: 2000, alertFluxErr: 10, alertMag: 23.1, alertSnr: 200,
  };
  const newest: StoredAlert = { survey: 'lsst', objectKind: 'object', objectId: String(id), sourceId: 2n, alertId: null, mjd: 61001, band: 'r', schema: 'lsst.v10_0.alert', origin: null, storedAt: '2026-01-01T00:00:00.000Z' };
  const alert = storedAlert(object, lightcurve, newest);
  assert.ok(alert !== undefined);
  assert.equal(alert.objectId, id);
  assert.equal(alert.sourceId, 2n);
  assert.deepEqual([alert.ra, alert.dec], [10.5, -20.25], 'position of the triggering detection');
  assert.deepEqual([alert.mjd, alert.band, alert.flux, alert.fluxErr, alert.mag, alert.magErr, alert.reliability, alert.snr], [61001, 'r', 2000, 10, 23.1, 0.01, 0.9, 200]);
  assert.equal(alert.schema, 'lsst.v10_0.alert');
  assert.equal(alert.timeScale, 'TAI');
  assert.equal(alert.lightcurve, lightcurve);
  assert.equal(alert.record.diaObjectId, id);

  const ztf = storedAlert({ ...object, survey: 'ztf', objectId: 'ZTF26aamcbly', diaObjectId: null }, lightcurve, undefined);
  assert.equal(ztf?.objectId, 'ZTF26aamcbly');
  assert.equal(ztf?.timeScale, 'UTC');
  assert.equal(ztf?.schema, 'unknown');
  assert.equal(storedAlert(null, lightcurve, newest), undefined);
  assert.equal(storedAlert({ ...object, alertSourceId: null, alertMjd: null }, lightcurve, undefined), undefined);
});

test('settings problems: name, output, description, flags, tables', () => {
  assert.deepEqual(settingsProblems({ name: 'ok', output: 'kafka' }, true), []);
  assert.deepEqual(settingsProblems({}, false), []);
  const parts = (draft: Parameters<typeof settingsProblems>[0], required = true): string[] => settingsProblems(draft, required).map((p) => p.part);
  assert.deepEqual(parts({}), ['name']);
  assert.deepEqual(parts({ name: '   ' }), ['name']);
  assert.deepEqual(parts({ name: 'é!', output: 'kafka' }), ['name'], 'nothing left for a topic name');
  assert.deepEqual(parts({ name: 'é!', output: 'email' }), [], 'no topic needed');
  assert.deepEqual(parts({ name: 'a\u0007b' }), ['name']);
  assert.deepEqual(parts({ name: 'x', output: 'kafka-json' }), ['output']);
  assert.deepEqual(parts({ name: 'x', description: 5, public: 'yes', active: 1, tables: 'objects' }), ['description', 'public', 'active', 'tables']);
});
