// What every benchmark script shares: the command line that ran it (recorded with each figure),
// --quick, the machine description, and the result line printed last on stdout.
import { cpus, loadavg, totalmem } from 'node:os';
import path from 'node:path';
import { stringify } from '../../src/util/json.ts';
import type { Figure, MachineInfo, Target } from './report.ts';

/** `node bench/<script>.ts <args>` as run from the repository root. */
export function commandLine(argv: readonly string[] = process.argv): string {
  const script = path.relative(process.cwd(), argv[1] ?? '');
  return ['node', script, ...argv.slice(2)].join(' ');
}

export function isQuick(argv: readonly string[] = process.argv): boolean {
  return argv.slice(2).includes('--quick');
}

export function machineInfo(): MachineInfo {
  const list = cpus();
  return {
    cores: list.length,
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    ramGB: totalmem() / 1024 ** 3,
    node: process.versions.node,
    platform: `${process.platform} ${process.arch}`,
    loadAverage: loadavg(),
  };
}

/** Collects a script's figures, each stamped with its command line; `print` writes the result line. */
export class Results {
  readonly name: string;
  readonly command: string;
  readonly figures: Figure[] = [];

  constructor(name: string, command = commandLine()) {
    this.name = name;
    this.command = command;
  }

  add(figure: string, value: number | null, unit: string, settings: Record<string, unknown>, extra: { target?: Target; note?: string; details?: Record<string, unknown> } = {}): void {
    const f: Figure = { figure, value: value === null || Number.isFinite(value) ? value : null, unit, command: this.command, settings };
    if (extra.target !== undefined) f.target = extra.target;
    if (extra.note !== undefined) f.note = extra.note;
    else if (value !== null && !Number.isFinite(value)) f.note = `not finite: ${value}`;
    if (extra.details !== undefined) f.details = extra.details;
    this.figures.push(f);
  }

  /** The last stdout line: the runner reads it. */
  print(): void {
    process.stdout.write(`${stringify({ name: this.name, results: this.figures })}\n`);
  }
}
