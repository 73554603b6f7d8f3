// `nightjar filter add|list|show|update|remove`: manage users' filters until the web app exists.
// Talks to the running broker's API (--api, default http://127.0.0.1:18080); when nothing listens
// there it opens the store file itself (--store) with its own Kafka clients, and says so on
// stderr. A PostgreSQL store (--store postgres://...), which several brokers share and keep no
// admin token beside, is used directly unless --api is given: the brokers notice the change
// within seconds. Both ways go through the same filter service (src/service/).
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { STREAM_OUTPUTS, STREAM_OUTPUT_LABELS, parseStreamOutput } from '../delivery/output-modes.ts';
import { DEFAULT_TOPIC_PREFIX } from '../delivery/topic-name.ts';
import { createAdmin, createProducer } from '../kafka/connection.ts';
import { createKafkaAccess } from '../kafka/access.ts';
import { repoRoot } from '../kafka/local-config.ts';
import { adminTokenPath, readAdminToken } from '../service/filter-api.ts';
import { ApiUnreachableError, createFilterClient } from '../service/filter-client.ts';
import { createFilterService } from '../service/filter-service.ts';
import { FilterValidationError } from '../service/errors.ts';
import { formatProblems, type ProblemSource } from '../service/problem-text.ts';
import type { FilterChanges, FilterManager, FilterView, NewFilter, RemoveResult, SaveResult, ShowResult } from '../service/types.ts';
import { openStore } from '../store/index.ts';
import { isPostgresUrl } from '../store/open-store.ts';
import { storeLocation } from './broker-command.ts';
import { UserError } from '../util/errors.ts';
import { stringify } from '../util/json.ts';
import { addKafkaOptions, kafkaSettingsFrom, type KafkaFlags } from './kafka-options.ts';

export const DEFAULT_API_URL = 'http://127.0.0.1:18080';
export const DEFAULT_STORE_PATH = path.join(repoRoot, '.data', 'nightjar.duckdb');

interface CommonFlags extends KafkaFlags {
  /** Absent: the default address, except with a PostgreSQL store (then the store directly). */
  api?: string;
  store: string;
  topicPrefix: string;
  json?: boolean;
}

interface SettingsFlags {
  name?: string;
  description?: string;
  select?: string;
  where?: string;
  tables?: string;
  output?: string;
}

interface AddFlags extends CommonFlags, SettingsFlags {
  owner: string;
  public?: boolean;
  inactive?: boolean;
}

interface UpdateFlags extends CommonFlags, SettingsFlags {
  public?: boolean;
  private?: boolean;
  active?: boolean;
  inactive?: boolean;
}

interface ListFlags extends CommonFlags {
  owner?: string;
}

const HELP = `
Filters are SQL in two boxes, as in Lasair: --select lists what to deliver, --where the
condition (docs/filters.md; columns in docs/columns.md). --output says what happens to matches:
${STREAM_OUTPUTS.map((o) => `  ${o.padEnd(11)} ${STREAM_OUTPUT_LABELS[o]}`).join('\n')}
A Kafka filter writes to the topic <prefix>_<user id><name without spaces and punctuation>;
saving it, or changing its name, SELECT, WHERE, tables or output, empties that topic and puts
up to 10 records from the stored objects in. Removing a filter deletes its topic.

The commands talk to the running broker's API (--api); when nothing listens there they open the
store file directly (--store) and use Kafka themselves (each command's Kafka options), saying
so on stderr. With the PostgreSQL store of several brokers (--store postgres://...) they work on
the store directly (unless --api is given): every broker picks the change up within 2 seconds. A bad filter is shown with a caret under the problem, and the command exits with 1.

  nightjar filter add --owner ann@example.org --name "bright SN" --output kafka \\
      --select "diaObjectId, ra, decl, alertMag" --where "alertMag < 19 AND nSources > 3"
  nightjar filter list
  nightjar filter update 1 --where "alertMag < 18.5"
  nightjar filter remove 1`;

function addCommonOptions(command: Command): Command {
  command
    .option('--api <url>', `the broker's API (default ${DEFAULT_API_URL}; with a PostgreSQL --store only when given)`)
    .option('--store <file|url>', 'the store file, used when no API answers (and where the broker\'s admin token is: <file>.admin-token); or the brokers\' PostgreSQL store postgres://user:password@host:port/db, used directly', DEFAULT_STORE_PATH)
    .option('--topic-prefix <prefix>', 'first part of filter topic names, used when no API answers (the broker\'s setting)', DEFAULT_TOPIC_PREFIX)
    .option('--json', 'print the result as JSON');
  return addKafkaOptions(command);
}

