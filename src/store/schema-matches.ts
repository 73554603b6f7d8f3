// Schema version 2: the filters' matches, as the pipeline delivered them, and each filter's email
// digest bookkeeping. Matches are what the web app shows live and what email digests are made
// of; `seq` orders them over the whole table and is the digests' watermark. No indexes, as for
// the points table (schema.ts): the pipeline's single writer keeps (filterId, objectId,
// sourceId) unique by an anti-join in the insert's transaction, and readers scan with filterId
// conditions that DuckDB's zone maps narrow.
import { quoteIdentifier as q } from '../filters/sql-text.ts';

/** The tables of schema version 2, in creation order. */
export function matchesSchema(): string[] {
  return [
    // row: the filter's selected columns as JSON (src/util/json.ts: 64-bit ids as bare digits).
    // survey: of the object (for links to its page); null where the writer did not say.
    `CREATE TABLE filter_matches (seq BIGINT NOT NULL, filterId INTEGER NOT NULL, objectId VARCHAR NOT NULL, sourceId BIGINT NOT NULL, mjd DOUBLE NOT NULL,
      matchedAt TIMESTAMPTZ NOT NULL, survey VARCHAR, ${q('row')} VARCHAR NOT NULL)`,
    // The last seq handed out: seqs follow the order rows are given in, which a sequence
    // evaluated inside a parallel INSERT ... SELECT does not promise.
    "INSERT INTO store_state VALUES ('filterMatchSeq', 0)",
    // One row per filter that email has been sent for, or tried.
    `CREATE TABLE email_digests (filterId INTEGER PRIMARY KEY, sentThroughSeq BIGINT NOT NULL, emailSince TIMESTAMPTZ, lastSentAt TIMESTAMPTZ,
      failures INTEGER NOT NULL, lastError VARCHAR, lastErrorAt TIMESTAMPTZ, retryAt TIMESTAMPTZ, filterErrorSentAt TIMESTAMPTZ)`,
  ];
}
