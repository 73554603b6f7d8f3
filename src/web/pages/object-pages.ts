// Objects: the search page (/objects: by id, or a cone of ra/dec/radius; the newest objects
// otherwise) and one object's page (/objects/:survey/:objectId): features, lightcurve plot,
// detections, alerts received, cutouts.
import type { FastifyInstance } from 'fastify';
import type { ObjectKind, Survey } from '../../formats/alert.ts';
import { storedAlert } from '../../service/stored-alert.ts';
import type { ObjectKey, QueryParam, SqlDialect } from '../../store/store.ts';
import { formatValue } from './format.ts';
import { html, type SafeHtml } from './html.ts';
import { cutoutImagePath, objectCutoutRoutes, storedKinds } from './object-cutouts.ts';
import { alertsSection, cutoutsSection, detectionsSection, featuresSection, plotSection } from './object-view.ts';
import type { PageServices } from './page-services.ts';
import { sendMessagePage, sendPage } from './page-reply.ts';

const SURVEYS: readonly Survey[] = ['lsst', 'ztf', 'elasticc', 'plasticc', 'decam', 'winter', 'rapid', 'askap'];
const KINDS: readonly ObjectKind[] = ['object', 'solarSystem', 'source'];
// Hand-written queries here run on either store: quoted column names (PostgreSQL folds unquoted
// ones to lower case), $n placeholders, NULLS LAST spelled out (PostgreSQL's default for DESC is
// NULLS FIRST), and text tie-breakers ordered by code point on PostgreSQL, as DuckDB orders them.
const LIST_COLUMNS = ['survey', 'objectKind', 'objectId', 'ra', 'decl', 'alertMjd', 'alertBand', 'alertMag', 'nSources'].map((c) => `"${c}"`).join(', ');

/** ORDER BY of the object key after `first`: the same order on both stores. */
function keyOrder(first: string, dialect: SqlDialect): string {
  const collate = dialect === 'postgres' ? ' COLLATE "C"' : '';
  return `${first}, "survey"${collate}, "objectKind"${collate}, "objectId"${collate}`;
}
export const MAX_RADIUS_ARCSEC = 3600;

export function objectPath(survey: string, objectId: string, kind?: string): string {
  return `/objects/${encodeURIComponent(survey)}/${encodeURIComponent(objectId)}${kind === undefined || kind === 'object' ? '' : `?kind=${encodeURIComponent(kind)}`}`;
}

export interface ConeQuery {
  ra: number;
  dec: number;
  radiusArcsec: number;
}

/** A cone from the form's text, or a message saying what is wrong with it. */
export function readCone(ra: string | undefined, dec: string | undefined, radius: string | undefined): ConeQuery | string {
  const r = Number(ra);
  const d = Number(dec);
  const rad = radius === undefined || radius.trim() === '' ? 10 : Number(radius);
  if (ra === undefined || ra.trim() === '' || !Number.isFinite(r) || r < 0 || r >= 360) return 'RA must be a number of degrees from 0 to 360';
  if (dec === undefined || dec.trim() === '' || !Number.isFinite(d) || d < -90 || d > 90) return 'Dec must be a number of degrees from −90 to 90';
  if (!Number.isFinite(rad) || rad <= 0 || rad > MAX_RADIUS_ARCSEC) return `the radius must be from 0 to ${MAX_RADIUS_ARCSEC} arcseconds`;
  return { ra: r, dec: d, radiusArcsec: rad };
}

/** The objects named `$1` (objectId), newest first; the newest objects, for the search page with no search. */
export function objectListSql(dialect: SqlDialect): { byId: string; newest: string } {
  return {
    byId: `SELECT ${LIST_COLUMNS} FROM "objects" WHERE "objectId" = $1 ORDER BY ${keyOrder('"alertMjd" DESC NULLS LAST', dialect)} LIMIT 50`,
    newest: `SELECT ${LIST_COLUMNS} FROM "objects" ORDER BY ${keyOrder('"alertMjd" DESC NULLS LAST', dialect)} LIMIT 25`,
  };
}

