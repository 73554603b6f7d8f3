// The pure bookkeeping of one filter-stream batch: feature rows in, with a hidden row number
// that ties each row back to its message; matching rows out, as message indices in input
// order; where each kept message goes; which offsets to commit.
//
// A stream filter judges each alert, not each object: two alerts of one object in a batch are
// two rows, each with the features of its own alert (unlike the broker, which keeps one row
// per object), so the row number, not the object id, is what identifies a result.
import type { Catalog, CatalogColumn } from '../filters/catalog.ts';

/**
 * The hidden column that numbers the rows of a batch. User conditions are compiled against the
 * catalog without it, so they cannot name it; only Nightjar's own SELECT reads it.
 */
export const ROW_COLUMN = 'nightjar_stream_row';

/** The catalog with ROW_COLUMN added to its primary table (the table filters read). */
export function withRowColumn(catalog: Catalog): Catalog {
  const [primary, ...others] = catalog.tables;
  if (primary === undefined) throw new Error('filter catalog has no tables');
  if (primary.columns.some((c) => c.name.toLowerCase() === ROW_COLUMN)) throw new Error(`filter catalog already has a column ${ROW_COLUMN}`);
  const row: CatalogColumn = { name: ROW_COLUMN, type: 'INTEGER', doc: 'position of the row in the filter-stream batch (internal)' };
  return { tables: [{ ...primary, columns: [...primary.columns, row] }, ...others] };
}

export interface BatchRows {
  /** One row per alert, with ROW_COLUMN set to its index in this array. */
  readonly rows: Record<string, unknown>[];
  /** For each row, the index of the message it came from. */
  readonly messageOfRow: number[];
}

/**
 * The engine's rows for a batch: for each message, the feature rows of its alerts (one for
 * most encodings, several for a container of many alerts), or null for a message that is not
 * judged (undecodable, not an alert).
 */
export function batchRows(featuresPerMessage: readonly (readonly Readonly<Record<string, unknown>>[] | null)[]): BatchRows {
  const rows: Record<string, unknown>[] = [];
  const messageOfRow: number[] = [];
  featuresPerMessage.forEach((features, message) => {
    for (const row of features ?? []) {
      rows.push({ ...row, [ROW_COLUMN]: rows.length });
      messageOfRow.push(message);
    }
  });
  return { rows, messageOfRow };
}

/**
 * The messages with at least one matching row, as sorted message indices (input order; the
 * engine's row order is not defined). Throws on a row number the batch does not have.
 */
export function matchedMessages(resultRows: readonly Readonly<Record<string, unknown>>[], messageOfRow: readonly number[]): number[] {
  const matched = new Set<number>();
  for (const row of resultRows) {
    const index = Number(row[ROW_COLUMN]);
    const message = messageOfRow[index];
    if (!Number.isInteger(index) || message === undefined) throw new Error(`filter result names row ${String(row[ROW_COLUMN])}, which the batch of ${messageOfRow.length} rows does not have`);
    matched.add(message);
  }
  return [...matched].sort((a, b) => a - b);
}

/** The first maxPerBatch matches (in input order) and how many were cut; no cap when undefined. */
export function capMatches(matched: readonly number[], maxPerBatch: number | undefined): { kept: number[]; capped: number } {
  if (maxPerBatch === undefined || matched.length <= maxPerBatch) return { kept: [...matched], capped: 0 };
  return { kept: matched.slice(0, maxPerBatch), capped: matched.length - maxPerBatch };
}

/**
 * The output partition for a kept message, or undefined to let the producer hash its key.
 * With as many output partitions as input partitions, a message keeps its partition number:
 * the output then has the input's grouping and order exactly, whatever partitioner the input
 * used. Otherwise keyed messages are hashed by key (one object's alerts stay together and in
 * order) and key-less ones spread by input partition (keeping each input partition's order).
 */
export function outputPartition(inputPartition: number, hasKey: boolean, inputPartitions: number, outputPartitions: number): number | undefined {
  if (outputPartitions === inputPartitions) return inputPartition;
  return hasKey ? undefined : inputPartition % outputPartitions;
}

