// The email that tells a filter's owner the filter fails on new data (it then delivers nothing
// for those batches). Sent at most once a day per filter, not on every batch.
import { formatUtc } from '../delivery/records.ts';
import type { OutgoingEmail } from './mailer.ts';
import { filterUrl, type DigestFilter } from './digest-content.ts';
import { escapeHtml } from './text-format.ts';

export interface FilterErrorInput {
  filter: DigestFilter;
  to: string;
  /** The error of the latest failing batch. */
  error: string;
  /** When the filter first failed since the last such email (ISO), and on how many batches. */
  firstAt: string;
  lastAt: string;
  batches: number;
  publicUrl: string | null;
  periodHours: number;
}

export function filterErrorEmail(input: FilterErrorInput): OutgoingEmail {
  const { filter } = input;
  const subject = `[Nightjar] ${filter.name.replace(/[\r\n]+/g, ' ')}: the filter fails on new alerts`;
  const when = input.batches === 1 ? `on a batch at ${formatUtc(new Date(input.lastAt))} UTC` : `on ${input.batches} batches from ${formatUtc(new Date(input.firstAt))} to ${formatUtc(new Date(input.lastAt))} UTC`;
  const lead = `Your filter "${filter.name}" (#${filter.id}) failed ${when}, and passed nothing on those batches.`;
  const advice = 'Check its SELECT and WHERE (a function of a value that can be null or zero is a common cause) and save it again.';
  const cadence = `You get at most one such email every ${input.periodHours} hours per filter.`;
  const page = filterUrl(input.publicUrl, filter.id);
  const text = [lead, '', `Error: ${input.error}`, '', advice, ...(page === null ? [] : [`Filter page: ${page}`]), '', cadence].join('\n');
  const e = escapeHtml;
  const html = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>${e(subject)}</title></head>
<body style="font-family: sans-serif">
<p>${e(lead)}</p>
<pre>${e(input.error)}</pre>
<p>${e(advice)}${page === null ? '' : ` <a href="${e(page)}">Filter page</a>`}</p>
<p>${e(cadence)}</p>
</body></html>
`;
  return { to: input.to, subject, text, html };
}