/** SQL of a cone search; a declination band first lets the store skip most rows before the distance. */
export function coneSql(cone: ConeQuery, limit: number, dialect: SqlDialect = 'duckdb'): { sql: string; params: QueryParam[] } {
  const band = cone.radiusArcsec / 3600;
  const distance = 'angdist("ra", "decl", CAST($1 AS DOUBLE PRECISION), CAST($2 AS DOUBLE PRECISION))';
  return {
    sql: `SELECT ${LIST_COLUMNS}, ${distance} AS "distance" FROM "objects" WHERE "decl" BETWEEN CAST($3 AS DOUBLE PRECISION) AND CAST($4 AS DOUBLE PRECISION) AND ${distance} <= CAST($5 AS DOUBLE PRECISION) ORDER BY ${keyOrder('"distance"', dialect)} LIMIT ${limit}`,
    params: [cone.ra, cone.dec, cone.dec - band, cone.dec + band, cone.radiusArcsec],
  };
}

function resultsTable(rows: readonly Record<string, unknown>[], withDistance: boolean): SafeHtml {
  if (rows.length === 0) return html`<p class="empty">No stored object found.</p>`;
  return html`<div class="table-wrap"><table class="sortable" id="objects-table">
    <thead><tr><th scope="col">Object</th><th scope="col">Survey</th><th scope="col" class="num">RA</th><th scope="col" class="num">Dec</th><th scope="col" class="num">Latest MJD</th><th scope="col">Band</th><th scope="col" class="num">Mag</th><th scope="col" class="num">Detections</th>${withDistance ? html`<th scope="col" class="num">Distance (″)</th>` : ''}</tr></thead>
    <tbody>${rows.map((r) => html`<tr>
      <td class="id"><a href="${objectPath(String(r.survey), String(r.objectId), String(r.objectKind))}">${String(r.objectId)}</a></td>
      <td>${String(r.survey)}${r.objectKind === 'object' ? '' : html` <span class="badge">${String(r.objectKind)}</span>`}</td>
      <td class="num">${formatValue(r.ra, 'ra')}</td><td class="num">${formatValue(r.decl, 'decl')}</td>
      <td class="num">${formatValue(r.alertMjd, 'alertMjd')}</td><td>${formatValue(r.alertBand)}</td>
      <td class="num">${formatValue(r.alertMag)}</td><td class="num">${formatValue(r.nSources)}</td>
      ${withDistance ? html`<td class="num">${typeof r.distance === 'number' ? r.distance.toFixed(2) : '—'}</td>` : ''}
    </tr>`)}</tbody>
  </table></div>`;
}

