// DuckDB's own binder as the judge of each compiled expression's type: the PostgreSQL form of
// a filter (postgres-emit.ts) follows DuckDB's typing (INTEGER / INTEGER is a DOUBLE, a literal
// 1.5 a DECIMAL(2,1), sign() a TINYINT, 100 next to a TINYINT a TINYINT, ...), which no
// hand-written table would keep up with.
//
// Nodes are typed bottom-up, each from its own operator and its children's types: the node's
// SQL with every child replaced by a stand-in of the child's type, a column of that type in an
// empty table (literals stay themselves, since DuckDB types a literal by where it is used; a
// CAST(NULL AS ...) would not do, the binder folds NULLs through). Preparing
// `SELECT <stand-in expressions> FROM types` binds without running anything. One locked
// in-memory DuckDB with the helper macros serves every catalog, and a shape seen once
// (`types."INTEGER" > 3`) is never bound again: a filter costs a few small prepares, where
// binding each node's whole SQL took time growing with the square of its depth.
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { findColumn, findTable, type Catalog } from './catalog.ts';
import type { IrNode } from './filter-ir.ts';
import { helperMacros } from './functions.ts';
import { quoteIdentifier } from './sql-text.ts';

/** A DuckDB type as the binder names it: INTEGER, DECIMAL(5,2), VARCHAR, ... */
export interface SqlType {
  /** The type's name without parameters, e.g. DECIMAL. */
  id: string;
  width?: number;
  scale?: number;
  /** As DuckDB writes it. */
  text: string;
}

export function parseSqlType(text: string): SqlType {
  const decimal = /^DECIMAL\((\d+),\s*(\d+)\)$/.exec(text);
  if (decimal !== null) return { id: 'DECIMAL', width: Number(decimal[1]), scale: Number(decimal[2]), text };
  return { id: text.replace(/^"|"$/g, ''), text };
}

export function sameSqlType(a: SqlType, b: SqlType): boolean {
  return a.id === b.id && a.width === b.width && a.scale === b.scale;
}

const NULL_TYPE: SqlType = { id: 'NULL', text: '"NULL"' };
const VARCHAR_TYPE: SqlType = { id: 'VARCHAR', text: 'VARCHAR' };
const BOOLEAN_TYPE: SqlType = { id: 'BOOLEAN', text: 'BOOLEAN' };

interface Typer {
  connection: DuckDBConnection;
  queue: Promise<unknown>;
  /** Types that have a column in the stand-in table. */
  columns: Set<string>;
}

let shared: Promise<Typer> | undefined;
// Types of stand-in expressions already bound, by their SQL; cleared when it grows this big.
const known = new Map<string, SqlType>();
const maxKnown = 50_000;
// Expressions per prepared statement.
const chunk = 500;

function typer(): Promise<Typer> {
  if (shared === undefined) {
    const created = (async (): Promise<Typer> => {
      const instance = await DuckDBInstance.create(':memory:', {
        enable_external_access: 'false',
        autoload_known_extensions: 'false',
        autoinstall_known_extensions: 'false',
        threads: '1',
        memory_limit: '64MB',
      });
      const connection = await instance.connect();
      for (const macro of helperMacros) await connection.run(macro);
      await connection.run('CREATE TABLE types (nothing INTEGER)');
      await connection.run('SET lock_configuration = true');
      return { connection, queue: Promise.resolve(), columns: new Set() };
    })();
    shared = created;
    // A failed start is not remembered: the next call tries again.
    created.catch(() => {
      if (shared === created) shared = undefined;
    });
  }
  return shared;
}

/** The types DuckDB's binder gives these stand-in expressions over columns of `columnTypes`; throws its error if one does not bind. */
async function bind(expressions: readonly string[], columnTypes: readonly SqlType[]): Promise<SqlType[]> {
  const t = await typer();
  const work = async (): Promise<SqlType[]> => {
    for (const type of columnTypes) {
      if (t.columns.has(type.text)) continue;
      await t.connection.run(`ALTER TABLE types ADD COLUMN ${quoteIdentifier(type.text)} ${type.text}`);
      t.columns.add(type.text);
    }
    const out: SqlType[] = [];
    for (let start = 0; start < expressions.length; start += chunk) {
      const prepared = await t.connection.prepare(`SELECT ${expressions.slice(start, start + chunk).join(', ')} FROM types`);
      try {
        for (let i = 0; i < prepared.columnCount; i++) out.push(parseSqlType(prepared.columnType(i).toString()));
      } finally {
        prepared.destroySync();
      }
    }
    return out;
  };
  const result = t.queue.then(work);
  t.queue = result.catch(() => undefined);
  return result;
}