export function registerFilterCommand(program: Command): void {
  const filter = program.command('filter').description('add, list, show, change and remove filters (the broker\'s API, or the store directly)');
  filter.addHelpText('after', HELP);

  addCommonOptions(
    filter
      .command('add')
      .description('save a new filter; a Kafka filter gets up to 10 records in its stream at once')
      .requiredOption('--owner <email|id>', 'owner: an email address (the user is created if new) or a user id')
      .requiredOption('--name <name>', 'filter name (also names the Kafka topic)')
      .requiredOption('--select <columns>', 'the SELECT box, e.g. "diaObjectId, ra, decl"')
      .option('--where <condition>', 'the WHERE box (default: every object)')
      .option('--tables <t1,t2>', 'extra tables to join, comma-separated')
      .option('--output <output>', `what to do with matches: ${STREAM_OUTPUTS.join(', ')}`, 'none')
      .option('--public', 'let other users see the filter')
      .option('--inactive', 'save without running it on incoming alerts')
      .option('--description <text>', 'what the filter is for'),
  ).action(async (flags: AddFlags) => run(flags, (m) => addFilter(m, flags)));

  addCommonOptions(filter.command('list').description('list filters').option('--owner <email|id>', 'only this owner\'s filters')).action(async (flags: ListFlags) =>
    run(flags, async (m) => {
      const filters = await m.list(flags.owner === undefined ? {} : { owner: flags.owner });
      print(flags, { filters }, () => listText(filters));
    }, 'read'),
  );

  addCommonOptions(filter.command('show').description('show a filter, its stream and its counters').argument('<id>', 'filter id')).action(async (id: string, flags: CommonFlags) =>
    run(flags, async (m) => {
      const shown = await m.show(filterId(id));
      print(flags, shown, () => showText(shown));
    }, 'read'),
  );

  addCommonOptions(
    filter
      .command('update')
      .description('change a filter; a change to its name, SELECT, WHERE, tables or output empties its stream and puts up to 10 records back')
      .argument('<id>', 'filter id')
      .option('--name <name>', 'new name (moves a Kafka stream to the new topic)')
      .option('--select <columns>', 'new SELECT box')
      .option('--where <condition>', 'new WHERE box ("" for every object)')
      .option('--tables <t1,t2>', 'new extra tables, comma-separated ("" for none)')
      .option('--output <output>', `new output: ${STREAM_OUTPUTS.join(', ')}`)
      .option('--public', 'make the filter public')
      .option('--private', 'make the filter private')
      .option('--active', 'run it on incoming alerts')
      .option('--inactive', 'stop running it on incoming alerts')
      .option('--description <text>', 'new description'),
  ).action(async (id: string, flags: UpdateFlags) => run(flags, (m) => updateFilter(m, filterId(id), flags)));

  addCommonOptions(filter.command('remove').description('remove a filter and delete its Kafka topic').argument('<id>', 'filter id')).action(async (id: string, flags: CommonFlags) =>
    run(flags, async (m) => {
      const removed = await m.remove(filterId(id));
      print(flags, removed, () => removeText(removed));
    }),
  );
}

// ---- the manager: API or store ---------------------------------------------------------

/** Runs the work against the broker's API, or, when nothing answers there, against the store file. */
async function run(flags: CommonFlags, work: (manager: FilterManager) => Promise<void>, access: 'read' | 'write' = 'write'): Promise<void> {
  try {
    const shared = isPostgresUrl(flags.store);
    if (!shared || flags.api !== undefined) {
      try {
        // A broker that serves the web app protects this API with the token it writes next to its store file.
        const adminToken = shared ? undefined : readAdminToken(adminTokenPath(path.resolve(flags.store)));
        await work(createFilterClient(flags.api ?? DEFAULT_API_URL, adminToken === undefined ? {} : { adminToken }));
        return;
      } catch (error) {
        if (!(error instanceof ApiUnreachableError)) throw error;
        // Not the URL: it holds the database password.
        process.stderr.write(`nightjar: ${error.message}; using the store ${shared ? '' : `${flags.store} `}directly\n`);
      }
    }
    await withStore(flags, work, access);
  } catch (error) {
    if (error instanceof FilterValidationError || error instanceof UserError) throw error;
    // Kafka or store failures: one line for the terminal, not a stack trace.
    throw new UserError((error as Error).message);
  }
}

