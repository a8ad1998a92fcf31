// Streaming when the API and the worker are separate processes (api/main.ts
// and worker/main.ts, as in docker-compose): tokens still reach the caller
// as the provider produces them, and a request whose API process dies
// mid-stream still finishes, its result readable by id.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import OpenAI from 'openai';
import { TENANT_KEY, startHarness, type Harness } from '../support/gateway-harness';
import { killAll, startEntryPoint } from '../support/processes';

let harness: Harness;
let worker: ChildProcess;
const children: ChildProcess[] = [];

async function startProcess(entry: string, ready: string): Promise<{ child: ChildProcess; line: Record<string, unknown> }> {
  const started = await startEntryPoint(entry, ready, harness.env);
  children.push(started.child);
  return started;
}

async function startApi(): Promise<{ child: ChildProcess; url: string; streamTaskQueue: string }> {
  const { child, line } = await startProcess('api/main.ts', 'api listening');
  return { child, url: String(line.url), streamTaskQueue: String(line.streamTaskQueue) };
}

async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let round = 0; round < 1_200; round += 1) {
    if (await check()) return;
    await sleep(50);
  }
  assert.fail(`timed out waiting until ${what}`);
}

/** Task queues the request's provider activities were scheduled on, in order. */
async function activityQueues(workflowId: string): Promise<{ type: string; queue: string }[]> {
  const history = await harness.client.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? [])
    .map((event) => event.activityTaskScheduledEventAttributes)
    .filter((attributes) => attributes != null)
    .map((attributes) => ({ type: attributes.activityType?.name ?? '', queue: attributes.taskQueue?.name ?? '' }));
}

before(async () => {
  harness = await startHarness({ embeddedGateway: false });
  worker = (await startProcess('worker/main.ts', 'worker started')).child;
});

after(async () => {
  killAll(children);
  await harness?.stop();
});

test('an API process streams through its own task queue while a separate worker runs the workflow', async () => {
  const api = await startApi();
  const openai = new OpenAI({ baseURL: `${api.url}/v1`, apiKey: TENANT_KEY, maxRetries: 0, timeout: 60_000 });
  const prompt = 'tokens cross processes one two three four';
  const expected = (await openai.chat.completions.create({ model: 'model-a', messages: [{ role: 'user', content: prompt }] })).choices[0]
    ?.message.content;

  await harness.setFault('model-a', { holdStreamAfterChunks: 3, times: 1 });
  const { data: stream, response } = await openai.chat.completions
    .create({ model: 'model-a', stream: true, messages: [{ role: 'user', content: prompt }] })
    .withResponse();
  const workflowId = response.headers.get('x-gateway-workflow-id') ?? '';
  const iterator = stream[Symbol.asyncIterator]();
  let text = '';
  while (text.split(' ').length < 2) {
    const next = await iterator.next();
    assert.equal(next.done, false);
    text += next.value.choices[0]?.delta.content ?? '';
  }
  assert.equal((await harness.client.workflow.getHandle(workflowId).describe()).status.name, 'RUNNING');
  await harness.control.releaseStreams();
  for (let next = await iterator.next(); !next.done; next = await iterator.next()) text += next.value.choices[0]?.delta.content ?? '';
  assert.equal(text, expected);
  assert.deepEqual(await activityQueues(workflowId), [{ type: 'streamModel', queue: api.streamTaskQueue }]);
  api.child.kill('SIGTERM');
  await new Promise((resolve) => api.child.once('exit', resolve));
});

