// What the filter service takes and gives back. The same shapes travel as JSON through the HTTP
// API (src/service/filter-api.ts), so the CLI and the web app see one contract whether they call
// the service in-process or over HTTP.
import type { EmailStatus } from '../email/email-status.ts';
import type { StreamOutput } from '../delivery/output-modes.ts';
import type { FilterRow } from '../delivery/records.ts';
import type { FilterPart } from '../filters/parse-filter.ts';
import type { FilterCounters, StoredFilter } from '../store/store.ts';

/** The parts of a filter a problem can be in: the SQL boxes, as the filter compiler says, and the settings. */
export type FilterField = FilterPart | 'name' | 'description' | 'owner' | 'output' | 'public' | 'active';

/**
 * One thing wrong with a filter. For 'select' and 'where', offset is a position in that box's
 * text (UTF-16 code units, as JavaScript and browsers count); for 'tables', the index in the
 * tables list; for the settings, 0.
 */
export interface FilterProblem {
  part: FilterField;
  offset: number;
  message: string;
}

/** A new filter. */
export interface NewFilter {
  /** The owner's email address or user id. */
  owner: string | number;
  name: string;
  description?: string;
  /** The SELECT box, e.g. "diaObjectId, ra, decl". */
  select: string;
  /** The WHERE box; empty or absent means every object. */
  where?: string;
  /** Extra tables the filter reads (the catalog's primary table is always read). */
  tables?: string[];
  /** Default false. */
  public?: boolean;
  /** Default 'none' (Lasair's "silent"). */
  output?: StreamOutput;
  /** Default true: the filter runs on every batch. */
  active?: boolean;
}

/** Changes to a filter: the fields given replace the stored ones; the owner stays. */
export type FilterChanges = Partial<Omit<NewFilter, 'owner'>>;

/** What validate() looks at; the name and output only matter for a Kafka stream's topic. */
export interface FilterDraft {
  select: string;
  where?: string;
  tables?: string[];
  name?: string;
  output?: StreamOutput;
}

/** A stored filter with its owner's email, as the service lists and shows it. */
export interface FilterView extends StoredFilter {
  ownerEmail: string | null;
}

/** What happened to a Kafka filter's stream when it was saved or changed. */
export interface StreamReset {
  topic: string;
  /** The topic it had before a rename (now deleted), else null. */
  previousTopic: string | null;
  /** Old records deleted from the stream. */
  deleted: number;
  /** Records put in from the stored objects (at most 10). */
  records: number;
  bytes: number;
  /** Records over the size limit, not put in. */
  dropped: number;
  /** Rows whose object's lightcurve was not in the store (lite/full records then go without "alert"). */
  missingAlerts: number;
  /** Rows that could not be encoded (a value that does not fit the Avro schema). */
  failed: number;
  firstFailure?: string;
  /**
   * The filter's rows over the stored objects that the records were made from, newest alert
   * first, in the columns the filter selects (64-bit ids as BigInt). Includes the rows whose
   * record was dropped or failed.
   */
  rows: FilterRow[];
  /** Set when the filter could not be run over the stored objects (the stream is then empty). */
  warning?: string;
}

export interface SaveResult {
  filter: FilterView;
  /** Set when the stream was emptied and refilled (a Kafka output whose records changed). */
  stream: StreamReset | null;
  /** A topic deleted because the filter no longer writes to Kafka, else null. */
  deletedTopic: string | null;
}

export interface FilterTotals {
  matched: number;
  records: number;
  bytes: number;
  dropped: number;
}

export interface ShowResult {
  filter: FilterView;
  /** The output's label as the web form shows it (Lasair's wording). */
  outputLabel: string;
  /** The Kafka stream, for a filter that has a topic. retained: records in it now; null when Kafka could not say. */
  stream: { topic: string; retained: number | null; error?: string } | null;
  /** Per night (UTC dates), oldest first. */
  counters: FilterCounters[];
  totals: FilterTotals;
  /** Email digests and notices of this filter: last sent, next due, last failure; null when none was ever sent or tried. */
  email: EmailStatus | null;
}

export interface RemoveResult {
  id: number;
  name: string;
  /** The filter's topic, if it had one. */
  topic: string | null;
  /** Whether that topic was deleted from Kafka. */
  topicDeleted: boolean;
  /** Set when the filter was removed but its topic could not be deleted. */
  warning?: string;
}

export interface ListOptions {
  /** Only this owner's filters: an email address or a user id. */
  owner?: string | number;
}

/** Filter management, in-process (createFilterService) or over HTTP (createFilterClient). */
export interface FilterManager {
  add(input: NewFilter): Promise<SaveResult>;
  update(id: number, changes: FilterChanges): Promise<SaveResult>;
  remove(id: number): Promise<RemoveResult>;
  list(options?: ListOptions): Promise<FilterView[]>;
  show(id: number): Promise<ShowResult>;
  /** The problems of a draft filter; empty when it can be saved. */
  validate(draft: FilterDraft): Promise<FilterProblem[]>;
}
