// Users and filters between their stored rows and the Store's plain data: checks on what is
// saved, conversions of what is read.
import { listValue, type DuckDBValue } from '@duckdb/node-api';
import { UserError } from '../util/errors.ts';
import { FILTER_OUTPUTS, type FilterInput, type FilterOutput, type StoredFilter, type StoredUser } from './store.ts';

/** A user or filter id, checked to be an integer. */
export function checkId(id: number, what: string): number {
  if (!Number.isSafeInteger(id)) throw new Error(`${what} id must be an integer, got ${String(id)}`);
  return id;
}

/** The columns of a filter row, checked; throws a UserError naming the problem. */
export function filterValues(filter: FilterInput): Record<string, DuckDBValue> {
  const what = `filter "${String(filter.name)}"`;
  checkId(filter.ownerId, 'owner');
  if (typeof filter.name !== 'string' || filter.name.trim() === '') throw new UserError('a filter needs a name');
  if (typeof filter.select !== 'string' || typeof filter.where !== 'string') throw new UserError(`${what}: select and where must be text`);
  const output: FilterOutput = filter.output ?? 'none';
  if (!(FILTER_OUTPUTS as readonly string[]).includes(output)) throw new UserError(`${what}: output must be one of ${FILTER_OUTPUTS.join(', ')}, not ${String(output)}`);
  const tables = filter.tables ?? [];
  if (!Array.isArray(tables) || tables.some((t) => typeof t !== 'string')) throw new UserError(`${what}: tables must be a list of table names`);
  const topic = filter.topic ?? null;
  if (topic !== null && (typeof topic !== 'string' || topic === '')) throw new UserError(`${what}: topic must be a non-empty name or null`);
  return {
    ownerId: filter.ownerId,
    name: filter.name,
    description: filter.description ?? '',
    select: filter.select,
    where: filter.where,
    tables: listValue([...tables]),
    public: filter.public ?? false,
    output,
    active: filter.active ?? true,
    topic,
  };
}

export function toUser(row: Record<string, unknown>): StoredUser {
  return {
    id: row.id as number,
    email: row.email as string,
    name: row.name as string,
    passwordHash: row.passwordHash as string | null,
    createdAt: (row.createdAt as Date).toISOString(),
  };
}

export function toFilter(row: Record<string, unknown>): StoredFilter {
  return {
    id: row.id as number,
    ownerId: row.ownerId as number,
    name: row.name as string,
    description: row.description as string,
    select: row.select as string,
    where: row.where as string,
    tables: row.tables as string[],
    public: row.public as boolean,
    output: row.output as FilterOutput,
    active: row.active as boolean,
    topic: row.topic as string | null,
    createdAt: (row.createdAt as Date).toISOString(),
    updatedAt: (row.updatedAt as Date).toISOString(),
  };
}
