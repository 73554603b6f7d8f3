// The object page's pieces, pure: features grouped as the column documentation orders them
// (with units and meanings), the lightcurve plots (flux and magnitude, the CLI's plot code), the
// detections table, the stored alerts and the cutout images.
import { lightcurvePlot } from '../../client/plot-model.ts';
import { plotToSvg } from '../../client/plot-svg.ts';
import { bandColour } from '../../client/plot-model.ts';
import { OBJECT_COLUMNS, type ObjectColumn } from '../../features/columns.ts';
import type { ObjectRow } from '../../features/compute.ts';
import type { Alert, Lightcurve } from '../../formats/alert.ts';
import type { StoredAlert } from '../../store/store.ts';
import { formatUtc, formatValue } from './format.ts';
import { html, raw, type SafeHtml } from './html.ts';

interface FeatureGroup {
  title: string;
  test: (name: string) => boolean;
}

/** Groups in the order of the column documentation; the first that matches a column takes it. */
const GROUPS: readonly FeatureGroup[] = [
  { title: 'Identity', test: (n) => ['objectId', 'diaObjectId', 'ssObjectId', 'survey', 'objectKind'].includes(n) },
  { title: 'Position', test: (n) => ['ra', 'decl', 'glon', 'glat'].includes(n) },
  { title: 'Latest alert', test: (n) => n.startsWith('alert') },
  { title: 'History', test: (n) => n.startsWith('n') || n.endsWith('DiaSourceMjd') },
  { title: 'Latest detection per band', test: (n) => n.startsWith('latestFlux_') || n.startsWith('latestMag_') || n.startsWith('latestMjd_') },
  { title: 'Colours', test: (n) => /^[ugrizy]_[ugrizy]$/.test(n) },
  { title: 'Rise and fade rates', test: (n) => n.startsWith('riseRate_') || n.startsWith('fadeRate_') },
  { title: 'Reliability and survey means', test: () => true },
];

export function groupColumns(columns: readonly ObjectColumn[]): { title: string; columns: ObjectColumn[] }[] {
  const groups = GROUPS.map((g) => ({ title: g.title, columns: [] as ObjectColumn[] }));
  for (const column of columns) {
    const index = GROUPS.findIndex((g) => g.test(column.name));
    groups[index]?.columns.push(column);
  }
  return groups.filter((g) => g.columns.length > 0);
}

export function featuresSection(row: ObjectRow): SafeHtml {
  const groups = groupColumns(OBJECT_COLUMNS).map((g) => {
    const known = g.columns.filter((c) => row[c.name] !== null && row[c.name] !== undefined);
    const unknown = g.columns.length - known.length;
    return html`<div class="table-wrap"><table>
      <caption class="sr-only">${g.title}</caption>
      <thead><tr><th colspan="3">${g.title}</th></tr></thead>
      <tbody>
        ${known.map((c) => html`<tr title="${c.doc}"><td>${c.name}</td><td class="num">${formatValue(row[c.name], c.name)}</td><td class="muted small">${c.unit ?? ''}</td></tr>`)}
        ${unknown === 0 ? '' : html`<tr><td colspan="3" class="muted small">${unknown} more ${unknown === 1 ? 'column is' : 'columns are'} null (no data)</td></tr>`}
      </tbody>
    </table></div>`;
  });
  return html`<div class="features">${groups}</div>`;
}

function svgOrNote(alert: Alert, mag: boolean): SafeHtml {
  try {
    return raw(plotToSvg(lightcurvePlot(alert, { mag, width: 900, height: 420 })).replace(/^<svg /, `<svg role="img" aria-label="Lightcurve: ${mag ? 'magnitude' : 'flux'} against MJD" `));
  } catch (error) {
    return html`<p class="empty">${(error as Error).message}</p>`;
  }
}

export function plotSection(alert: Alert): SafeHtml {
  return html`<section class="card plot-card" aria-labelledby="plot-title">
    <div class="card-head">
      <h2 id="plot-title">Lightcurve</h2>
      <div class="segmented" role="group" aria-label="Plot">
        <button type="button" data-plot="flux" aria-pressed="true">Flux</button>
        <button type="button" data-plot="mag" aria-pressed="false">Magnitude</button>
      </div>
    </div>
    <div id="plot-flux" data-plot-view="flux">${svgOrNote(alert, false)}</div>
    <div id="plot-mag" data-plot-view="mag" hidden>${svgOrNote(alert, true)}</div>
    <p class="muted small">Difference-image PSF flux (nJy) per band with 1σ error bars; filled: detections, hollow: forced photometry. Magnitudes are AB, brighter up.</p>
  </section>`;
}

