import assert from 'node:assert/strict';
import { test } from 'node:test';
import express from 'express';
import type { Client } from '@temporalio/client';
import { listen } from '../../runtime/listen';
import { healthRouter } from '../../api/routes/health';

/** A client whose `getSystemInfo` answers as `answer` does; `withDeadline` just runs the call, as Core's connection, which retries past it. */
function clientAnswering(answer: () => Promise<unknown>): Client {
  return {
    withDeadline: <T>(_deadline: number | Date, fn: () => Promise<T>) => fn(),
    workflowService: { getSystemInfo: answer },
  } as unknown as Client;
}

async function health(client: Client): Promise<{ status: number; body: Record<string, unknown>; text: string; logged: Record<string, unknown>[] }> {
  const logged: Record<string, unknown>[] = [];
  const server = await listen(express().use(healthRouter(client, () => 'sha256:test', (line) => logged.push(line))), '127.0.0.1', 0);
  try {
    const response = await fetch(`${server.url}/healthz`);
    const text = await response.text();
    return { status: response.status, body: JSON.parse(text) as Record<string, unknown>, text, logged };
  } finally {
    await server.close();
  }
}

test('/healthz answers 200 when Temporal answers', async () => {
  const { status, body } = await health(clientAnswering(async () => ({})));
  assert.equal(status, 200);
  assert.deepEqual(body, { status: 'ok', temporal: 'ok', configVersion: 'sha256:test' });
});

test('/healthz answers 503 naming Temporal when the call fails, the reason in the log and not in the body', async () => {
  const failure = new Error('14 UNAVAILABLE: tcp connect error: 10.1.2.3:7233');
  const { status, body, text, logged } = await health(clientAnswering(() => Promise.reject(failure)));
  assert.equal(status, 503);
  assert.deepEqual(body, { status: 'degraded', temporal: 'unreachable', configVersion: 'sha256:test' });
  for (const internal of ['UNAVAILABLE', 'tcp connect', '10.1.2.3', 'Error', '.ts:']) assert.ok(!text.includes(internal), `the body holds no ${internal}`);
  assert.match(String(logged[0]?.error), /UNAVAILABLE: tcp connect error/);
});

// The timeout only ends a hang (the failure this guards against): the answer comes after the 2 s deadline.
test('/healthz answers 503 by its own deadline when the call never settles, whatever the connection does with the deadline', { timeout: 60_000 }, async () => {
  const { status, body } = await health(clientAnswering(() => new Promise(() => undefined)));
  assert.equal(status, 503);
  assert.equal(body.status, 'degraded');
  assert.equal(body.temporal, 'unreachable');
  assert.equal(body.error, undefined);
});