test('a request whose API process dies mid-stream still finishes without streaming, readable by id', async () => {
  const api = await startApi();
  const openai = new OpenAI({ baseURL: `${api.url}/v1`, apiKey: TENANT_KEY, maxRetries: 0, timeout: 60_000 });
  await harness.resetCalls();
  await harness.setFault('model-a', { holdStreamAfterChunks: 2, times: 1 });
  const { data: stream, response } = await openai.chat.completions
    .create({ model: 'model-a', stream: true, messages: [{ role: 'user', content: 'outlive the api process' }] })
    .withResponse();
  const workflowId = response.headers.get('x-gateway-workflow-id') ?? '';
  const iterator = stream[Symbol.asyncIterator]();
  await iterator.next();
  await eventually(async () => (await harness.control.heldStreams()) === 1, 'the provider is mid-stream');

  api.child.kill('SIGKILL');
  await assert.rejects(async () => {
    for (let next = await iterator.next(); !next.done; next = await iterator.next());
  });

  // Heartbeat timeout, then nobody picks the retry up on the dead process's queue: the worker answers instead.
  const result = await harness.client.workflow.getHandle(workflowId).result();
  assert.equal(result.outcome, 'success');
  assert.equal(result.model, 'model-a');
  assert.match(result.text ?? '', /outlive the api process/);
  const queues = await activityQueues(workflowId);
  assert.equal(queues[0]?.type, 'streamModel');
  assert.deepEqual(queues.at(-1), { type: 'callModel', queue: harness.env.SWITCHYARD_TASK_QUEUE });
  assert.equal(result.attempts.length, 1);
});

test('the stream ends as soon as the answer is complete: the caller does not wait for the workflow to finish', async () => {
  const api = await startApi();
  const openai = new OpenAI({ baseURL: `${api.url}/v1`, apiKey: TENANT_KEY, maxRetries: 0, timeout: 60_000 });
  await harness.setFault('model-a', { holdStreamAfterChunks: 2, times: 1 });
  const { data: stream, response } = await openai.chat.completions
    .create({ model: 'model-a', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'end before the bookkeeping' }] })
    .withResponse();
  const workflowId = response.headers.get('x-gateway-workflow-id') ?? '';
  const iterator = stream[Symbol.asyncIterator]();
  const chunks: OpenAI.Chat.ChatCompletionChunk[] = [];
  const first = await iterator.next();
  assert.equal(first.done, false);
  chunks.push(first.value);
  await eventually(async () => (await harness.control.heldStreams()) === 1, 'the provider is mid-stream');
  // The worker that runs the workflow is frozen: whatever it would do after the answer cannot happen yet.
  worker.kill('SIGSTOP');
  try {
    await harness.control.releaseStreams();
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) chunks.push(next.value);
    assert.equal((await harness.client.workflow.getHandle(workflowId).describe()).status.name, 'RUNNING', 'the stream ended while the workflow still ran');
  } finally {
    worker.kill('SIGCONT');
  }
  const text = chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');
  const last = chunks.filter((chunk) => chunk.choices[0]?.finish_reason).at(-1) as OpenAI.Chat.ChatCompletionChunk & {
    gateway?: { outcome: string; fallbacks: number; cost_usd: number; attempts: { model: string; outcome: string; tries: number; usage: unknown; costUsd: number }[] };
  };
  assert.equal(last.choices[0]?.finish_reason, 'stop');
  // What the caller got is what the workflow returns.
  const result = await harness.client.workflow.getHandle(workflowId).result();
  assert.equal(text, result.text);
  assert.deepEqual(chunks.at(-1)?.usage, { prompt_tokens: result.usage.inputTokens, completion_tokens: result.usage.outputTokens, total_tokens: result.usage.inputTokens + result.usage.outputTokens });
  assert.equal(last.gateway?.outcome, result.outcome);
  assert.equal(last.gateway?.fallbacks, result.fallbacks);
  assert.equal(last.gateway?.cost_usd, result.costUsd);
  const withoutDuration = (attempts: readonly object[]) => attempts.map((attempt) => ({ ...attempt, durationMs: 0 }));
  assert.deepEqual(withoutDuration(last.gateway?.attempts ?? []), withoutDuration(result.attempts));
  api.child.kill('SIGTERM');
  await new Promise((resolve) => api.child.once('exit', resolve));
});
