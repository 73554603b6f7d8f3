// A filter's page (/filters/:id): its SQL and settings, its topic with ready-to-paste consumer
// code, its counters, and its latest matches, updated live (live.js subscribes to
// /filters/:id/live). Owners can edit and delete it; anyone who sees a public filter can copy it.
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { isKafkaOutput, STREAM_OUTPUT_LABELS } from '../../delivery/output-modes.ts';
import { localBootstrap, localKafkaConfig } from '../../kafka/local-config.ts';
import { FilterNotFoundError } from '../../service/errors.ts';
import type { ShowResult } from '../../service/types.ts';
import { utcNight } from '../../store/counters.ts';
import type { FilterCounters, StoredFilter } from '../../store/store.ts';
import { requireUser } from '../auth/require-user.ts';
import { cliConsumer, pythonConsumer, suggestedGroupId, typescriptConsumer, type ConsumerCodeInput } from './consumer-code.ts';
import { formatBytes, formatCount, formatUtc } from './format.ts';
import { html, raw, type SafeHtml } from './html.ts';
import { matchTable, rowColumns } from './match-table.ts';
import { filterIdParam, isOwner, visibleFilter, type PageServices } from './page-services.ts';
import { sendMessagePage, sendPage } from './page-reply.ts';

export const LATEST_MATCHES = 25;

export interface Counts {
  today: number;
  week: number;
}

/** Matched today (UTC night) and over the last 7 nights, today included. */
export function matchedCounts(counters: readonly FilterCounters[], now: Date): Counts {
  const today = utcNight(now);
  const weekStart = utcNight(new Date(now.getTime() - 6 * 86_400_000));
  let t = 0;
  let w = 0;
  for (const c of counters) {
    if (c.night === today) t += c.matched;
    if (c.night >= weekStart && c.night <= today) w += c.matched;
  }
  return { today: t, week: w };
}

/** The Kafka servers consumers should connect to: NIGHTJAR_PUBLIC_KAFKA when set, else the local broker's address. */
export function publicKafkaServers(env: NodeJS.ProcessEnv = process.env): string {
  const configured = env.NIGHTJAR_PUBLIC_KAFKA?.trim();
  return configured !== undefined && configured !== '' ? configured : localBootstrap(localKafkaConfig(env));
}

function stat(value: string, label: string, id: string): SafeHtml {
  return html`<div class="stat"><div class="value" id="${id}">${value}</div><div class="label">${label}</div></div>`;
}

function codeBlock(id: string, code: string): SafeHtml {
  return html`<div class="code-block" role="tabpanel" id="code-${id}" aria-labelledby="tab-${id}" ${id === 'python' ? '' : raw('hidden')}>
    <button type="button" class="copy small" data-copy="code-${id}-text">Copy</button>
    <pre><code id="code-${id}-text">${code}</code></pre>
  </div>`;
}

function consumerSection(input: ConsumerCodeInput): SafeHtml {
  return html`<section class="card" aria-labelledby="consume-title">
    <h2 id="consume-title">Consume the stream</h2>
    <p>Topic <code id="topic-name">${input.topic}</code> on <code>${input.servers}</code>.
      The <strong>group id</strong> tells Kafka where you are in the stream: it is any text you make up. Kafka remembers the last record it gave each group id, so running again with the same one gives only what arrived since; a new group id starts from the oldest record kept (7 days). Use a fresh one while testing, then keep one fixed for the program that runs for real, so no record is read twice.</p>
    <div class="tabs" role="tablist">
      <button type="button" role="tab" id="tab-python" aria-controls="code-python" aria-selected="true">Python</button>
      <button type="button" role="tab" id="tab-typescript" aria-controls="code-typescript" aria-selected="false">TypeScript</button>
      <button type="button" role="tab" id="tab-cli" aria-controls="code-cli" aria-selected="false">Command line</button>
    </div>
    ${codeBlock('python', pythonConsumer(input))}
    ${codeBlock('typescript', typescriptConsumer(input))}
    ${codeBlock('cli', cliConsumer(input))}
  </section>`;
}

function ownerActions(filter: StoredFilter, csrfToken: string): SafeHtml {
  return html`<a class="button" href="/filters/${filter.id}/edit">Edit</a>
    <a class="button" href="/filters/new?from=${filter.id}">Duplicate</a>
    <form method="post" action="/filters/${filter.id}/delete" class="inline" data-confirm="Delete the filter &quot;${filter.name}&quot;${filter.topic === null ? '' : ' and its stream'}? This cannot be undone.">
      <input type="hidden" name="_csrf" value="${csrfToken}">
      <button type="submit" class="danger">Delete</button>
    </form>`;
}

async function selectedColumns(services: PageServices, filter: StoredFilter): Promise<string[]> {
  const compiled = await services.validator.compile({ select: filter.select, where: filter.where, tables: filter.tables });
  return Array.isArray(compiled) ? [] : rowColumns(compiled.columns);
}

