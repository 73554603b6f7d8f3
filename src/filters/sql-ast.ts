// The parts of DuckDB's parse tree (json_serialize_sql output) that the filter compiler reads.
// Every field is optional: the JSON comes from another program, and a missing field must
// lead to a rejection, never to a crash or a silent acceptance.

export interface AstValue {
  type?: { id?: string; type_info?: AstTypeInfo | null };
  is_null?: boolean;
  value?: unknown;
}

export interface AstTypeInfo {
  type?: string;
  alias?: string;
  extension_info?: unknown;
  width?: number;
  scale?: number;
}

export interface AstType {
  id?: string;
  type_info?: AstTypeInfo | null;
}

export interface AstExpression {
  class?: string;
  type?: string;
  alias?: string;
  query_location?: number | bigint;
  // COLUMN_REF
  column_names?: string[];
  // FUNCTION
  function_name?: string;
  schema?: string;
  catalog?: string;
  children?: AstExpression[];
  filter?: AstExpression | null;
  order_bys?: { orders?: unknown[] } | null;
  distinct?: boolean;
  is_operator?: boolean;
  export_state?: boolean;
  // COMPARISON
  left?: AstExpression;
  right?: AstExpression;
  // BETWEEN
  input?: AstExpression;
  lower?: AstExpression;
  upper?: AstExpression;
  // CAST
  child?: AstExpression;
  cast_type?: AstType;
  try_cast?: boolean;
  // CASE
  case_checks?: { when_expr?: AstExpression; then_expr?: AstExpression }[];
  else_expr?: AstExpression;
  // CONSTANT
  value?: AstValue;
  // STAR
  relation_name?: string;
  exclude_list?: unknown[];
  replace_list?: unknown[];
  columns?: boolean;
  expr?: AstExpression | null;
  qualified_exclude_list?: unknown[];
  rename_list?: unknown[];
}

export interface AstTableRef {
  type?: string;
  table_name?: string;
  schema_name?: string;
  catalog_name?: string;
  alias?: string;
  left?: AstTableRef;
  right?: AstTableRef;
  condition?: AstExpression | null;
  join_type?: string;
  ref_type?: string;
  using_columns?: string[];
  sample?: unknown;
  at_clause?: unknown;
  column_name_alias?: unknown[];
}

export interface AstQueryNode {
  type?: string;
  modifiers?: { type?: string }[];
  cte_map?: { map?: unknown[] };
  select_list?: AstExpression[];
  from_table?: AstTableRef;
  where_clause?: AstExpression | null;
  group_expressions?: unknown[];
  group_sets?: unknown[];
  aggregate_handling?: string;
  having?: AstExpression | null;
  sample?: unknown;
  qualify?: AstExpression | null;
}

export interface AstStatement {
  node?: AstQueryNode;
}

/** Result of parsing one SQL text. position is a UTF-8 byte offset into that text. */
export type ParseOutcome =
  | { ok: true; statements: AstStatement[] }
  | { ok: false; message: string; position: number | undefined };
