// The agent event stream against a client that stops reading: once the
// socket's buffer is full the stream polls the run no more until the client
// reads again, then carries on to the end.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { test } from 'node:test';
import express, { type Response } from 'express';
import { streamRunEvents } from '../../api/routes/agent-runs';
import type { AgentRunView } from '../../workflows/agent/agent-run-workflow';

const EVENT_TEXT = 'x'.repeat(64 * 1024);

function view(status: AgentRunView['status'], seq: number): AgentRunView {
  return {
    id: 'run_test',
    object: 'agent.run',
    status,
    model: 'model-a',
    step: seq,
    max_steps: 10_000,
    answer: status === 'completed' ? 'done' : null,
    question: null,
    error: null,
    messages: [],
    events: [{ seq, at: '2026-12-01T00:00:00.000Z', step: seq, kind: 'model', text: EVENT_TEXT }],
  };
}

/** Resolves once `check` holds, checking after every event-loop turn; fails with `what` after `limit` turns. */
async function until(check: () => boolean, what: string, limit = 200_000): Promise<void> {
  for (let turn = 0; turn < limit; turn += 1) {
    if (check()) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
  assert.fail(`gave up waiting: ${what}`);
}

test('a client that stops reading holds the poll loop until it reads again; the stream then ends with done', async () => {
  let streamed: Response | undefined;
  let reads = 0;
  /** Reads made while the socket still had to drain: a stream without backpressure makes them. */
  let readsWhileFull = 0;
  let finish = false;
  let ended: Promise<void> | undefined;
  const app = express();
  app.get('/events', (_request, response) => {
    streamed = response;
    ended = streamRunEvents(
      response,
      async () => {
        reads += 1;
        if (response.writableNeedDrain) readsWhileFull += 1;
        return view(finish ? 'completed' : 'running', reads);
      },
      { idleTimeoutMs: 3_600_000, pollIntervalMs: 1 },
    );
  });
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
  try {
    await once(socket, 'connect');
    socket.pause();
    socket.write('GET /events HTTP/1.1\r\nhost: test\r\n\r\n');
    await until(() => streamed?.writableNeedDrain === true, "the server's socket buffer to fill");
    const readsWhenFull = reads;
    // Give a stream without backpressure time to poll on: 50 poll intervals.
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(readsWhileFull, 0, 'no poll while the client is not reading');
    assert.equal(reads, readsWhenFull, 'the loop waits for drain');

    finish = true;
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (received += chunk));
    socket.resume();
    await until(() => received.includes('event: done'), 'the done event after the client read again', 2_000_000);
    await ended;
    assert.ok(reads > readsWhenFull, 'polling resumed after drain');
    assert.match(received, /event: done\ndata: \{"status":"completed","answer":"done","error":null\}/);
  } finally {
    socket.destroy();
    server.closeAllConnections();
    server.close();
  }
});
