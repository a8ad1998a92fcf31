// Agent runs through the real path: the model (routed, with fallback) asks
// for a tool, the gateway calls the caller's HTTP tool with an idempotency
// key, the model answers; a run can wait for a person's input, and waits
// for a model to come back instead of failing when every model is down.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CanonicalResponse } from '../../common/response-schema';
import { OTHER_TENANT_KEY, TENANT_KEY, startHarness, type Harness } from '../support/gateway-harness';

let harness: Harness;
let toolServer: Server;
/** Calls the tool server received, by idempotency key. */
const toolCalls = new Map<string, number>();
/** What the `report` tool answers: about 80 KB, five times the harness's large-payload threshold. */
const REPORT = Array.from({ length: 2_500 }, (_, line) => `line ${line}: all systems nominal`).join('\n');
const LARGE_PAYLOAD_BYTES = 16 * 1024;

before(async () => {
  toolServer = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      const key = request.headers['idempotency-key'];
      if (typeof key === 'string') toolCalls.set(key, (toolCalls.get(key) ?? 0) + 1);
      const parsed = JSON.parse(body) as { arguments: { city?: string } };
      if (request.url === '/tools/report') {
        response.setHeader('content-type', 'text/plain');
        response.end(REPORT);
        return;
      }
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ forecast: `sunny in ${parsed.arguments.city ?? 'nowhere'}` }));
    });
  });
  await new Promise<void>((resolve) => toolServer.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(toolServer.address() as AddressInfo).port}/tools/weather`;
  harness = await startHarness({
    largePayloadBytes: LARGE_PAYLOAD_BYTES,
    configure: (config) => ({
      ...config,
      agents: {
        tools: {
          weather: { url, description: 'The weather in a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
          report: { url: url.replace(/weather$/, 'report'), description: 'The status report' },
        },
        initialWaitMs: 200,
        maxWaitMs: 1_000,
        // Every run with a tool step continues as new after it: the transcript and events carry over.
        continueAsNewAfterEvents: 10,
      },
    }),
  });
});
after(async () => {
  await harness?.stop();
  await new Promise((resolve) => toolServer?.close(resolve));
});

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${harness.apiUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${TENANT_KEY}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

async function until(runId: string, statuses: string[]): Promise<Record<string, unknown>> {
  for (let tries = 0; tries < 600; tries++) {
    const { json } = await api('GET', `/v1/agent/runs/${runId}`);
    if (statuses.includes(String(json.status))) return json;
    await sleep(100);
  }
  assert.fail(`run ${runId} never reached ${statuses.join(' or ')}`);
}

test('a run calls the caller\'s HTTP tool once per call, then answers; its events stream as they happen', async () => {
  const started = await api('POST', '/v1/agent/runs', { model: 'model-a', messages: [{ role: 'user', content: 'What is the weather in Paris?' }], tools: ['weather'] });
  assert.equal(started.status, 201);
  const runId = String(started.json.id);
  assert.match(runId, /^run_[a-f0-9]{32}$/);

  // The event stream, read while the run goes on.
  const stream = await fetch(`${harness.apiUrl}/v1/agent/runs/${runId}/events`, { headers: { authorization: `Bearer ${TENANT_KEY}` } });
  const text = await stream.text();
  const kinds = [...text.matchAll(/^event: (\w+)$/gm)].map((match) => match[1]);
  assert.deepEqual(kinds, ['model', 'tool', 'model', 'final', 'done']);

  const run = await until(runId, ['completed']);
  assert.match(String(run.answer), /sunny in mock/);
  const messages = run.messages as { role: string; toolCalls?: { name: string }[]; content: string | null }[];
  assert.deepEqual(messages.map((message) => message.role), ['user', 'assistant', 'tool', 'assistant']);
  // The run continued as new after its tool step; the second run carried the transcript and the event numbering.
  const runs: string[] = [];
  for await (const execution of harness.client.workflow.list({ query: `WorkflowId = '${runId}'` })) runs.push(execution.status.name);
  assert.deepEqual(runs.sort(), ['COMPLETED', 'CONTINUED_AS_NEW']);
  const events = run.events as { seq: number; kind: string }[];
  assert.deepEqual(events.map((event) => [event.seq, event.kind]), [[0, 'model'], [1, 'tool'], [2, 'model'], [3, 'final']]);
  assert.equal(messages[1]?.toolCalls?.[0]?.name, 'weather');
  assert.match(String(messages[2]?.content), /sunny in mock/);
  // One call, under its idempotency key `<run>/<step>/<call id>`.
  const keys = [...toolCalls.keys()].filter((key) => key.startsWith(`${runId}/`));
  assert.equal(keys.length, 1);
  assert.equal(toolCalls.get(keys[0] ?? ''), 1);
  assert.match(keys[0] ?? '', new RegExp(`^${runId}/1/`));
});

test('ask_human: the run waits for a person, then goes on with the answer', async () => {
  const runId = String((await api('POST', '/v1/agent/runs', { model: 'model-a', messages: [{ role: 'user', content: 'Book a table' }], tools: ['ask_human'] })).json.id);
  const waiting = await until(runId, ['waiting_for_input']);
  assert.equal(waiting.question, 'mock');
  assert.equal((await api('POST', `/v1/agent/runs/${runId}/input`, { text: 'for two at eight' })).status, 202);
  const run = await until(runId, ['completed']);
  assert.match(String(run.answer), /for two at eight/);
});

test('with every model down the run waits, and finishes once a model is back', async () => {
  for (const model of ['model-a', 'model-b', 'model-c']) await harness.setFault(model, { status: 503 });
  const runId = String((await api('POST', '/v1/agent/runs', { model: 'model-a', messages: [{ role: 'user', content: 'Are you there?' }] })).json.id);
  const waiting = await until(runId, ['waiting_for_model']);
  assert.ok((waiting.events as { kind: string }[]).some((event) => event.kind === 'waiting'));
  await harness.clearFaults();
  const run = await until(runId, ['completed']);
  assert.match(String(run.answer), /Are you there\?/);
});

test('bad input starts nothing; a run can be cancelled', async () => {
  const unknownTool = await api('POST', '/v1/agent/runs', { model: 'model-a', messages: [{ role: 'user', content: 'x' }], tools: ['rm_rf'] });
  assert.equal(unknownTool.status, 400);
  assert.match(String((unknownTool.json.error as { message: string }).message), /unknown tool "rm_rf"/);
  assert.equal((await api('POST', '/v1/agent/runs', { model: 'nope', messages: [{ role: 'user', content: 'x' }] })).status, 404);

  const runId = String((await api('POST', '/v1/agent/runs', { model: 'model-a', messages: [{ role: 'user', content: 'wait for me' }], tools: ['ask_human'] })).json.id);
  await until(runId, ['waiting_for_input']);
  assert.equal((await api('POST', `/v1/agent/runs/${runId}/cancel`)).status, 202);
  assert.equal((await until(runId, ['cancelled'])).status, 'cancelled');
  assert.equal((await api('POST', `/v1/agent/runs/${runId}/input`, { text: 'too late' })).status, 409);
});

test('a large transcript stays out of history: the run\'s history holds references, the model and the caller get it whole', async () => {
  const started = await api('POST', '/v1/agent/runs', { model: 'model-a', messages: [{ role: 'user', content: 'Read the status report' }], tools: ['report'] });
  assert.equal(started.status, 201);
  const runId = String(started.json.id);
  const run = await until(runId, ['completed']);

  // The caller reads the whole transcript, the tool's 80 KB included.
  const messages = run.messages as { role: string; content: string | null }[];
  assert.deepEqual(messages.map((message) => message.role), ['user', 'assistant', 'tool', 'assistant']);
  assert.equal(messages[2]?.content, REPORT);
  assert.match(String(run.answer), /The tool returned: line 0: all systems nominal/);
  // The model's second call got it whole too: the mock bills the prompt it received.
  const second = (await harness.client.workflow.getHandle(`${runId}-step-2-1`).result()) as CanonicalResponse;
  assert.ok(second.usage.inputTokens >= REPORT.length / 4, `prompt tokens ${second.usage.inputTokens}`);

  // History keeps references of a few hundred bytes instead: no payload at the threshold or above,
  // although the transcript went through the run's history at least twice (tool result, next model call).
  for (const workflowId of [runId, `${runId}-step-2-1`]) {
    const history = await harness.client.workflow.getHandle(workflowId).fetchHistory();
    const largest = Math.max(...payloadSizes(history));
    assert.ok(largest < LARGE_PAYLOAD_BYTES, `${workflowId}: largest payload in history ${largest} bytes`);
    const size = JSON.stringify(history).length;
    assert.ok(size < REPORT.length, `${workflowId}: history ${size} characters, the report alone ${REPORT.length}`);
  }
  const stored = readdirSync(join(dirname(harness.configFile), 'payloads', 'default'));
  assert.ok(stored.length >= 2, `payload files: ${stored.length}`);
});

test('a tenant lists its own runs, newest first, without transcripts', async () => {
  const started = await api('POST', '/v1/agent/runs', { model: 'model-a', messages: [{ role: 'user', content: 'What is the weather in Oslo?' }], tools: ['weather'] });
  const runId = String(started.json.id);
  await until(runId, ['completed']);
  const { status, json } = await api('GET', '/v1/agent/runs?limit=100');
  assert.equal(status, 200);
  const rows = json.data as { id: string; status: string; messages?: unknown; last_event: { kind: string } | null }[];
  assert.equal(rows.filter((row) => row.id === runId).length, 1);
  const row = rows.find((entry) => entry.id === runId);
  assert.equal(row?.status, 'completed');
  assert.equal(row?.last_event?.kind, 'final');
  assert.equal(row?.messages, undefined);
  const other = (await (await fetch(`${harness.apiUrl}/v1/agent/runs`, { headers: { authorization: `Bearer ${OTHER_TENANT_KEY}` } })).json()) as { data: { id: string }[] };
  assert.ok(!other.data.some((entry) => entry.id === runId), "another tenant's list leaves the run out");
  assert.equal((await api('GET', '/v1/agent/runs?limit=0')).status, 400);
});

/** Sizes of every payload's data in a raw history (as the server holds it). */
function payloadSizes(value: unknown): number[] {
  if (value === null || typeof value !== 'object') return [];
  if (value instanceof Uint8Array) return [];
  const record = value as Record<string, unknown>;
  const own = record.data instanceof Uint8Array && 'metadata' in record ? [record.data.length] : [];
  return [...own, ...Object.values(record).flatMap(payloadSizes)];
}
