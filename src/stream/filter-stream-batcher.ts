// Cuts an async stream of items (Kafka messages) into batches, as Lasair's filter node does: a
// batch closes when it holds maxCount items or maxWaitMs after its first item arrived, so a
// burst is filtered in large batches and a trickle is never held back for long. A read that
// was still waiting when a batch closed is kept and opens the next batch, so no item is lost.

export interface BatchLimits {
  /** Most items in one batch (at least 1). */
  readonly maxCount: number;
  /** Longest wait, counted from the batch's first item, before the batch closes anyway. */
  readonly maxWaitMs: number;
  /** Give up waiting for a first item after this long (the batch comes back empty, end 'idle'). */
  readonly idleMs?: number | undefined;
  /** Aborting closes the batch at once with what it holds (end 'aborted'). */
  readonly signal?: AbortSignal | undefined;
}

/** Why a batch closed: full, its time was up, nothing came (idle), abort, or the source ended. */
export type BatchEnd = 'full' | 'time' | 'idle' | 'aborted' | 'done';

export interface Batch<T> {
  readonly items: T[];
  readonly end: BatchEnd;
  /** When the first item arrived (performance.now()), for rates; undefined for an empty batch. */
  readonly firstAt?: number;
}

type Wake = 'timeout' | 'aborted';

export class Batcher<T> {
  readonly #iterator: AsyncIterator<T>;
  #pending: Promise<IteratorResult<T>> | undefined;
  #done = false;

  constructor(source: AsyncIterable<T>) {
    this.#iterator = source[Symbol.asyncIterator]();
  }

  /** The next batch. Rejects when the source fails (the items of this batch are then not returned). */
  async next(limits: BatchLimits): Promise<Batch<T>> {
    const { maxCount, maxWaitMs, idleMs, signal } = limits;
    if (!Number.isInteger(maxCount) || maxCount < 1) throw new Error(`batch size must be a positive integer, not ${maxCount}`);
    const items: T[] = [];
    let firstAt: number | undefined;
    const batch = (end: BatchEnd): Batch<T> => (firstAt === undefined ? { items, end } : { items, end, firstAt });
    if (this.#done) return { items, end: 'done' };
    if (signal?.aborted) return { items, end: 'aborted' };

    let timer: NodeJS.Timeout | undefined;
    let wake: Promise<Wake> | undefined;
    const wakeAfter = (ms: number): void => {
      clearTimeout(timer);
      wake = new Promise((resolve) => (timer = setTimeout(() => resolve('timeout'), Math.max(0, ms))));
    };
    let onAbort: (() => void) | undefined;
    const aborted = signal === undefined ? undefined : new Promise<Wake>((resolve) => signal.addEventListener('abort', (onAbort = () => resolve('aborted')), { once: true }));
    if (idleMs !== undefined) wakeAfter(idleMs);
    try {
      for (;;) {
        this.#pending ??= this.#iterator.next();
        const waits: Promise<IteratorResult<T> | Wake>[] = [this.#pending];
        if (wake !== undefined) waits.push(wake);
        if (aborted !== undefined) waits.push(aborted);
        const got = await Promise.race(waits);
        if (got === 'aborted') return batch('aborted');
        if (got === 'timeout') return batch(items.length === 0 ? 'idle' : 'time');
        this.#pending = undefined;
        if (got.done === true) {
          this.#done = true;
          return batch('done');
        }
        items.push(got.value);
        if (items.length === 1) {
          firstAt = performance.now();
          wakeAfter(maxWaitMs);
        }
        if (items.length >= maxCount) return batch('full');
      }
    } finally {
      clearTimeout(timer);
      if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Stops reading: a read still waiting is abandoned (its failure, when the source closes, is ignored). */
  abandon(): void {
    this.#pending?.catch(() => undefined);
    this.#pending = undefined;
    this.#done = true;
  }
}
