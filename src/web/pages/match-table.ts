// A filter's latest matches as a table, and as the plain data the live view (SSE) sends so the
// browser can add rows of the same shape. Columns: when matched, the object (linked), the MJD of
// the triggering detection, then the filter's own selected columns.
import type { FilterMatch } from '../../store/store.ts';
import { browserSafe, formatUtc, formatValue, isNumeric } from './format.ts';
import { html, type SafeHtml } from './html.ts';

/** A match as sent to the browser: ids as text (exact), the row's values plain. */
export interface MatchData {
  seq: string;
  objectId: string;
  sourceId: string;
  mjd: number;
  matchedAt: string;
  row: Record<string, unknown>;
}

export function matchData(match: FilterMatch): MatchData {
  return {
    seq: match.seq.toString(),
    objectId: match.objectId,
    sourceId: match.sourceId.toString(),
    mjd: match.mjd,
    matchedAt: match.matchedAt,
    row: browserSafe(match.row) as Record<string, unknown>,
  };
}

/** The object page of a match; the survey is not part of a match, so the search resolves it. */
export function objectHref(objectId: string): string {
  return `/objects?id=${encodeURIComponent(objectId)}`;
}

/** The filter's selected columns as the table shows them, minus the object id already in its own column. */
export function rowColumns(columns: readonly string[]): string[] {
  return columns.filter((c) => c !== 'objectId');
}

function matchRow(match: FilterMatch, columns: readonly string[]): SafeHtml {
  return html`<tr data-seq="${match.seq}">
    <td class="nowrap">${formatUtc(match.matchedAt)}</td>
    <td class="id"><a href="${objectHref(match.objectId)}">${match.objectId}</a></td>
    <td class="num">${match.mjd.toFixed(5)}</td>
    ${columns.map((c) => {
      const v = match.row[c];
      return html`<td class="${isNumeric(v) ? 'num' : ''}">${formatValue(v, c)}</td>`;
    })}
  </tr>`;
}

export function matchTable(matches: readonly FilterMatch[], columns: readonly string[]): SafeHtml {
  return html`<div class="table-wrap scroll"><table id="matches-table" data-columns="${JSON.stringify(columns)}">
    <thead><tr><th scope="col">Matched (UTC)</th><th scope="col">Object</th><th scope="col" class="num">MJD</th>${columns.map((c) => html`<th scope="col">${c}</th>`)}</tr></thead>
    <tbody>${matches.map((m) => matchRow(m, columns))}</tbody>
  </table>
  <p class="empty${matches.length === 0 ? '' : ' hidden'}" id="matches-empty">No matches yet. New ones appear here as alerts pass the filter.</p></div>`;
}
