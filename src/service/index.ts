// Filter management: the service layer (validation, saving, streams kept in step), its HTTP API
// and an HTTP client with the same interface. Used by `nightjar filter`, the broker, the web app.
export type {
  FilterChanges, FilterDraft, FilterField, FilterManager, FilterProblem, FilterTotals, FilterView, ListOptions, NewFilter, RemoveResult, SaveResult, ShowResult, StreamReset,
} from './types.ts';
export type { FilterErrorCode } from './errors.ts';
export { FilterNotFoundError, FilterServiceError, FilterValidationError, TopicTakenError } from './errors.ts';
export type { Exclusive, FilterService, FilterServiceOptions } from './filter-service.ts';
export { createFilterService, retainedRecords } from './filter-service.ts';
export type { ApiErrorBody, FilterApiOptions } from './filter-api.ts';
export { filterApiRoutes } from './filter-api.ts';
export type { FilterClientOptions } from './filter-client.ts';
export { ApiUnreachableError, createFilterClient } from './filter-client.ts';
export { FilterValidator, MAX_DESCRIPTION_LENGTH, MAX_NAME_LENGTH, settingsProblems } from './filter-validation.ts';
export type { ProblemSource } from './problem-text.ts';
export { caretLines, formatProblems } from './problem-text.ts';
export { alertObjectId, loadStoredAlert, storedAlert } from './stored-alert.ts';
export type { StoredMatch, StoredMatches, StoredMatchesQuery } from './stored-matches.ts';
export { findStoredMatches, splitMatch, storedMatchesQuery } from './stored-matches.ts';
