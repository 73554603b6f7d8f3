// The one error an adapter throws: a record that cannot become an Alert. It names the writer
// schema and the field, so a dead-letter entry says exactly what was wrong with which data.

/**
 * `missing`: a required field is absent or null. `invalid`: present with an unusable value.
 * `unsupported`: the schema/record is not an alert layout an adapter knows.
 */
export type AdapterProblem = 'missing' | 'invalid' | 'unsupported';

export class AdapterError extends Error {
  /** Writer schema full name, e.g. `lsst.v9_0.alert` or `topLevelRecord`. */
  readonly schema: string;
  /** Path of the field in the record, e.g. `diaSource.midpointMjdTai` or `prv_candidates[3].jd`. */
  readonly field: string;
  readonly problem: AdapterProblem;

  constructor(schema: string, field: string, problem: AdapterProblem, detail?: string) {
    const what =
      problem === 'missing' ? `required field ${field} is missing` :
      problem === 'invalid' ? `field ${field} is invalid` :
      `not an alert layout this broker reads (${field})`;
    super(`schema ${schema}: ${what}${detail === undefined ? '' : `: ${detail}`}`);
    this.name = 'AdapterError';
    this.schema = schema;
    this.field = field;
    this.problem = problem;
  }
}
