// Runs async work one piece at a time, in order: a DuckDB connection runs one statement at a
// time, and a batch's statements must not interleave with another caller's.

export class SerialQueue {
  private readonly name: string;
  private tail: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(name: string) {
    this.name = name;
  }

  run<T>(work: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new Error(`${this.name} is closed`));
    const result = this.tail.then(work);
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Refuses new work and waits for the work already queued. */
  async close(): Promise<void> {
    this.closed = true;
    await this.tail;
  }
}
