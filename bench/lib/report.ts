// The benchmark report: what every benchmark script prints on its last stdout line (one JSON
// object: its name and figures), how the runner checks it, and the markdown table made from the
// collected figures. Pure functions: the runner does the I/O.
import { parse } from '../../src/util/json.ts';

/** A target from the issue, e.g. at least 3000 alerts/s. */
export interface Target {
  min?: number;
  max?: number;
}

/** One measured figure, with what produced it. */
export interface Figure {
  figure: string;
  /** null when the measurement could not be made (then `note` says why). */
  value: number | null;
  unit: string;
  /** The command that produced it, as run from the repository root. */
  command: string;
  /** The settings that shaped it (sizes, filters, batch size...). */
  settings: Record<string, unknown>;
  target?: Target;
  note?: string;
  /** Diagnostic numbers behind the figure (stage times, counts); in the JSON report only. */
  details?: Record<string, unknown>;
}

/** The last stdout line of a benchmark script. */
export interface BenchmarkOutput {
  name: string;
  results: Figure[];
}

export interface MachineInfo {
  cores: number;
  cpuModel: string;
  ramGB: number;
  node: string;
  platform: string;
  /** 1, 5 and 15 minute load averages when the run started: high values mean shared cores. */
  loadAverage: number[];
}

export interface BenchmarkRun {
  name: string;
  command: string;
  exitCode: number | null;
  seconds: number;
  results: Figure[];
  /** Why the benchmark gave no figures (non-zero exit, no result line). */
  error?: string;
}

export interface Report {
  startedAt: string;
  finishedAt: string;
  quick: boolean;
  machine: MachineInfo;
  /** Load averages when the run ended. */
  loadAverageAtEnd: number[];
  benchmarks: BenchmarkRun[];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkFigure(v: unknown, where: string): Figure {
  if (!isRecord(v)) throw new Error(`${where}: not an object`);
  const { figure, value, unit, command, settings, target, note, details } = v;
  if (typeof figure !== 'string' || figure === '') throw new Error(`${where}: "figure" must be a non-empty string`);
  if (value !== null && typeof value !== 'number') throw new Error(`${where} (${figure}): "value" must be a number or null`);
  if (typeof unit !== 'string') throw new Error(`${where} (${figure}): "unit" must be a string`);
  if (typeof command !== 'string' || command === '') throw new Error(`${where} (${figure}): "command" must be a non-empty string`);
  if (!isRecord(settings)) throw new Error(`${where} (${figure}): "settings" must be an object`);
  const out: Figure = { figure, value, unit, command, settings };
  if (target !== undefined) {
    if (!isRecord(target) || (target.min !== undefined && typeof target.min !== 'number') || (target.max !== undefined && typeof target.max !== 'number')) {
      throw new Error(`${where} (${figure}): "target" must be {min?: number, max?: number}`);
    }
    out.target = { ...(target.min === undefined ? {} : { min: target.min as number }), ...(target.max === undefined ? {} : { max: target.max as number }) };
  }
  if (note !== undefined) {
    if (typeof note !== 'string') throw new Error(`${where} (${figure}): "note" must be a string`);
    out.note = note;
  }
  if (details !== undefined) {
    if (!isRecord(details)) throw new Error(`${where} (${figure}): "details" must be an object`);
    out.details = details;
  }
  return out;
}

/** The result object on the last non-empty line of a benchmark's stdout; throws saying what is wrong. */
export function parseBenchmarkOutput(stdout: string): BenchmarkOutput {
  const lines = stdout.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const last = lines.at(-1);
  if (last === undefined) throw new Error('the benchmark printed nothing');
  let value: unknown;
  try {
    value = parse(last);
  } catch {
    throw new Error(`its last line is not JSON: ${last.length > 120 ? `${last.slice(0, 119)}…` : last}`);
  }
  if (!isRecord(value) || typeof value.name !== 'string' || !Array.isArray(value.results)) throw new Error('its last line is not {"name": ..., "results": [...]}');
  return { name: value.name, results: value.results.map((r, i) => checkFigure(r, `result ${i}`)) };
}

/** Whether a value meets its target: undefined when there is no target or no value. */
export function meetsTarget(figure: Pick<Figure, 'value' | 'target'>): boolean | undefined {
  const { value, target } = figure;
  if (target === undefined || value === null) return undefined;
  if (target.min !== undefined && value < target.min) return false;
  if (target.max !== undefined && value > target.max) return false;
  return true;
}

/** A value with sensible precision: integers grouped, small numbers with 2-3 significant digits. */
export function formatValue(value: number | null): string {
  if (value === null) return '—';
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs >= 100) return Math.round(value).toLocaleString('en-US');
  if (abs >= 10) return value.toFixed(1);
  if (abs >= 0.1 || abs === 0) return value.toFixed(2);
  return value.toPrecision(2);
}

