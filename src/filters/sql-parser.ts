// DuckDB's own parser, used to read filter text. Parsing runs on a dedicated in-memory
// instance that holds no data and no batch: json_serialize_sql only parses, it never runs
// the text, but the instance is locked down anyway.
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { parse as parseJson } from '../util/json.ts';
import type { AstStatement, ParseOutcome } from './sql-ast.ts';

export interface SqlParser {
  /** Parses SQL text into DuckDB's parse tree without running it. */
  parse(sql: string): Promise<ParseOutcome>;
  close(): void;
}

export async function createSqlParser(): Promise<SqlParser> {
  const instance = await DuckDBInstance.create(':memory:', {
    enable_external_access: 'false',
    autoload_known_extensions: 'false',
    autoinstall_known_extensions: 'false',
    threads: '1',
    memory_limit: '64MB',
  });
  const connection = await instance.connect();
  await connection.run('SET lock_configuration = true');
  let queue: Promise<unknown> = Promise.resolve();
  return {
    parse(sql) {
      // One statement at a time on the connection, in call order.
      const result = queue.then(() => parseOn(connection, sql));
      queue = result.catch(() => undefined);
      return result;
    },
    close() {
      connection.closeSync();
      instance.closeSync();
    },
  };
}

async function parseOn(connection: DuckDBConnection, sql: string): Promise<ParseOutcome> {
  const reader = await connection.runAndReadAll('SELECT json_serialize_sql($1::VARCHAR)', [sql]);
  const text = reader.getRows()[0]?.[0];
  if (typeof text !== 'string') throw new Error('json_serialize_sql returned no text');
  // BigInt-aware: DuckDB writes 64-bit literals and positions as bare digits.
  const tree = parseJson(text) as { error?: boolean; error_message?: string; position?: string; statements?: AstStatement[] };
  if (tree.error === true) {
    const position = tree.position === undefined ? undefined : Number(tree.position);
    return { ok: false, message: tree.error_message ?? 'cannot parse', position: Number.isFinite(position) ? position : undefined };
  }
  return { ok: true, statements: tree.statements ?? [] };
}

let shared: Promise<SqlParser> | undefined;

/** A process-wide parser, created on first use. */
export function sharedSqlParser(): Promise<SqlParser> {
  if (shared === undefined) {
    const created = createSqlParser();
    shared = created;
    // A failed start is not remembered: the next call tries again.
    created.catch(() => {
      if (shared === created) shared = undefined;
    });
  }
  return shared;
}