export async function filterPageRoutes(app: FastifyInstance, services: PageServices): Promise<void> {
  app.get('/filters/:id', async (request, reply) => {
    const id = filterIdParam((request.params as Record<string, string>).id);
    const filter = await visibleFilter(services, request, id);
    if (filter === null) return sendMessagePage(request, reply, 404, 'Filter not found', 'There is no such filter, or it is private.');
    const owner = isOwner(request, filter);
    const flash = services.flash.take((request.query as Record<string, string | undefined>).saved, request.user?.id ?? null);
    let shown: ShowResult;
    try {
      shown = await services.options.filters.show(filter.id);
    } catch (error) {
      if (error instanceof FilterNotFoundError) return sendMessagePage(request, reply, 404, 'Filter not found', 'The filter was just deleted.');
      throw error;
    }
    const now = services.now();
    const counts = matchedCounts(shown.counters, now);
    const [matches, columns, ownerUser] = await Promise.all([
      services.options.store.filterMatches(filter.id, { limit: LATEST_MATCHES, newestFirst: true }),
      selectedColumns(services, filter),
      services.options.store.getUser(filter.ownerId),
    ]);
    const lastSeq = matches.reduce((max, m) => (m.seq > max ? m.seq : max), 0n);
    const topic = filter.topic !== null && isKafkaOutput(filter.output) ? filter.topic : null;
    const code: ConsumerCodeInput | null = topic === null ? null : {
      servers: publicKafkaServers(),
      topic,
      groupId: suggestedGroupId(request.user?.id ?? null, filter.id, randomBytes(3).toString('hex')),
      output: filter.output,
    };
    const body = html`<div class="page-head">
      <div>
        <div class="crumbs"><a href="${owner ? '/filters' : '/gallery'}">${owner ? 'My filters' : 'Gallery'}</a> › Filter ${filter.id}</div>
        <h1>${filter.name}</h1>
        <div>
          <span class="badge ${filter.public ? 'public' : ''}">${filter.public ? 'Public' : 'Private'}</span>
          <span class="badge ${topic === null ? '' : 'kafka'}">${STREAM_OUTPUT_LABELS[filter.output]}</span>
          ${filter.active ? '' : html`<span class="badge off">Inactive</span>`}
          <span class="muted small">by ${ownerUser?.name ?? 'unknown'}</span>
        </div>
      </div>
      <div class="actions">
        ${owner ? ownerActions(filter, request.csrfToken) : html`<a class="button primary" href="/filters/new?from=${filter.id}">Copy into my filters</a>`}
      </div>
    </div>
    ${flash === undefined ? '' : html`<div class="notice ${flash.kind}" role="status" id="save-notice">${flash.lines.map((l) => html`<p>${l}</p>`)}</div>`}
    ${filter.description === '' ? '' : html`<p class="description">${filter.description}</p>`}
    <div class="stats">
      ${stat(formatCount(counts.today), 'Matched today (UTC)', 'count-today')}
      ${stat(formatCount(counts.week), 'Matched this week', 'count-week')}
      ${stat(formatCount(shown.totals.records), 'Records delivered', 'count-records')}
      ${stat(formatBytes(shown.totals.bytes), 'Bytes delivered', 'count-bytes')}
      ${stat(formatCount(shown.totals.dropped), 'Dropped (over limits)', 'count-dropped')}
      ${shown.stream === null ? '' : stat(shown.stream.retained === null ? '—' : formatCount(shown.stream.retained), 'Records in the stream now', 'count-retained')}
    </div>
    <div class="grid two">
      <section class="card" aria-labelledby="sql-title">
        <h2 id="sql-title">SQL</h2>
        <pre><code><span class="muted">SELECT</span> ${filter.select}
<span class="muted">FROM</span> ${['objects', ...filter.tables].join(', ')}${filter.where.trim() === '' ? '' : html`
<span class="muted">WHERE</span> ${filter.where}`}</code></pre>
      </section>
      <section class="card" aria-labelledby="settings-title">
        <h2 id="settings-title">Settings</h2>
        <dl class="settings">
          <dt>Streaming</dt><dd>${STREAM_OUTPUT_LABELS[filter.output]}</dd>
          <dt>Topic</dt><dd>${topic === null ? html`<span class="muted">none</span>` : html`<code>${topic}</code>`}</dd>
          ${shown.stream?.error === undefined ? '' : html`<dt>Stream</dt><dd class="muted">Kafka could not say how many records it holds: ${shown.stream.error}</dd>`}
          <dt>Visibility</dt><dd>${filter.public ? 'public (in the gallery)' : 'private'}</dd>
          <dt>Runs</dt><dd>${filter.active ? 'on every batch of alerts' : 'not at the moment (inactive)'}</dd>
          <dt>Created</dt><dd>${formatUtc(filter.createdAt)}</dd>
          <dt>Changed</dt><dd>${formatUtc(filter.updatedAt)}</dd>
        </dl>
      </section>
    </div>
    <section class="card" aria-labelledby="matches-title">
      <div class="card-head">
        <h2 id="matches-title">Latest matches</h2>
        <span class="badge" id="live-state" aria-live="polite">connecting…</span>
      </div>
      <div id="live-matches" data-filter="${filter.id}" data-after="${lastSeq}" data-keep="${LATEST_MATCHES * 4}">
        ${matchTable(matches, columns)}
      </div>
    </section>
    ${code === null ? '' : consumerSection(code)}`;
    return sendPage(request, reply, { title: filter.name, body, scripts: ['/static/filter-page.js'] });
  });

  app.post('/filters/:id/delete', { preHandler: requireUser }, async (request, reply) => {
    const id = filterIdParam((request.params as Record<string, string>).id);
    const filter = await visibleFilter(services, request, id);
    if (filter === null || !isOwner(request, filter)) return sendMessagePage(request, reply, 404, 'Filter not found', 'There is no such filter among yours.');
    const result = await services.options.filters.remove(filter.id);
    const lines = [`Filter "${result.name}" deleted.`];
    if (result.topicDeleted && result.topic !== null) lines.push(`Its stream ${result.topic} was deleted.`);
    if (result.warning !== undefined) lines.push(result.warning);
    const token = services.flash.put({ kind: result.warning === undefined ? 'ok' : 'warn', lines }, request.user?.id ?? null);
    return reply.redirect(`/filters?done=${token}`, 303);
  });
}
