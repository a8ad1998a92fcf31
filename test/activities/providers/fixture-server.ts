import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the fixture server received it. */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The JSON body, parsed. */
  body: unknown;
}

/** One server-sent event; `data` is sent as is (JSON text, `[DONE]`, or something broken). */
export interface SseEvent {
  event?: string;
  data: string;
}

/** What the fixture answers to the next requests. */
export type FixtureReply =
  | { kind: 'json'; status: number; body: unknown; headers?: Record<string, string> }
  /** A body sent as is, e.g. broken JSON. */
  | { kind: 'raw'; status: number; body: string; contentType: string }
  /** Headers and half a body, then the socket is destroyed. */
  | { kind: 'cut' }
  /** Never answers. */
  | { kind: 'hang' }
  /**
   * A `text/event-stream` answer. After the events the stream ends cleanly
   * (`complete`), the socket is destroyed (`cut`), or nothing more is sent (`stall`).
   */
  | { kind: 'sse'; events: SseEvent[]; end: 'complete' | 'cut' | 'stall' };

export interface FixtureServer {
  /** `http://127.0.0.1:<port>` */
  origin: string;
  requests: RecordedRequest[];
  /** Sets the reply for every following request and forgets recorded requests. */
  reply(reply: FixtureReply): void;
  /** Resolves when the next request has fully arrived. */
  nextRequest(): Promise<RecordedRequest>;
  close(): Promise<void>;
}

/** A tiny real HTTP server on 127.0.0.1 and a free port that records requests and replies with fixtures. */
export async function startFixtureServer(): Promise<FixtureServer> {
  let current: FixtureReply = { kind: 'json', status: 500, body: { error: 'no fixture set' } };
  const requests: RecordedRequest[] = [];
  let waiters: ((request: RecordedRequest) => void)[] = [];

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const recorded: RecordedRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: text === '' ? undefined : (JSON.parse(text) as unknown),
      };
      requests.push(recorded);
      const pending = waiters;
      waiters = [];
      pending.forEach((resolve) => resolve(recorded));
      answer(res, current);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    reply(reply) {
      current = reply;
      requests.length = 0;
    },
    nextRequest() {
      return new Promise((resolve) => waiters.push(resolve));
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

function answer(res: ServerResponse, reply: FixtureReply): void {
  switch (reply.kind) {
    case 'json':
      res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
      res.end(JSON.stringify(reply.body));
      return;
    case 'raw':
      res.writeHead(reply.status, { 'content-type': reply.contentType });
      res.end(reply.body);
      return;
    case 'cut':
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '4096' });
      res.write('{"id":"cut-mid-body","choices":[');
      setImmediate(() => res.destroy());
      return;
    case 'hang':
      return;
    case 'sse':
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      for (const { event, data } of reply.events) res.write(`${event ? `event: ${event}\n` : ''}data: ${data}\n\n`);
      if (reply.end === 'complete') res.end();
      else if (reply.end === 'cut') setImmediate(() => res.destroy());
      return;
  }
}

/** A URL on which nothing listens: a port that was free a moment ago. */
export async function closedPortOrigin(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}
