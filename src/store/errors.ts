// Errors of Store.queryObjects, kept apart from the Store contract so every implementation
// reports the same kinds.

export type StoreQueryErrorKind = 'refused' | 'timeout' | 'error';

/** A query that was not run (refused), ran past its time limit (timeout), or failed (error). */
export class StoreQueryError extends Error {
  readonly kind: StoreQueryErrorKind;
  readonly sql: string;
  constructor(kind: StoreQueryErrorKind, message: string, sql: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StoreQueryError';
    this.kind = kind;
    this.sql = sql;
  }
}
