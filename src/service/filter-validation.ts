// Everything that can be wrong with a filter before it is saved, each problem with the box it is
// in and where: the SQL (parseFilter: syntax, unknown columns and functions, refused
// constructs), the types (FilterChecker: DuckDB's binder on a row of NULLs), the Avro schema of
// an Avro stream (a column type Avro cannot carry), and the settings (name, output,
// description).
import type { Catalog } from '../filters/catalog.ts';
import { FilterChecker } from '../filters/filter-checker.ts';
import { isFilterErrors, parseFilter, type CompiledFilter } from '../filters/parse-filter.ts';
import { findControlCharacter } from '../filters/sql-text.ts';
import { createStreamEncoder } from '../delivery/stream-encoder.ts';
import { STREAM_OUTPUTS, isKafkaOutput, type StreamOutput } from '../delivery/output-modes.ts';
import { sanitiseFilterName } from '../delivery/topic-name.ts';
import type { FilterDraft, FilterProblem } from './types.ts';

export const MAX_NAME_LENGTH = 256;
export const MAX_DESCRIPTION_LENGTH = 10_000;

export interface SettingsDraft {
  name?: unknown;
  description?: unknown;
  output?: unknown;
  public?: unknown;
  active?: unknown;
  tables?: unknown;
}

function isOutput(value: unknown): value is StreamOutput {
  return typeof value === 'string' && (STREAM_OUTPUTS as readonly string[]).includes(value);
}

/** Problems with a filter's settings (not its SQL). `name` is checked when given or required. */
export function settingsProblems(draft: SettingsDraft, nameRequired: boolean): FilterProblem[] {
  const problems: FilterProblem[] = [];
  const add = (part: FilterProblem['part'], message: string): void => {
    problems.push({ part, offset: 0, message });
  };
  if (draft.output !== undefined && !isOutput(draft.output)) add('output', `output must be one of ${STREAM_OUTPUTS.join(', ')}, not "${String(draft.output)}"`);
  if (draft.name !== undefined || nameRequired) {
    const name = draft.name;
    if (typeof name !== 'string' || name.trim() === '') add('name', 'a filter needs a name');
    else if (name.length > MAX_NAME_LENGTH) add('name', `the name is ${name.length} characters long; at most ${MAX_NAME_LENGTH} are allowed`);
    else if (findControlCharacter(name, false) >= 0) add('name', 'the name contains control characters');
    else if (isOutput(draft.output) && isKafkaOutput(draft.output) && sanitiseFilterName(name) === '') {
      add('name', `a Kafka stream's topic is named after the filter, keeping its letters, digits, "_", "-" and "."; "${name}" has none`);
    }
  }
  if (draft.description !== undefined && (typeof draft.description !== 'string' || draft.description.length > MAX_DESCRIPTION_LENGTH)) {
    add('description', `the description must be text of at most ${MAX_DESCRIPTION_LENGTH} characters`);
  }
  if (draft.public !== undefined && typeof draft.public !== 'boolean') add('public', 'public must be true or false');
  if (draft.active !== undefined && typeof draft.active !== 'boolean') add('active', 'active must be true or false');
  if (draft.tables !== undefined && (!Array.isArray(draft.tables) || draft.tables.some((t) => typeof t !== 'string'))) add('tables', 'tables must be a list of table names');
  return problems;
}

/** Compiles and checks filters against one catalog; holds a small DuckDB for type checks (close it). */
export class FilterValidator {
  readonly catalog: Catalog;
  private checker: Promise<FilterChecker> | undefined;

  constructor(catalog: Catalog) {
    this.catalog = catalog;
  }

  /** The compiled filter, or every problem found (settings and SQL together, so one round shows them all). */
  async compile(draft: FilterDraft, nameRequired = false): Promise<CompiledFilter | FilterProblem[]> {
    const problems = settingsProblems(draft, nameRequired);
    const tables = Array.isArray(draft.tables) ? draft.tables : undefined;
    const parsed = await parseFilter({ select: draft.select, where: draft.where ?? '', ...(tables === undefined ? {} : { tables }) }, this.catalog);
    if (isFilterErrors(parsed)) return [...problems, ...parsed];
    problems.push(...(await this.typeChecker().then((c) => c.check(parsed))));
    if (problems.length === 0 && draft.output === 'kafka-avro') {
      // The Avro schema is made from the output columns' DuckDB types; refuse a type it cannot carry now, not at the first match.
      try {
        await createStreamEncoder('kafka-avro', parsed, this.catalog, typeof draft.name === 'string' && draft.name !== '' ? draft.name : 'filter');
      } catch (error) {
        problems.push({ part: 'select', offset: 0, message: `cannot be sent as Avro: ${(error as Error).message}` });
      }
    }
    return problems.length > 0 ? problems : parsed;
  }

  async close(): Promise<void> {
    const checker = this.checker;
    this.checker = undefined;
    if (checker !== undefined) await (await checker).close();
  }

  private typeChecker(): Promise<FilterChecker> {
    this.checker ??= FilterChecker.create(this.catalog).catch((error: unknown) => {
      this.checker = undefined; // try again next time rather than keep the failure
      throw error;
    });
    return this.checker;
  }
}