export function formatTarget(target: Target | undefined): string {
  if (target === undefined) return '';
  const parts: string[] = [];
  if (target.min !== undefined) parts.push(`≥ ${formatValue(target.min)}`);
  if (target.max !== undefined) parts.push(`< ${formatValue(target.max)}`);
  return parts.join(', ');
}

/** Settings as `key=value` pairs, compact enough for a table cell. */
export function formatSettings(settings: Record<string, unknown>): string {
  return Object.entries(settings)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : typeof v === 'bigint' ? v.toString() : JSON.stringify(v)}`)
    .join(' ');
}

/** Pipes and newlines would break a markdown table cell. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');
}

export function machineLine(m: MachineInfo): string {
  return `${m.cores} cores (${m.cpuModel}), ${m.ramGB.toFixed(0)} GB RAM, Node ${m.node}, ${m.platform}`;
}

/** The whole report as markdown: machine, then one table row per figure, then failures. */
export function renderMarkdown(report: Report): string {
  const out: string[] = [];
  out.push(`# Nightjar benchmarks${report.quick ? ' (quick: small sizes, harness check only)' : ''}`);
  out.push('');
  out.push(`- Run: ${report.startedAt} → ${report.finishedAt}`);
  out.push(`- Machine: ${machineLine(report.machine)}`);
  out.push(`- Load average (1/5/15 min): ${report.machine.loadAverage.map((l) => l.toFixed(2)).join(' ')} at the start, ${report.loadAverageAtEnd.map((l) => l.toFixed(2)).join(' ')} at the end (above the core count: other work shared the CPUs and the figures are low)`);
  out.push('');
  out.push('| benchmark | figure | value | unit | target | met | settings | command |');
  out.push('|---|---|---:|---|---|---|---|---|');
  for (const b of report.benchmarks) {
    for (const f of b.results) {
      const met = meetsTarget(f);
      const value = formatValue(f.value) + (f.note === undefined ? '' : ` (${f.note})`);
      out.push(`| ${cell(b.name)} | ${cell(f.figure)} | ${cell(value)} | ${cell(f.unit)} | ${cell(formatTarget(f.target))} | ${met === undefined ? '' : met ? 'yes' : '**no**'} | ${cell(formatSettings(f.settings))} | \`${cell(f.command)}\` |`);
    }
  }
  const failed = report.benchmarks.filter((b) => b.error !== undefined);
  if (failed.length > 0) {
    out.push('');
    out.push('Failed benchmarks:');
    for (const b of failed) out.push(`- ${b.name} (\`${b.command}\`, exit ${b.exitCode ?? 'signal'}): ${b.error}`);
  }
  const missed = report.benchmarks.flatMap((b) => b.results.filter((f) => meetsTarget(f) === false).map((f) => `${b.name}: ${f.figure}`));
  out.push('');
  out.push(missed.length === 0 ? 'Every figure with a target met it.' : `Targets missed: ${missed.join('; ')}.`);
  return `${out.join('\n')}\n`;
}

/** bench/results/<UTC timestamp>[-quick].{json,md}: sortable, no colons (valid on every file system). */
export function resultBaseName(date: Date, quick: boolean): string {
  return `${date.toISOString().replace(/:/g, '').replace(/\.\d+Z$/, 'Z')}${quick ? '-quick' : ''}`;
}
