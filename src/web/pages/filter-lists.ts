// The lists of filters: yours (/filters) and the public gallery (/gallery), where filters with
// the same SQL — compared after compiling, so spacing, case and comments do not matter — are
// shown once, the oldest, with how many saved it.
import type { FastifyInstance } from 'fastify';
import { STREAM_OUTPUT_LABELS } from '../../delivery/output-modes.ts';
import { utcNight } from '../../store/counters.ts';
import type { StoredFilter } from '../../store/store.ts';
import { requireUser } from '../auth/require-user.ts';
import { formatCount, formatUtc } from './format.ts';
import { html, type SafeHtml } from './html.ts';
import type { PageServices } from './page-services.ts';
import { sendPage } from './page-reply.ts';

/** Filter text as compared in the gallery when it does not compile: whitespace collapsed, case folded. */
export function plainNormalised(select: string, where: string, tables: readonly string[]): string {
  const squash = (s: string): string => s.replace(/\s+/g, ' ').trim().toLowerCase();
  return `${squash(select)}\u0000${squash(where)}\u0000${tables.map(squash).sort().join(',')}`;
}

export interface GalleryEntry {
  filter: StoredFilter;
  /** How many public filters have this SQL (1 = only this one). */
  copies: number;
}

/** Public filters with identical normalised SQL collapsed to the oldest (smallest id), in id order. */
export function dedupeGallery(filters: readonly StoredFilter[], normalise: (f: StoredFilter) => string): GalleryEntry[] {
  const groups = new Map<string, GalleryEntry>();
  for (const filter of [...filters].sort((a, b) => a.id - b.id)) {
    const key = normalise(filter);
    const entry = groups.get(key);
    if (entry === undefined) groups.set(key, { filter, copies: 1 });
    else entry.copies++;
  }
  return [...groups.values()];
}

function oneLine(filter: StoredFilter): string {
  const where = filter.where.trim() === '' ? '' : ` WHERE ${filter.where}`;
  return `SELECT ${filter.select}${where}`.replace(/\s+/g, ' ');
}

function item(filter: StoredFilter, meta: SafeHtml): SafeHtml {
  return html`<a class="list-item" href="/filters/${filter.id}">
    <span class="title">${filter.name}</span>
    ${filter.public ? html` <span class="badge public">Public</span>` : ''}
    ${filter.output === 'none' ? '' : html` <span class="badge ${filter.output.startsWith('kafka') ? 'kafka' : ''}">${STREAM_OUTPUT_LABELS[filter.output]}</span>`}
    ${filter.active ? '' : html` <span class="badge off">Inactive</span>`}
    ${filter.description === '' ? '' : html`<div>${filter.description.length > 200 ? `${filter.description.slice(0, 200)}…` : filter.description}</div>`}
    <div class="sql">${oneLine(filter)}</div>
    <div class="meta">${meta}</div>
  </a>`;
}

export async function filterListRoutes(app: FastifyInstance, services: PageServices): Promise<void> {
  const store = services.options.store;
  // Compiled SQL per filter text: compiling runs the parser and type checker, so keep the answers.
  const normalisedCache = new Map<string, string>();
  const normalise = async (f: StoredFilter): Promise<string> => {
    const plain = plainNormalised(f.select, f.where, f.tables);
    const cached = normalisedCache.get(plain);
    if (cached !== undefined) return cached;
    const compiled = await services.validator.compile({ select: f.select, where: f.where, tables: f.tables });
    const key = Array.isArray(compiled) ? plain : compiled.sql;
    if (normalisedCache.size > 5000) normalisedCache.clear();
    normalisedCache.set(plain, key);
    return key;
  };

  app.get('/filters', { preHandler: requireUser }, async (request, reply) => {
    const user = request.user;
    if (user === null) return reply.redirect('/login?next=/filters', 303);
    const flash = services.flash.take((request.query as Record<string, string | undefined>).done, user.id);
    const filters = await store.listFilters({ ownerId: user.id });
    const weekStart = utcNight(new Date(services.now().getTime() - 6 * 86_400_000));
    const week = await Promise.all(filters.map(async (f) => (await store.filterCounters(f.id, { fromNight: weekStart })).reduce((s, c) => s + c.matched, 0)));
    const body = html`<div class="page-head">
      <div><h1>My filters</h1><p class="muted">Your saved filters run on every incoming batch of alerts.</p></div>
      <div class="actions"><a class="button primary" href="/filters/new">New filter</a></div>
    </div>
    ${flash === undefined ? '' : html`<div class="notice ${flash.kind}" role="status">${flash.lines.map((l) => html`<p>${l}</p>`)}</div>`}
    <div class="card flush">
      ${filters.length === 0
        ? html`<div class="empty"><p>You have no filters yet.</p><p><a class="button primary" href="/filters/new">Write your first filter</a> or <a href="/gallery">copy one from the gallery</a>.</p></div>`
        : filters.map((f, i) => item(f, html`${formatCount(week[i] ?? 0)} matched this week · changed ${formatUtc(f.updatedAt)}${f.topic === null ? '' : html` · topic <code>${f.topic}</code>`}`))}
    </div>`;
    return sendPage(request, reply, { title: 'My filters', body });
  });

  app.get('/gallery', async (request, reply) => {
    const filters = await store.listFilters({ publicOnly: true });
    const keys = new Map<number, string>();
    for (const f of filters) keys.set(f.id, await normalise(f));
    const entries = dedupeGallery(filters, (f) => keys.get(f.id) ?? '');
    const owners = new Map<number, string>();
    for (const e of entries) {
      if (!owners.has(e.filter.ownerId)) owners.set(e.filter.ownerId, (await store.getUser(e.filter.ownerId))?.name ?? 'unknown');
    }
    const body = html`<div class="page-head">
      <div><h1>Gallery</h1><p class="muted">Public filters shared by Nightjar users. Open one to see its matches, or copy it into your own filters and change it.</p></div>
      <div class="actions"><a class="button primary" href="/filters/new">New filter</a></div>
    </div>
    <div class="card flush" id="gallery">
      ${entries.length === 0
        ? html`<div class="empty">No public filters yet.</div>`
        : entries.map((e) => item(e.filter, html`by ${owners.get(e.filter.ownerId) ?? 'unknown'}${e.copies > 1 ? ` · ${e.copies} public filters have this SQL` : ''} · created ${formatUtc(e.filter.createdAt)}`))}
    </div>`;
    return sendPage(request, reply, { title: 'Gallery', body });
  });
}
