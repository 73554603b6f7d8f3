// The store: objects, lightcurves, alerts, users, filters and counters (see store.ts).
export type {
  AlertOrigin, BatchWriteResult, FilterCounterDelta, FilterCounters, FilterInput, FilterOutput, ListFiltersOptions, NewUser, NightRange, ObjectKey,
  PipelineCounterDelta, PipelineCounters, QueryOptions, QueryParam, QueryResult, Store, StoreBatch, StoreCounts, StoredAlert, StoredFilter, StoredUser,
} from './store.ts';
export { CUTOUT_POLICIES, FILTER_OUTPUTS } from './store.ts';
export type { CutoutPolicy, StoredCutouts } from './store.ts';
// A postgres:// URL as the path opens the PostgreSQL store, anything else the DuckDB file.
export { isPostgresUrl, openStore } from './open-store.ts';
export type { OpenStoreOptions } from './duckdb-store.ts';
export { StoreQueryError } from './errors.ts';
export type { StoreQueryErrorKind } from './errors.ts';
export { SCHEMA_VERSION } from './migrations.ts';
export { utcNight } from './counters.ts';
export type { EmailDigestState, FilterMatch, NewFilterMatch } from './store.ts';
