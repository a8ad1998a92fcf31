// An agent run survives its worker being SIGKILLed twice: once while a tool
// call is at the caller's server, once during a model call. The run finishes
// with a complete transcript, and the tool's side effect happened once: its
// retried call carried the same idempotency key, which the tool honours.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { TENANT_KEY, startHarness, type Harness } from '../support/gateway-harness';
import { waitFor } from '../support/processes';
import { startSplitGateway, type SplitGateway } from '../support/split-gateway';

let harness: Harness;
let gateway: SplitGateway;
let toolServer: Server;
/** Requests the tool received, and side effects it performed, by idempotency key. */
const requests = new Map<string, number>();
const effects = new Map<string, string>();
/** The tool holds its answers until the test lets them go, so the first kill lands while a tool call is in flight. */
let releaseTool: () => void = () => undefined;
const toolReleased = new Promise<void>((resolve) => {
  releaseTool = resolve;
});

before(async () => {
  // A tool with a side effect (it "books" something) that honours idempotency keys, and answers once released.
  toolServer = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      const key = String(request.headers['idempotency-key'] ?? '');
      requests.set(key, (requests.get(key) ?? 0) + 1);
      void toolReleased.then(() => {
        if (!effects.has(key)) effects.set(key, `booking-${effects.size + 1}`);
        response.setHeader('content-type', 'application/json');
        response.end(JSON.stringify({ booked: effects.get(key) }));
      });
    });
  });
  await new Promise<void>((resolve) => toolServer.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(toolServer.address() as AddressInfo).port}/book`;
  harness = await startHarness({
    embeddedGateway: false,
    timeouts: { requestMs: 30_000, totalMs: 120_000, heartbeatMs: 1_000 },
    configure: (config) => ({ ...config, agents: { tools: { book: { url, parameters: { type: 'object', properties: { what: { type: 'string' } }, required: ['what'] } } } } }),
  });
  gateway = await startSplitGateway(harness);
});

after(async () => {
  await gateway?.stop();
  await harness?.stop();
  await new Promise((resolve) => toolServer?.close(resolve));
});

async function run(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(`${gateway.apiUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${TENANT_KEY}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return (await response.json()) as Record<string, unknown>;
}

test('killed during a tool call and during a model call, a run finishes with its transcript and one side effect', async () => {
  const started = await run('POST', '/v1/agent/runs', { model: 'model-a', messages: [{ role: 'user', content: 'Book a table' }], tools: ['book'] });
  const runId = String(started.id);

  // First kill: the tool call is at the tool server, which holds it until after the kill.
  await waitFor(async () => requests.size > 0, 'the tool call');
  // The model's answer to the tool result never comes (the next call only): the second kill lands during that model call.
  await harness.setFault('model-a', { hang: true, times: 1 });
  const callsBefore = (await harness.calls())['model-a'] ?? 0;
  await gateway.replaceWorker();
  releaseTool();

  await waitFor(async () => ((await harness.calls())['model-a'] ?? 0) > callsBefore, 'the second model call');
  await gateway.replaceWorker();

  let final: Record<string, unknown> = {};
  for (let tries = 0; tries < 1_200 && final.status !== 'completed'; tries++) {
    final = await run('GET', `/v1/agent/runs/${runId}`);
    if (final.status !== 'completed') await sleep(100);
  }
  await harness.clearFaults();
  assert.equal(final.status, 'completed');
  const messages = final.messages as { role: string; content: string | null; toolCalls?: { name: string }[] }[];
  assert.deepEqual(messages.map((message) => message.role), ['user', 'assistant', 'tool', 'assistant'], 'a complete transcript');
  assert.equal(messages[1]?.toolCalls?.[0]?.name, 'book');
  assert.match(String(messages[2]?.content), /booking-1/);
  assert.match(String(final.answer), /booking-1/);
  // The tool call was retried after the crash with the same key: one side effect.
  assert.equal(effects.size, 1, `one booking, not ${effects.size}`);
  // The hanging model call was made again by the next worker.
  assert.ok(((await harness.calls())['model-a'] ?? 0) >= callsBefore + 2, 'the model call cut by the second kill was retried');
  // The first request's worker died while the tool was still working (it answers only after the kill): the call came again.
  assert.ok([...requests.values()].every((count) => count >= 2), `the tool call was retried: ${[...requests.values()].join(', ')} requests`);
  assert.equal(requests.size, 1, 'every retry carried the same idempotency key');
});
