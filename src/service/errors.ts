// The typed errors of the filter service. Each carries the HTTP status the API answers with and
// a short code that the API writes in its error body, so the HTTP client can turn the body back
// into the same error class (the CLI works the same against the broker's API or a store file).
// They are UserErrors: a command prints the message as one line (validation errors format their
// problems with carets first, see problem-text.ts).
import { UserError } from '../util/errors.ts';
import type { FilterProblem } from './types.ts';

export type FilterErrorCode = 'invalid-filter' | 'not-found' | 'topic-taken';

export class FilterServiceError extends UserError {
  readonly status: number;
  readonly code: FilterErrorCode;
  constructor(message: string, status: number, code: FilterErrorCode) {
    super(message);
    this.name = 'FilterServiceError';
    this.status = status;
    this.code = code;
  }
}

/** The filter (or its settings) has problems; each names the box, the position in it and what is wrong. */
export class FilterValidationError extends FilterServiceError {
  readonly problems: readonly FilterProblem[];
  constructor(problems: readonly FilterProblem[], what = 'the filter') {
    const first = problems[0];
    const summary = first === undefined ? 'is not valid' : `${first.part}: ${first.message}${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''}`;
    super(`${what} ${first === undefined ? summary : `has ${problems.length === 1 ? 'a problem' : `${problems.length} problems`}: ${summary}`}`, 400, 'invalid-filter');
    this.name = 'FilterValidationError';
    this.problems = problems;
  }
}

export class FilterNotFoundError extends FilterServiceError {
  readonly filterId: number;
  constructor(filterId: number) {
    super(`there is no filter ${filterId}`, 404, 'not-found');
    this.name = 'FilterNotFoundError';
    this.filterId = filterId;
  }
}

/**
 * Another filter already writes to the topic this one would get. Lasair's naming rule maps
 * different names (and different users' names) to one topic: user 1's "2abc" and user 12's
 * "abc" are both <prefix>_12abc, and "a b" and "ab" collide.
 */
export class TopicTakenError extends FilterServiceError {
  readonly topic: string;
  readonly otherFilterId: number;
  readonly otherName: string;
  constructor(topic: string, otherFilterId: number, otherName: string) {
    super(`topic ${topic} is already the stream of filter ${otherFilterId} ("${otherName}"); choose another filter name`, 409, 'topic-taken');
    this.name = 'TopicTakenError';
    this.topic = topic;
    this.otherFilterId = otherFilterId;
    this.otherName = otherName;
  }
}
