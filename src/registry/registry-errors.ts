// Errors in the Confluent schema registry's own shape: a numeric error_code whose first three
// digits are the HTTP status, and a message. Clients (confluent_kafka, Java serializers) branch
// on error_code, so the codes are Confluent's.

/** Confluent's error codes for the endpoints Nightjar serves. */
export const REGISTRY_ERROR = {
  subjectNotFound: 40401,
  versionNotFound: 40402,
  schemaNotFound: 40403,
  invalidSchema: 42201,
  invalidVersion: 42202,
  storeError: 50001,
} as const;

export class RegistryError extends Error {
  readonly errorCode: number;
  constructor(errorCode: number, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RegistryError';
    this.errorCode = errorCode;
  }

  /** HTTP status: the first three digits of the error code (40403 → 404). */
  get status(): number {
    return this.errorCode >= 1000 ? Math.floor(this.errorCode / 100) : this.errorCode;
  }

  /** The response body Confluent's clients parse. */
  body(): { error_code: number; message: string } {
    return { error_code: this.errorCode, message: this.message };
  }
}
