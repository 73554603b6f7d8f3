// A one-line progress bar for terminals: redrawn in place with a carriage return, at most ten
// times a second, and cleared at the end so the replay's own lines stay readable.

export interface ProgressBar {
  /** Adds to the count done. */
  advance(count: number): void;
  /** Prints a line above the bar (the bar is redrawn under it). */
  clear(): void;
  done(): void;
}

export interface ProgressTarget {
  write(text: string): unknown;
  readonly columns?: number | undefined;
}

/** Draws `[#####.....]  52%  10,400/20,000 alerts  3,120/s` on the target. */
export function createProgressBar(total: number, target: ProgressTarget, unit = 'alerts'): ProgressBar {
  const started = performance.now();
  let done = 0;
  let lastDraw = 0;
  let shown = false;
  const format = (n: number): string => Math.round(n).toLocaleString('en-US');

  const draw = (force: boolean): void => {
    const now = performance.now();
    if (!force && now - lastDraw < 100) return;
    lastDraw = now;
    const fraction = total > 0 ? Math.min(1, done / total) : 1;
    const rate = done / Math.max((now - started) / 1000, 1e-3);
    const text = ` ${String(Math.floor(fraction * 100)).padStart(3)}%  ${format(done)}/${format(total)} ${unit}  ${format(rate)}/s`;
    const width = Math.max(10, Math.min(40, (target.columns ?? 80) - text.length - 3));
    const filled = Math.round(fraction * width);
    target.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]${text}`);
    shown = true;
  };

  return {
    advance(count) {
      done += count;
      draw(done >= total);
    },
    clear() {
      if (shown) target.write('\r\x1b[2K');
      shown = false;
    },
    done() {
      if (shown) target.write('\r\x1b[2K');
      shown = false;
    },
  };
}
