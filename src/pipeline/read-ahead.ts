// A read-ahead bounded by bytes between the Kafka consumer's stream and the batcher. While the
// pipeline works on a batch, the messages of the next one keep arriving here, up to maxBytes
// held. The consumer's own buffer counts messages, not bytes (a 134 kB Rubin alert with its
// cutouts counts as much as a 1 kB one), so the broker keeps that one small and this one
// bounds the memory the messages waiting for a batch take.

export interface ReadAheadOptions<T> {
  /** Reading pauses once the items held reach this many bytes (at least 1). */
  maxBytes: number;
  /** The bytes an item takes. */
  sizeOf: (item: T) => number;
}

export interface ReadAhead<T> extends AsyncIterable<T> {
  /** Bytes of the items read and not yet taken. */
  readonly bytes: number;
  /** Items read and not yet taken. */
  readonly length: number;
}

/**
 * Reads `source` ahead of its consumer, holding at most maxBytes plus one item. Reading starts
 * with the first next(). A failure of the source is handed on after the items read before it.
 * Only one iterator may be taken from it.
 */
export function readAhead<T>(source: AsyncIterable<T>, options: ReadAheadOptions<T>): ReadAhead<T> {
  const { maxBytes, sizeOf } = options;
  if (!(Number.isSafeInteger(maxBytes) && maxBytes >= 1)) throw new Error(`read-ahead bytes must be a positive integer, not ${maxBytes}`);
  const queue: { item: T; size: number }[] = [];
  let head = 0;
  let bytes = 0;
  let started = false;
  let ended = false;
  let failure: { error: unknown } | undefined;
  let wakeReader: (() => void) | undefined;
  let wakePump: (() => void) | undefined;

  const wake = (which: 'reader' | 'pump'): void => {
    const fn = which === 'reader' ? wakeReader : wakePump;
    if (which === 'reader') wakeReader = undefined;
    else wakePump = undefined;
    fn?.();
  };

  async function pump(): Promise<void> {
    try {
      for await (const item of source) {
        const size = sizeOf(item);
        queue.push({ item, size });
        bytes += size;
        wake('reader');
        while (bytes >= maxBytes) await new Promise<void>((resolve) => (wakePump = resolve));
      }
    } catch (error) {
      failure = { error };
    } finally {
      ended = true;
      wake('reader');
    }
  }

  const iterator: AsyncIterator<T> = {
    async next(): Promise<IteratorResult<T>> {
      if (!started) {
        started = true;
        void pump();
      }
      for (;;) {
        if (head < queue.length) {
          const { item, size } = queue[head] as { item: T; size: number };
          queue[head] = undefined as never; // no reference kept to a taken item
          head++;
          if (head > 1024 && head * 2 > queue.length) {
            queue.splice(0, head);
            head = 0;
          }
          bytes -= size;
          if (bytes < maxBytes) wake('pump');
          return { value: item, done: false };
        }
        if (failure !== undefined) throw failure.error;
        if (ended) return { value: undefined, done: true };
        await new Promise<void>((resolve) => (wakeReader = resolve));
      }
    },
  };
  let taken = false;
  return {
    get bytes() {
      return bytes;
    },
    get length() {
      return queue.length - head;
    },
    [Symbol.asyncIterator]() {
      if (taken) throw new Error('a read-ahead can be iterated only once');
      taken = true;
      return iterator;
    },
  };
}
