// `nightjar broker` (or any nightjar subcommand) as a child process, for tests that kill it,
// signal it and start it again: its output is kept, lines can be waited for, its exit awaited.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

const repoRoot = path.resolve(import.meta.dirname, '../..');
const MAIN = path.join(repoRoot, 'src/cli/main.ts');

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class NightjarChild {
  readonly process: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<Exit>;
  private readonly waiters: { test: () => boolean; resolve: () => void }[] = [];

  readonly args: readonly string[];

  constructor(args: readonly string[], env: NodeJS.ProcessEnv = {}) {
    this.args = args;
    this.process = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', MAIN, ...args], {
      cwd: repoRoot,
      env: { ...process.env, NIGHTJAR_LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.process.stdout?.on('data', (chunk: Buffer) => {
      this.stdout += chunk.toString();
      this.check();
    });
    this.process.stderr?.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString();
      this.check();
    });
    this.exited = new Promise((resolve) => this.process.once('exit', (code, signal) => resolve({ code, signal })));
  }

  private check(): void {
    for (const w of [...this.waiters]) {
      if (w.test()) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  }

  /** Resolves when stdout (or stderr) matches; rejects when the process exits first or after timeoutMs. */
  async waitFor(pattern: RegExp, timeoutMs = 60_000, stream: 'stdout' | 'stderr' = 'stdout'): Promise<void> {
    const matches = (): boolean => pattern.test(stream === 'stdout' ? this.stdout : this.stderr);
    if (matches()) return;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        new Promise<void>((resolve) => this.waiters.push({ test: matches, resolve })),
        this.exited.then((exit) => {
          throw new Error(`nightjar exited (${exit.code ?? exit.signal}) before printing ${pattern}\nstdout: ${this.stdout.slice(-2000)}\nstderr: ${this.stderr.slice(-3000)}`);
        }),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no ${pattern} from nightjar within ${timeoutMs} ms\nstdout: ${this.stdout.slice(-2000)}\nstderr: ${this.stderr.slice(-3000)}`)), timeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Number of stdout lines matching the pattern. */
  count(pattern: RegExp): number {
    return this.stdout.split('\n').filter((line) => pattern.test(line)).length;
  }

  /** kill -9: no chance to finish anything. */
  async kill9(): Promise<Exit> {
    if (this.process.exitCode === null && this.process.signalCode === null) this.process.kill('SIGKILL');
    return this.exited;
  }

  async signal(sig: NodeJS.Signals): Promise<void> {
    this.process.kill(sig);
  }

  running(): boolean {
    return this.process.exitCode === null && this.process.signalCode === null;
  }
}
