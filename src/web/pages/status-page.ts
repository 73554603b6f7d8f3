// The stream status page (/status): broker health, alerts ingested per minute over the last
// hour, consumer lag, dead letters, per-night totals and per-filter rates. status.js reloads the
// panel (/status/panel) every few seconds.
import type { FastifyInstance } from 'fastify';
import { STREAM_OUTPUT_LABELS, type StreamOutput } from '../../delivery/output-modes.ts';
import { formatCount, formatUtc } from './format.ts';
import { html, type SafeHtml } from './html.ts';
import type { PageServices } from './page-services.ts';
import { sendPage } from './page-reply.ts';
import { MinuteHistory, ingestedTotal, statusSnapshot, type StatusSnapshot } from './status-data.ts';

export const SAMPLE_MS = 5000;

function stat(value: string, label: string): SafeHtml {
  return html`<div class="stat"><div class="value">${value}</div><div class="label">${label}</div></div>`;
}

function minuteLabel(minute: number): string {
  return new Date(minute * 60_000).toISOString().slice(11, 16);
}

function perMinuteChart(points: StatusSnapshot['perMinute']): SafeHtml {
  const max = Math.max(1, ...points.map((p) => p.count));
  const total = points.reduce((s, p) => s + p.count, 0);
  const first = points[0];
  const last = points[points.length - 1];
  // SVG bars: their heights are attributes, not inline styles, which the content security policy refuses.
  const n = Math.max(1, points.length);
  return html`<svg class="bars" viewBox="0 0 ${n} 100" preserveAspectRatio="none" role="img" aria-label="Alerts ingested per minute over the last hour: ${formatCount(total)} in all">
      ${points.map((p, i) => {
        const h = Math.max(0.7, (p.count / max) * 100);
        return html`<rect class="bar" x="${(i + 0.1).toFixed(2)}" y="${(100 - h).toFixed(2)}" width="0.8" height="${h.toFixed(2)}"><title>${minuteLabel(p.minute)} UTC: ${formatCount(p.count)} alerts</title></rect>`;
      })}
    </svg>
    <div class="bars-axis"><span>${first === undefined ? '' : `${minuteLabel(first.minute)} UTC`}</span><span>peak ${formatCount(max === 1 && total === 0 ? 0 : max)}/min</span><span>${last === undefined ? '' : `${minuteLabel(last.minute)} UTC`}</span></div>`;
}

function healthBadge(s: StatusSnapshot): SafeHtml {
  if (s.health === null) return html`<span class="badge">web app only: no broker in this process</span>`;
  const cls = s.health.status === 'running' ? 'live' : s.health.status === 'failed' ? 'off' : '';
  return html`<span class="badge ${cls}">${s.health.status}</span>${s.health.detail === undefined ? '' : html` <span class="muted small">${s.health.detail}</span>`}`;
}

