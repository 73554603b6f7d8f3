// The checked shape of one compiled filter expression, built by compile-expression.ts in the
// same walk that writes its DuckDB SQL, so that other dialects (postgres-emit.ts) are written
// from exactly what was checked. Each node keeps its DuckDB SQL (from which expression-types.ts
// asks DuckDB's binder for its type) and where it came from in the user's text.

export type IrLiteral = 'null' | 'integer' | 'decimal' | 'double' | 'text' | 'boolean';

export type IrKind =
  | 'column'
  | 'literal'
  | 'compare'
  | 'and'
  | 'or'
  | 'not'
  | 'isnull'
  | 'isnotnull'
  | 'in'
  | 'notin'
  | 'between'
  | 'case'
  | 'cast'
  | 'unary'
  | 'binary'
  | 'like'
  | 'call'
  | 'coalesce';

export interface IrNode {
  kind: IrKind;
  /** This node's DuckDB SQL, as compiled. */
  sql: string;
  /** Offset in the user's text of its box (for error messages). */
  offset: number;
  args: readonly IrNode[];
  /** column: table name; compare/unary/binary: the operator; cast: the DuckDB type; call: the filter-language function name (lower case). */
  op?: string;
  /** column: column name; literal: the value as SQL (numbers) or the text itself (text); like: the user's LIKE pattern. */
  value?: string;
  literal?: IrLiteral;
  /** cast: TRY_CAST; like: NOT LIKE; case: whether it has an ELSE (the last argument). */
  flag?: boolean;
  /** like: ILIKE. */
  caseInsensitive?: boolean;
}
