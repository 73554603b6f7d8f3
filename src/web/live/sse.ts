// Server-sent events on a Fastify reply: the stream headers, events with ids (so a reconnecting
// browser resumes with Last-Event-ID), comment heartbeats through idle proxies, and one registry
// of open streams so the app can end them all when it closes (an open stream would otherwise
// keep the server from closing).
import type { FastifyReply } from 'fastify';

export interface SseStream {
  /** Sends one event; data is written as one `data:` line (JSON text has no newlines). */
  send(event: string, data: string, id?: string): void;
  comment(text: string): void;
  end(): void;
  readonly closed: boolean;
  /** Resolves when the browser goes away or end() is called. */
  readonly done: Promise<void>;
}

export class SseStreams {
  private readonly open = new Set<SseStream>();

  /** Takes over the reply and starts an event stream. */
  start(reply: FastifyReply, retryMs = 2000): SseStream {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write(`retry: ${retryMs}\n\n`);
    let closed = false;
    let resolveDone: () => void = () => undefined;
    const done = new Promise<void>((resolve) => {
      resolveDone = resolve;
    });
    const streams = this.open;
    const stream: SseStream = {
      send(event, data, id) {
        if (closed) return;
        res.write(`${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${data.replace(/\n/g, '\ndata: ')}\n\n`);
      },
      comment(text) {
        if (!closed) res.write(`: ${text.replace(/\n/g, ' ')}\n\n`);
      },
      end() {
        if (closed) return;
        closed = true;
        streams.delete(stream);
        res.end();
        resolveDone();
      },
      get closed() {
        return closed;
      },
      done,
    };
    res.on('close', () => {
      closed = true;
      streams.delete(stream);
      resolveDone();
    });
    this.open.add(stream);
    return stream;
  }

  get size(): number {
    return this.open.size;
  }

  endAll(): void {
    for (const s of [...this.open]) s.end();
  }
}
