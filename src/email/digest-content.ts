// The content of a digest email: every object a filter passed since its last email, each with
// the filter's selected attributes, the UTC time it was triggered and a link to its page (seed
// 000). Plain text and HTML; when there are more rows than fit a readable email, the body keeps
// the first ones and the full list goes along as a CSV attachment, and the body says so.
import { formatUtc } from '../delivery/records.ts';
import type { FilterMatch } from '../store/store.ts';
import type { EmailAttachment, OutgoingEmail } from './mailer.ts';
import { escapeHtml, textTable, toCsv, valueText } from './text-format.ts';

export interface DigestFilter {
  id: number;
  name: string;
}

export interface DigestContentInput {
  filter: DigestFilter;
  to: string;
  /** The matches to report, oldest first (at least one). */
  matches: readonly FilterMatch[];
  /** When the previous digest went (ISO), or null for the filter's first email. */
  previousSentAt: string | null;
  /** The web app's address, e.g. https://broker.example.org (no links without it). */
  publicUrl: string | null;
  /** Rows listed in the body at most; the rest only in the attachment. */
  maxBodyRows: number;
  /** Hours between digests, for the explanation (24). */
  periodHours: number;
  /** More matches are pending than one email carries: they follow in the next one. */
  more?: boolean;
}

const FIXED_COLUMNS = ['UTC', 'object'];

/** `<publicUrl>/objects/<survey>/<objectId>`, or null without a public URL or a survey. */
export function objectUrl(publicUrl: string | null, survey: string | undefined, objectId: string): string | null {
  if (publicUrl === null || survey === undefined) return null;
  return `${publicUrl.replace(/\/+$/, '')}/objects/${encodeURIComponent(survey)}/${encodeURIComponent(objectId)}`;
}

export function filterUrl(publicUrl: string | null, filterId: number): string | null {
  return publicUrl === null ? null : `${publicUrl.replace(/\/+$/, '')}/filters/${filterId}`;
}

/** The filter's selected attributes over all matches, in the order they first appear (a filter edited mid-period can change them). */
export function attributeNames(matches: readonly FilterMatch[]): string[] {
  const names: string[] = [];
  const seen = new Set<string>();
  for (const m of matches) {
    for (const name of Object.keys(m.row)) {
      if (!seen.has(name)) {
        seen.add(name);
        names.push(name);
      }
    }
  }
  return names;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** The attachment's file name: the filter and the time of the last match, e.g. nightjar-filter-7-20260302-040506.csv. */
export function attachmentName(filterId: number, last: FilterMatch): string {
  return `nightjar-filter-${filterId}-${last.matchedAt.slice(0, 19).replace(/[-:]/g, '').replace('T', '-')}.csv`;
}

export function digestEmail(input: DigestContentInput): OutgoingEmail {
  const { filter, matches, publicUrl } = input;
  const first = matches[0];
  const last = matches[matches.length - 1];
  if (first === undefined || last === undefined) throw new Error(`digestEmail: filter ${filter.id} has no matches to report`);
  if (!Number.isSafeInteger(input.maxBodyRows) || input.maxBodyRows < 1) throw new Error(`digestEmail: maxBodyRows must be a positive integer, not ${input.maxBodyRows}`);
  const attributes = attributeNames(matches);
  const shown = matches.slice(0, input.maxBodyRows);
  const attached = matches.length > shown.length;
  const fileName = attachmentName(filter.id, last);
  const n = matches.length;

  const subject = `[Nightjar] ${filter.name.replace(/[\r\n]+/g, ' ')}: ${plural(n, 'object')} passed`;
  const span = n === 1 ? `at ${formatUtc(new Date(first.matchedAt))} UTC` : `between ${formatUtc(new Date(first.matchedAt))} and ${formatUtc(new Date(last.matchedAt))} UTC`;
  const intro = `Your filter "${filter.name}" (#${filter.id}) passed ${plural(n, 'object')} ${span}.`;
  const cadence =
    input.previousSentAt === null
      ? `This is its first match. From now on this filter sends at most one email every ${input.periodHours} hours, listing every object it passed since the email before.`
      : `These are the objects it passed since the previous email (${formatUtc(new Date(input.previousSentAt))} UTC). This filter sends at most one email every ${input.periodHours} hours.`;
  const rest = input.more === true ? ' More objects passed than one email carries; the rest follow in the next email.' : '';
  const cut = attached ? `Only the first ${shown.length} of the ${n} objects are listed here; the full list is attached as ${fileName}.${rest}` : rest === '' ? null : rest.trim();
  const page = filterUrl(publicUrl, filter.id);

  const cells = (m: FilterMatch): string[] => [formatUtc(new Date(m.matchedAt)), m.objectId, ...attributes.map((a) => valueText(m.row[a]))];
  const textRows = shown.map((m) => {
    const url = objectUrl(publicUrl, m.survey, m.objectId);
    return url === null ? cells(m) : [...cells(m), url];
  });
  const withLinks = shown.some((m) => objectUrl(publicUrl, m.survey, m.objectId) !== null);
  const textHeader = [...FIXED_COLUMNS, ...attributes, ...(withLinks ? ['page'] : [])];
  const text = [
    intro,
    cadence,
    '',
    textTable(textHeader, textRows),
    '',
    ...(cut === null ? [] : [cut, '']),
    ...(page === null ? [] : [`Filter page: ${page}`, '']),
    'Times are when the filter passed each object (UTC).',
  ].join('\n');

  const e = escapeHtml;
  const htmlRows = shown
    .map((m) => {
      const url = objectUrl(publicUrl, m.survey, m.objectId);
      const object = url === null ? e(m.objectId) : `<a href="${e(url)}">${e(m.objectId)}</a>`;
      const values = attributes.map((a) => `<td>${e(valueText(m.row[a]))}</td>`).join('');
      return `<tr><td>${e(formatUtc(new Date(m.matchedAt)))}</td><td>${object}</td>${values}</tr>`;
    })
    .join('\n');
  const html = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>${e(subject)}</title></head>
<body style="font-family: sans-serif">
<p>${e(intro)}</p>
<p>${e(cadence)}</p>
<table border="1" cellspacing="0" cellpadding="4" style="border-collapse: collapse">
<thead><tr>${[...FIXED_COLUMNS, ...attributes].map((h) => `<th>${e(h)}</th>`).join('')}</tr></thead>
<tbody>
${htmlRows}
</tbody>
</table>
${cut === null ? '' : `<p><strong>${e(cut)}</strong></p>\n`}${page === null ? '' : `<p><a href="${e(page)}">Filter page</a></p>\n`}<p>Times are when the filter passed each object (UTC).</p>
</body></html>
`;

  const attachments: EmailAttachment[] = attached ? [{ filename: fileName, content: digestCsv(matches, attributes, publicUrl), contentType: 'text/csv; charset=utf-8' }] : [];
  return { to: input.to, subject, text, html, attachments };
}

/** Every match as CSV: trigger time, object, survey, source, MJD, the selected attributes, the page link. */
export function digestCsv(matches: readonly FilterMatch[], attributes: readonly string[], publicUrl: string | null): string {
  const header = ['UTC', 'objectId', 'survey', 'sourceId', 'mjd', ...attributes, 'url'];
  const rows = matches.map((m) => [
    formatUtc(new Date(m.matchedAt)),
    m.objectId,
    m.survey ?? '',
    m.sourceId,
    m.mjd,
    ...attributes.map((a) => m.row[a]),
    objectUrl(publicUrl, m.survey, m.objectId) ?? '',
  ]);
  return toCsv(header, rows);
}