export async function objectRoutes(app: FastifyInstance, services: PageServices): Promise<void> {
  const store = services.options.store;
  await objectCutoutRoutes(app, services);

  app.get('/objects', async (request, reply) => {
    const q = request.query as Record<string, string | undefined>;
    const id = q.id?.trim();
    let heading = 'Newest objects';
    let rows: Record<string, unknown>[] = [];
    let error: string | undefined;
    let cone = false;
    if (id !== undefined && id !== '') {
      const found = await store.queryObjects(objectListSql(store.sqlDialect).byId, { params: [id], rowLimit: 50 });
      const only = found.rows[0];
      if (found.rows.length === 1 && only !== undefined) return reply.redirect(objectPath(String(only.survey), String(only.objectId), String(only.objectKind)), 303);
      heading = `Objects named ${id}`;
      rows = found.rows;
    } else if (q.ra !== undefined || q.dec !== undefined) {
      const parsed = readCone(q.ra, q.dec, q.radius);
      if (typeof parsed === 'string') error = parsed;
      else {
        const { sql, params } = coneSql(parsed, 200, store.sqlDialect);
        rows = (await store.queryObjects(sql, { params, rowLimit: 200 })).rows;
        heading = `Within ${parsed.radiusArcsec}″ of RA ${parsed.ra}, Dec ${parsed.dec}`;
        cone = true;
      }
    } else {
      rows = (await store.queryObjects(objectListSql(store.sqlDialect).newest, { rowLimit: 25 })).rows;
    }
    const body = html`<div class="page-head"><div><h1>Objects</h1><p class="muted">Every object the broker has seen, with its features and lightcurve.</p></div></div>
    <div class="grid two">
      <form class="card" method="get" action="/objects" role="search" aria-labelledby="by-id">
        <h2 id="by-id">Find by id</h2>
        <div class="row"><div class="field"><label for="q-id">Object id</label><input type="text" id="q-id" name="id" value="${id ?? ''}" placeholder="e.g. 169760235333878021 or ZTF26aamcbly" autocomplete="off"></div>
        <div class="form-actions field"><button type="submit" class="primary">Find</button></div></div>
      </form>
      <form class="card" method="get" action="/objects" role="search" aria-labelledby="by-cone">
        <h2 id="by-cone">Cone search</h2>
        <div class="row">
          <div class="field"><label for="q-ra">RA <span class="hint">deg</span></label><input type="text" inputmode="decimal" id="q-ra" name="ra" value="${q.ra ?? ''}"></div>
          <div class="field"><label for="q-dec">Dec <span class="hint">deg</span></label><input type="text" inputmode="decimal" id="q-dec" name="dec" value="${q.dec ?? ''}"></div>
          <div class="field"><label for="q-radius">Radius <span class="hint">arcsec</span></label><input type="text" inputmode="decimal" id="q-radius" name="radius" value="${q.radius ?? '10'}"></div>
          <div class="form-actions field"><button type="submit" class="primary">Search</button></div>
        </div>
      </form>
    </div>
    ${error === undefined ? '' : html`<div class="notice bad" role="alert">${error}</div>`}
    <section class="card" aria-labelledby="found-title"><div class="card-head"><h2 id="found-title">${heading}</h2><span class="muted small">${rows.length} shown</span></div>${resultsTable(rows, cone)}</section>`;
    return sendPage(request, reply, { title: 'Objects', body, scripts: ['/static/object-page.js'] });
  });

  app.get('/objects/:survey/:objectId', async (request, reply) => {
    const p = request.params as Record<string, string>;
    const survey = SURVEYS.find((s) => s === p.survey);
    const objectId = p.objectId ?? '';
    const kindParam = (request.query as Record<string, string | undefined>).kind;
    const kinds = KINDS.filter((k) => kindParam === undefined || k === kindParam);
    if (survey === undefined || objectId === '' || objectId.length > 64) return sendMessagePage(request, reply, 404, 'Object not found', 'There is no such object.');
    let key: ObjectKey | undefined;
    let row = null;
    for (const objectKind of kinds) {
      const k: ObjectKey = { survey, objectKind, objectId };
      row = await store.getObject(k);
      if (row !== null) {
        key = k;
        break;
      }
    }
    if (key === undefined || row === null) return sendMessagePage(request, reply, 404, 'Object not found', html`The broker has no object ${objectId} from ${survey}. <a href="/objects">Search objects</a>.`);
    const [lightcurve, alerts, cutouts] = await Promise.all([store.lightcurve(key), store.alertsOf(key, 20), store.cutouts(key)]);
    const alert = storedAlert(row, lightcurve, alerts[0], cutouts);
    const objectKind = key.objectKind;
    const images = storedKinds(cutouts).map((kind) => ({ kind, src: cutoutImagePath(survey, objectId, objectKind, kind, cutouts?.sourceId ?? 0n) }));
    const latest = alert === undefined ? '' : html`Latest alert MJD ${alert.mjd.toFixed(5)} in ${alert.band}${alert.mag === null ? '' : html`, mag ${alert.mag.toFixed(2)}`}`;
    const body = html`<div class="page-head"><div>
      <div class="crumbs"><a href="/objects">Objects</a> › ${survey}</div>
      <h1 class="mono">${objectId}</h1>
      <div><span class="badge">${survey}</span> ${key.objectKind === 'object' ? '' : html`<span class="badge">${key.objectKind}</span>`}
        <span class="muted">RA ${formatValue(row.ra, 'ra')}°, Dec ${formatValue(row.decl, 'decl')}° · ${formatValue(row.nSources)} detections · ${latest}</span></div>
    </div>
    <div class="actions"><a class="button" href="/objects?ra=${formatValue(row.ra, 'ra')}&amp;dec=${formatValue(row.decl, 'decl')}&amp;radius=60">Objects nearby</a></div></div>
    ${alert === undefined ? html`<div class="notice warn">No detection of this object is stored, so there is no lightcurve to show.</div>` : plotSection(alert)}
    <section class="card" aria-labelledby="features-title"><h2 id="features-title">Features</h2><p class="muted small">Computed from the newest alert; hover a name for its meaning. Units as in the filter reference.</p>${featuresSection(row)}</section>
    ${detectionsSection(lightcurve)}
    ${cutoutsSection(images, cutouts === null ? null : { sourceId: cutouts.sourceId, mjd: cutouts.mjd, newest: alert === undefined || alert.sourceId === cutouts.sourceId })}
    ${alertsSection(alerts)}`;
    return sendPage(request, reply, { title: `${objectId} (${survey})`, body, scripts: ['/static/object-page.js'] });
  });
}
