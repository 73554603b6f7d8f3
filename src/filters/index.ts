// The filter language: parse, validate and compile astronomers' SQL filters; run them on a batch.
export type { Catalog, CatalogColumn, CatalogTable, ColumnType } from './catalog.ts';
export { checkCatalog } from './catalog.ts';
export type { CompiledFilter, DialectSql, FilterDialect, FilterError, FilterPart, FilterSource } from './parse-filter.ts';
export { filterSqlFor, isFilterErrors, maxPartLength, parseFilter } from './parse-filter.ts';
export { postgresHelperFunctionsSql } from './postgres-functions.ts';
export type { FilterEngineOptions, FilterResult, FilterRunError, RunOptions } from './filter-engine.ts';
export { FilterChecker } from './filter-checker.ts';
export type { FilterDatabaseOptions } from './filter-database.ts';
export { FilterEngine } from './filter-engine.ts';
export { batchColumns } from './batch-columns.ts';
export type { SqlParser } from './sql-parser.ts';
export { createSqlParser, sharedSqlParser } from './sql-parser.ts';
export type { AllowedFunction } from './functions.ts';
export { allowedFunctions } from './functions.ts';
