// A one-line progress display for terminals: redrawn in place with a carriage return, at most
// ten times a second, and cleared at the end so the command's own lines stay readable. Used by
// `simulate`, `consume` and `export`, only when stderr is a terminal (never in pipes or files).

export interface ProgressBar {
  /** Adds to the count done. */
  advance(count: number): void;
  /** Erases the bar, before a line is printed (the next advance draws it again under that line). */
  clear(): void;
  /** Erases the bar for good. */
  done(): void;
}

export interface ProgressTarget {
  write(text: string): unknown;
  readonly columns?: number | undefined;
}

export interface ProgressState {
  readonly done: number;
  /** Undefined when the total is not known: no bar nor percentage then, only counts. */
  readonly total: number | undefined;
  readonly elapsedMs: number;
  readonly unit: string;
  /** Terminal width (default 80, also for 0): the line never wraps. */
  readonly columns?: number | undefined;
}

const count = (n: number): string => Math.round(n).toLocaleString('en-US');

/** Elapsed time as m:ss, or h:mm:ss from an hour on. */
export function formatElapsed(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const [h, m, s] = [Math.floor(total / 3600), Math.floor((total % 3600) / 60), total % 60];
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/**
 * The progress line (without the leading carriage return):
 * `[#####.....]  52%  10,400/20,000 alerts  3,120/s  0:12` when the total is known,
 * `10,400 alerts  3,120/s  0:12` when it is not.
 */
export function progressLine(state: ProgressState): string {
  // A terminal without a window size (a bare pseudo-terminal) reports 0 columns.
  const columns = state.columns !== undefined && state.columns > 0 ? state.columns : 80;
  const seconds = Math.max(state.elapsedMs / 1000, 1e-3);
  const tail = `${count(state.done / seconds)}/s  ${formatElapsed(state.elapsedMs)}`;
  let line: string;
  if (state.total === undefined) {
    line = `${count(state.done)} ${state.unit}  ${tail}`;
  } else {
    const fraction = state.total > 0 ? Math.min(1, state.done / state.total) : 1;
    const text = ` ${String(Math.floor(fraction * 100)).padStart(3)}%  ${count(state.done)}/${count(state.total)} ${state.unit}  ${tail}`;
    const width = Math.max(10, Math.min(40, columns - text.length - 3));
    const filled = Math.round(fraction * width);
    line = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]${text}`;
  }
  // One column spare: a line as wide as the terminal wraps on some terminals.
  return line.length >= columns ? line.slice(0, Math.max(0, columns - 1)) : line;
}

/** Draws {@link progressLine} on the target as the count advances (total undefined: counts only). */
export function createProgressBar(total: number | undefined, target: ProgressTarget, unit = 'alerts'): ProgressBar {
  const started = performance.now();
  let done = 0;
  let lastDraw = 0;
  let shown = false;

  const draw = (force: boolean): void => {
    const now = performance.now();
    if (!force && now - lastDraw < 100) return;
    lastDraw = now;
    target.write(`\r${progressLine({ done, total, elapsedMs: now - started, unit, columns: target.columns })}`);
    shown = true;
  };
  const erase = (): void => {
    if (shown) target.write('\r\x1b[2K');
    shown = false;
  };

  return {
    advance(n) {
      done += n;
      draw(total !== undefined && done >= total);
    },
    clear: erase,
    done: erase,
  };
}

/**
 * A progress bar on stderr when it is a terminal and progress is wanted, else undefined (so
 * piped or redirected output never carries carriage returns and escape codes).
 */
export function stderrProgressBar(total: number | undefined, unit: string, wanted = true): ProgressBar | undefined {
  if (!wanted || process.stderr.isTTY !== true) return undefined;
  return createProgressBar(total, {
    write: (t) => process.stderr.write(t),
    get columns() {
      return process.stderr.columns; // read at each draw: the terminal may be resized
    },
  }, unit);
}