/** A child as it stands in its parent's stand-in SQL: itself if a literal, else a column of its type. */
function standIn(child: IrNode, type: SqlType): string {
  if (child.kind === 'literal' || type.id === 'NULL') return child.kind === 'literal' ? child.sql : 'NULL';
  return `types.${quoteIdentifier(type.text)}`;
}

/** A type as DuckDB writes it, safe to use as a column type: only the type names and DECIMAL(w,s) it prints. */
function columnType(type: SqlType): boolean {
  return /^[A-Z][A-Z0-9_ ]*$/.test(type.text) || /^DECIMAL\(\d+,\d+\)$/.test(type.text);
}

/** The node's SQL with each child's SQL (found in order) replaced by its stand-in, or undefined if a child is not where expected. */
function standInSql(node: IrNode, childTypes: readonly SqlType[]): string | undefined {
  let out = '';
  let at = 0;
  for (const [i, child] of node.args.entries()) {
    const found = node.sql.indexOf(child.sql, at);
    if (found < 0) return undefined;
    out += node.sql.slice(at, found) + standIn(child, childTypes[i] as SqlType);
    at = found + child.sql.length;
  }
  return out + node.sql.slice(at);
}

/**
 * DuckDB's type of every node of the trees (columns of the catalog's tables). Throws DuckDB's
 * binder error if a node does not bind, as the whole filter would not.
 */
export async function nodeTypes(catalog: Catalog, roots: readonly IrNode[]): Promise<Map<IrNode, SqlType>> {
  const types = new Map<IrNode, SqlType>();
  // Post-order: children before parents; each round binds every node whose children are typed.
  const order: IrNode[] = [];
  const visit = (node: IrNode): void => {
    for (const child of node.args) visit(child);
    order.push(node);
  };
  roots.forEach(visit);
  let pending = order.filter((node) => {
    const fixed = fixedType(node, catalog);
    if (fixed !== undefined) types.set(node, fixed);
    return fixed === undefined;
  });
  while (pending.length > 0) {
    const ready = pending.filter((node) => node.args.every((child) => types.has(child)));
    if (ready.length === 0) throw new Error('internal error: expression types form a cycle');
    const columns = new Map<string, SqlType>();
    const sqls = ready.map((node) => {
      const childTypes = node.args.map((child) => types.get(child) as SqlType);
      for (const [i, type] of childTypes.entries()) {
        if (node.args[i]?.kind === 'literal' || type.id === 'NULL') continue;
        if (!columnType(type)) throw new Error(`internal error: unexpected type ${type.text} of ${node.args[i]?.sql ?? ''}`);
        columns.set(type.text, type);
      }
      const sql = standInSql(node, childTypes);
      if (sql === undefined) throw new Error(`internal error: the parts of ${node.sql} are not where expected`);
      return sql;
    });
    const unknown = [...new Set(sqls.filter((sql) => !known.has(sql)))];
    if (unknown.length > 0) {
      const bound = await bind(unknown, [...columns.values()]);
      if (known.size + unknown.length > maxKnown) known.clear();
      unknown.forEach((sql, i) => known.set(sql, bound[i] as SqlType));
    }
    ready.forEach((node, i) => types.set(node, known.get(sqls[i] as string) as SqlType));
    const done = new Set(ready);
    pending = pending.filter((node) => !done.has(node));
  }
  return types;
}

/** The type of a node that needs no binding: a column (from the catalog), text, boolean, NULL. */
function fixedType(node: IrNode, catalog: Catalog): SqlType | undefined {
  if (node.kind === 'column') {
    const table = findTable(catalog, node.op ?? '');
    const column = table === undefined ? undefined : findColumn(table, node.value ?? '');
    if (column === undefined) throw new Error(`internal error: no column ${node.op ?? ''}.${node.value ?? ''} in the catalog`);
    return parseSqlType(column.type);
  }
  if (node.kind !== 'literal') return undefined;
  if (node.literal === 'text') return VARCHAR_TYPE;
  if (node.literal === 'boolean') return BOOLEAN_TYPE;
  if (node.literal === 'null') return NULL_TYPE;
  return undefined;
}