async function withStore(flags: CommonFlags, work: (manager: FilterManager) => Promise<void>, access: 'read' | 'write'): Promise<void> {
  const file = storeLocation(flags.store);
  // list and show only read: open read-only (so a store that does not exist yet is not created for them).
  if (access === 'read' && !isPostgresUrl(file) && !existsSync(file)) throw new UserError(`there is no store at ${file} (no broker has run there yet; see --store)`);
  const readOnly = access === 'read';
  let store;
  try {
    store = await openStore({ path: file, readOnly });
  } catch (error) {
    const message = (error as Error).message;
    if (/lock/i.test(message)) throw new UserError(`${message}\n(another process, probably the broker, has the store open; pass --api with the address of its API)`);
    throw error;
  }
  const settings = kafkaSettingsFrom(flags);
  const admin = createAdmin(settings, { role: 'filter-cli' });
  const producer = createProducer(settings, { role: 'filter-cli' });
  let service;
  try {
    // A secure cluster's ACLs follow the filter as the broker's do. Kafka unreachable: listing and
    // showing still work, a Kafka filter cannot be saved anyway, and the broker repairs every
    // ACL when it starts (KafkaAccess.syncAll).
    const access = await createKafkaAccess({ store, admin, adminSettings: settings }).catch(() => null);
    service = createFilterService({ store, admin, producer, topicPrefix: flags.topicPrefix, ...(access === null ? {} : { access }) });
  } catch (err) {
    await producer.close().catch(() => undefined);
    await admin.close().catch(() => undefined);
    await store.close();
    throw err;
  }
  try {
    await work(service);
  } finally {
    await service.close();
    await producer.close().catch(() => undefined);
    await admin.close().catch(() => undefined);
    await store.close();
  }
}

// ---- add and update --------------------------------------------------------------------

function tablesOf(text: string): string[] {
  return text
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '');
}

async function addFilter(manager: FilterManager, flags: AddFlags): Promise<void> {
  const input: NewFilter = {
    owner: flags.owner,
    name: flags.name ?? '',
    select: flags.select ?? '',
    where: flags.where ?? '',
    output: parseStreamOutput(flags.output ?? 'none'),
    public: flags.public === true,
    active: flags.inactive !== true,
    ...(flags.tables === undefined ? {} : { tables: tablesOf(flags.tables) }),
    ...(flags.description === undefined ? {} : { description: flags.description }),
  };
  const saved = await explained(flags, () => manager.add(input), async () => ({ select: input.select, where: input.where ?? '', tables: input.tables ?? [] }));
  print(flags, saved, () => saveText(saved));
}

async function updateFilter(manager: FilterManager, id: number, flags: UpdateFlags): Promise<void> {
  if (flags.public === true && flags.private === true) throw new UserError('give --public or --private, not both');
  if (flags.active === true && flags.inactive === true) throw new UserError('give --active or --inactive, not both');
  const changes: FilterChanges = {};
  if (flags.name !== undefined) changes.name = flags.name;
  if (flags.description !== undefined) changes.description = flags.description;
  if (flags.select !== undefined) changes.select = flags.select;
  if (flags.where !== undefined) changes.where = flags.where;
  if (flags.tables !== undefined) changes.tables = tablesOf(flags.tables);
  if (flags.output !== undefined) changes.output = parseStreamOutput(flags.output);
  if (flags.public === true || flags.private === true) changes.public = flags.public === true;
  if (flags.active === true || flags.inactive === true) changes.active = flags.active === true;
  if (Object.keys(changes).length === 0) throw new UserError('nothing to change: give at least one of --name, --select, --where, --tables, --output, --public/--private, --active/--inactive, --description');
  const saved = await explained(
    flags,
    () => manager.update(id, changes),
    async () => {
      // The problem may be in a box this update did not change: show the stored text there.
      const stored = await manager.show(id).catch(() => undefined);
      return { select: changes.select ?? stored?.filter.select, where: changes.where ?? stored?.filter.where, tables: changes.tables ?? stored?.filter.tables };
    },
  );
  print(flags, saved, () => saveText(saved));
}

/** Runs a save; a validation error becomes the problems with carets under the user's text (and JSON with --json). */
async function explained<T>(flags: CommonFlags, save: () => Promise<T>, source: () => Promise<ProblemSource>): Promise<T> {
  try {
    return await save();
  } catch (error) {
    if (!(error instanceof FilterValidationError)) throw error;
    if (flags.json === true) process.stdout.write(`${stringify({ error: 'invalid-filter', message: error.message, errors: error.problems }, 2)}\n`);
    const lines = formatProblems(error.problems, await source());
    const count = error.problems.length;
    throw new UserError(`the filter has ${count === 1 ? 'a problem' : `${count} problems`}:\n${lines.join('\n')}`);
  }
}

// ---- output ----------------------------------------------------------------------------

function filterId(text: string): number {
  const id = /^\d{1,15}$/.test(text.trim()) ? Number(text.trim()) : NaN;
  if (!Number.isSafeInteger(id) || id < 1) throw new UserError(`a filter id is a positive integer, not "${text}"`);
  return id;
}