export function statusPanel(s: StatusSnapshot, now: Date): SafeHtml {
  const deadTotal = s.deadLettersByReason?.reduce((sum, d) => sum + d.count, 0) ?? null;
  const lagTotal = s.lag?.reduce((sum, l) => sum + l.lag, 0) ?? null;
  const today = s.nights[0];
  return html`<div class="card-head spaced-below">
      <div>Broker: ${healthBadge(s)}${s.health === null ? '' : html` <span class="muted small">· topics ${s.health.topics.join(', ')} · group ${s.health.groupId} · last batch ${s.health.lastBatchAt === null ? 'none yet' : formatUtc(s.health.lastBatchAt)}</span>`}</div>
      <span class="muted small">Updated ${formatUtc(now.toISOString())}</span>
    </div>
    <div class="stats">
      ${stat(s.alertsPerSecond === null ? '—' : s.alertsPerSecond.toFixed(1), 'Alerts per second (last minute)')}
      ${stat(today === undefined ? '0' : formatCount(today.alertsIn), 'Alerts in today (UTC)')}
      ${stat(lagTotal === null ? '—' : formatCount(lagTotal), 'Consumer lag (messages)')}
      ${stat(deadTotal === null ? (today === undefined ? '0' : formatCount(today.deadLetters)) : formatCount(deadTotal), deadTotal === null ? 'Dead letters today' : 'Dead letters since start')}
      ${stat(formatCount(s.storeCounts.objects), 'Objects stored')}
      ${stat(formatCount(s.filters.length), 'Active filters')}
    </div>
    <section class="card" aria-labelledby="per-minute-title">
      <div class="card-head"><h2 id="per-minute-title">Alerts ingested per minute</h2><span class="muted small">last hour, sampled while the web app runs</span></div>
      ${perMinuteChart(s.perMinute)}
    </section>
    <div class="grid two">
      <section class="card" aria-labelledby="lag-title">
        <h2 id="lag-title">Consumer lag</h2>
        ${s.lag === null ? html`<p class="muted">Shown when the web app runs inside the broker.</p>` : s.lag.length === 0 ? html`<p class="muted">Not measured yet.</p>` : html`<div class="table-wrap"><table>
          <thead><tr><th>Topic</th><th class="num">Partition</th><th class="num">Lag</th></tr></thead>
          <tbody>${s.lag.map((l) => html`<tr><td class="mono">${l.topic}</td><td class="num">${l.partition}</td><td class="num">${formatCount(l.lag)}</td></tr>`)}</tbody></table></div>`}
      </section>
      <section class="card" aria-labelledby="dead-title">
        <h2 id="dead-title">Dead letters</h2>
        ${s.deadLettersByReason === null ? html`<p class="muted">By reason when the web app runs inside the broker; today's total is ${today === undefined ? 0 : formatCount(today.deadLetters)}.</p>` : html`<div class="table-wrap"><table>
          <thead><tr><th>Reason</th><th class="num">Since start</th></tr></thead>
          <tbody>${s.deadLettersByReason.map((d) => html`<tr><td>${d.reason}</td><td class="num">${formatCount(d.count)}</td></tr>`)}</tbody></table></div>`}
      </section>
    </div>
    <section class="card" aria-labelledby="filters-rate-title">
      <h2 id="filters-rate-title">Filters</h2>
      ${s.filters.length === 0 ? html`<p class="muted">No active filters.</p>` : html`<div class="table-wrap"><table class="sortable" id="filter-rates">
        <thead><tr><th>Filter</th><th>Output</th><th class="num">Matched today</th><th class="num">Records today</th><th class="num">Dropped today</th><th class="num">Matched since start</th><th class="num">Errors since start</th></tr></thead>
        <tbody>${s.filters.map((f) => html`<tr><td><a href="/filters/${f.filterId}">${f.name}</a></td><td>${STREAM_OUTPUT_LABELS[f.output as StreamOutput] ?? f.output}</td>
          <td class="num">${formatCount(f.matchedToday)}</td><td class="num">${formatCount(f.records)}</td><td class="num">${formatCount(f.dropped)}</td>
          <td class="num">${f.matchedSinceStart === null ? '—' : formatCount(f.matchedSinceStart)}</td><td class="num">${f.errors === null ? '—' : formatCount(f.errors)}</td></tr>`)}</tbody></table></div>`}
    </section>
    <section class="card" aria-labelledby="nights-title">
      <h2 id="nights-title">Last 7 nights (UTC dates)</h2>
      ${s.nights.length === 0 ? html`<p class="muted">No alerts yet.</p>` : html`<div class="table-wrap"><table>
        <thead><tr><th>Night</th><th class="num">Alerts in</th><th class="num">Processed</th><th class="num">Dead letters</th><th class="num">Batches</th></tr></thead>
        <tbody>${s.nights.map((n) => html`<tr><td>${n.night}</td><td class="num">${formatCount(n.alertsIn)}</td><td class="num">${formatCount(n.processed)}</td><td class="num">${formatCount(n.deadLetters)}</td><td class="num">${formatCount(n.batches)}</td></tr>`)}</tbody></table></div>`}
    </section>`;
}

export async function statusRoutes(app: FastifyInstance, services: PageServices): Promise<void> {
  const { store, metrics, health } = services.options;
  const history = new MinuteHistory(60);
  let sampling: Promise<void> = Promise.resolve();
  const sample = (): void => {
    const now = services.now();
    sampling = ingestedTotal(store, metrics, now).then((total) => history.sample(total, now.getTime()), () => undefined);
  };
  sample();
  const timer = setInterval(sample, SAMPLE_MS);
  timer.unref();
  app.addHook('onClose', async () => {
    clearInterval(timer);
    await sampling;
  });

  const snapshot = async (): Promise<StatusSnapshot> => statusSnapshot(store, metrics, health, history, services.now());

  app.get('/status', async (request, reply) => {
    const now = services.now();
    const body = html`<div class="page-head"><div><h1>Streams status</h1><p class="muted">What the broker is taking in and sending out. This page refreshes itself every 5 seconds.</p></div></div>
      <div id="status-panel" aria-live="off">${statusPanel(await snapshot(), now)}</div>`;
    return sendPage(request, reply, { title: 'Streams status', body, scripts: ['/static/status.js'] });
  });

  app.get('/status/panel', async (_request, reply) => {
    const now = services.now();
    return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(statusPanel(await snapshot(), now).text);
  });
}