function pm(value: number | null, err: number | null, digits: number): string {
  if (value === null) return '—';
  return err === null ? value.toFixed(digits) : `${value.toFixed(digits)} ± ${err.toFixed(digits)}`;
}

export function detectionsSection(lightcurve: Lightcurve): SafeHtml {
  const detections = [...lightcurve.detections].sort((a, b) => b.mjd - a.mjd);
  return html`<section class="card" aria-labelledby="detections-title">
    <div class="card-head"><h2 id="detections-title">Detections</h2><span class="muted small">${detections.length} detections · ${lightcurve.forced.length} forced measurements · ${lightcurve.upperLimits.length} upper limits</span></div>
    ${detections.length === 0 ? html`<p class="empty">No detections stored.</p>` : html`<div class="table-wrap" style="max-height: 28rem"><table class="sortable" id="detections-table">
      <thead><tr><th scope="col" class="num">MJD</th><th scope="col">Band</th><th scope="col" class="num">Flux (nJy)</th><th scope="col" class="num">Mag</th><th scope="col" class="num">Reliability</th><th scope="col">Source id</th></tr></thead>
      <tbody>${detections.map((p) => html`<tr>
        <td class="num" data-sort="${p.mjd}">${p.mjd.toFixed(5)}</td>
        <td><span class="band-dot" style="background:${bandColour(p.band)}"></span>${p.band}</td>
        <td class="num" data-sort="${p.flux ?? ''}">${pm(p.flux, p.fluxErr, 1)}</td>
        <td class="num" data-sort="${p.mag ?? ''}">${pm(p.mag, p.magErr, 3)}</td>
        <td class="num">${p.reliability === null ? '—' : p.reliability.toFixed(3)}</td>
        <td class="id">${p.sourceId === null ? '—' : p.sourceId.toString()}</td>
      </tr>`)}</tbody>
    </table></div>`}
  </section>`;
}

export function alertsSection(alerts: readonly StoredAlert[]): SafeHtml {
  return html`<section class="card" aria-labelledby="alerts-title">
    <div class="card-head"><h2 id="alerts-title">Alerts received</h2><span class="muted small">newest first</span></div>
    ${alerts.length === 0 ? html`<p class="empty">No alerts recorded.</p>` : html`<div class="table-wrap"><table>
      <thead><tr><th scope="col">Source id</th><th scope="col" class="num">MJD</th><th scope="col">Band</th><th scope="col">Schema</th><th scope="col">From</th><th scope="col">Stored</th></tr></thead>
      <tbody>${alerts.map((a) => html`<tr>
        <td class="id">${a.sourceId.toString()}</td><td class="num">${a.mjd.toFixed(5)}</td><td>${a.band}</td><td class="mono">${a.schema}</td>
        <td class="mono small">${a.origin === null ? '—' : `${a.origin.topic} [${a.origin.partition}] @${a.origin.offset.toString()}`}</td>
        <td class="nowrap">${formatUtc(a.storedAt)}</td>
      </tr>`)}</tbody>
    </table></div>`}
  </section>`;
}

/** Where the shown cutouts came from: their alert, and whether it is the object's newest. */
export interface CutoutOrigin {
  sourceId: bigint;
  mjd: number;
  newest: boolean;
}

/** Cutouts: the stored images of the object's newest alert kept with any (PNG links), or why there are none. */
export function cutoutsSection(images: readonly { kind: string; src: string }[], origin: CutoutOrigin | null): SafeHtml {
  return html`<section class="card" aria-labelledby="cutouts-title">
    <div class="card-head"><h2 id="cutouts-title">Cutouts</h2>${origin === null ? '' : html`<span class="muted small">source ${origin.sourceId.toString()}, MJD ${origin.mjd.toFixed(5)}${origin.newest ? '' : ' (an earlier alert)'}</span>`}</div>
    ${images.length > 0
      ? html`<div class="cutouts">${images.map((i) => html`<figure><img src="${i.src}" alt="${i.kind} cutout" width="180" height="180" loading="lazy"><figcaption>${i.kind}</figcaption></figure>`)}</div>
        <p class="muted small">Grey scale between the 0.5th and 99.5th percentiles of each image, FITS row 1 at the bottom; dark red: blank pixels.</p>`
      : html`<p class="muted">No cutout images are stored for this object. The broker keeps them as its <code>--cutouts</code> setting says (all alerts, alerts that passed a filter, or none); otherwise read the alert from the raw topic with <code>nightjar print</code> or <code>nightjar consume --save</code>, then <code>nightjar view</code>.</p>`}
  </section>`;
}