function print(flags: CommonFlags, value: unknown, text: () => string[]): void {
  process.stdout.write(flags.json === true ? `${stringify(value, 2)}\n` : `${text().join('\n')}\n`);
}

function owner(filter: FilterView): string {
  return filter.ownerEmail === null ? `user ${filter.ownerId}` : `${filter.ownerEmail} (user ${filter.ownerId})`;
}

function saveText(saved: SaveResult): string[] {
  const f = saved.filter;
  const lines = [`filter ${f.id} "${f.name}" saved, owner ${owner(f)}`, `  output: ${STREAM_OUTPUT_LABELS[f.output]}${f.topic === null ? '' : ` → topic ${f.topic}`}`];
  const s = saved.stream;
  if (s !== null) {
    if (s.previousTopic !== null) lines.push(`  moved from topic ${s.previousTopic} (deleted)`);
    lines.push(`  stream: ${s.deleted} old record${s.deleted === 1 ? '' : 's'} deleted, ${s.records} record${s.records === 1 ? '' : 's'} put in (${s.bytes} bytes)`);
    if (s.dropped > 0) lines.push(`  ${s.dropped} record${s.dropped === 1 ? ' was' : 's were'} over the size limit and left out`);
    if (s.failed > 0) lines.push(`  ${s.failed} row${s.failed === 1 ? '' : 's'} could not be encoded: ${s.firstFailure ?? ''}`);
    if (s.missingAlerts > 0) lines.push(`  ${s.missingAlerts} record${s.missingAlerts === 1 ? '' : 's'} without lightcurve (object not in the store)`);
    if (s.warning !== undefined) lines.push(`  warning: ${s.warning}`);
    for (const row of s.rows) lines.push(`    ${stringify(row)}`);
  }
  if (saved.deletedTopic !== null) lines.push(`  topic ${saved.deletedTopic} deleted (the filter no longer writes to Kafka)`);
  return lines;
}

function listText(filters: readonly FilterView[]): string[] {
  if (filters.length === 0) return ['no filters'];
  const rows = filters.map((f) => [String(f.id), f.ownerEmail ?? `user ${f.ownerId}`, f.name, f.output, f.topic ?? '-', [f.public ? 'public' : 'private', f.active ? '' : 'inactive'].filter((x) => x !== '').join(',')]);
  const header = ['ID', 'OWNER', 'NAME', 'OUTPUT', 'TOPIC', ''];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(header), ...rows.map(line)];
}

function showText(shown: ShowResult): string[] {
  const f = shown.filter;
  const lines = [
    `filter ${f.id} "${f.name}"`,
    `  owner:       ${owner(f)}`,
    ...(f.description === '' ? [] : [`  description: ${f.description}`]),
    `  select:      ${f.select}`,
    `  where:       ${f.where === '' ? '(every object)' : f.where}`,
    ...(f.tables.length === 0 ? [] : [`  tables:      ${f.tables.join(', ')}`]),
    `  output:      ${shown.outputLabel} (${f.output})`,
  ];
  if (shown.stream !== null) {
    const retained = shown.stream.retained === null ? (shown.stream.error === undefined ? 'topic missing' : `Kafka: ${shown.stream.error}`) : `${shown.stream.retained} records retained`;
    lines.push(`  topic:       ${shown.stream.topic} (${retained})`);
  }
  lines.push(`  visibility:  ${f.public ? 'public' : 'private'}, ${f.active ? 'active' : 'inactive'}`, `  created:     ${f.createdAt}`, `  updated:     ${f.updatedAt}`);
  if (shown.counters.length === 0) {
    lines.push('  counters:    nothing delivered yet');
  } else {
    lines.push('  night        matched  records  bytes  dropped');
    for (const c of shown.counters) lines.push(`  ${c.night}  ${String(c.matched).padStart(7)}  ${String(c.records).padStart(7)}  ${String(c.bytes).padStart(5)}  ${String(c.dropped).padStart(7)}`);
    const t = shown.totals;
    lines.push(`  total       ${String(t.matched).padStart(7)}  ${String(t.records).padStart(7)}  ${String(t.bytes).padStart(5)}  ${String(t.dropped).padStart(7)}`);
  }
  return lines;
}

function removeText(removed: RemoveResult): string[] {
  const lines = [`filter ${removed.id} "${removed.name}" removed`];
  if (removed.topic !== null) lines.push(removed.topicDeleted ? `  topic ${removed.topic} deleted` : `  topic ${removed.topic} was not in Kafka`);
  if (removed.warning !== undefined) lines.push(`  warning: ${removed.warning}`);
  return lines;
}
