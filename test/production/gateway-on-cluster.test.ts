// The gateway on a production topology (test/production/support/topology.ts):
// the real Temporal server on PostgreSQL with mTLS and an API key, two API
// and two worker processes, the shared Redis cache. Driven through the
// official `openai` client against both API processes.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI, { toFile } from 'openai';
import { TENANT_KEY } from '../support/gateway-harness';
import { until as untilRead } from '../support/processes';
import { startTopology, type Topology } from './support/topology';

let topology: Topology;

before(async () => {
  topology = await startTopology();
});

after(async () => {
  await topology?.stop();
});

function openai(index: number): OpenAI {
  const api = topology.apis[index];
  assert.ok(api, `API process ${index}`);
  return new OpenAI({ baseURL: `${api.url}/v1`, apiKey: TENANT_KEY, maxRetries: 0, timeout: 120_000 });
}

async function http(index: number, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${topology.apis[index]?.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${TENANT_KEY}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

/** Polls `read` every 200 ms until `done` holds, for at most two minutes. */
const until = <T>(read: () => Promise<T>, done: (value: T) => boolean, what: string): Promise<T> => untilRead(read, done, what, 200);

const TERMINAL = ['completed', 'failed', 'cancelled'];

test('a failover, through each API process', async () => {
  for (const index of [0, 1]) {
    await topology.control.setFault('model-a', { status: 503 });
    try {
      const { data, response } = await openai(index)
        .chat.completions.create({ model: 'model-a', messages: [{ role: 'user', content: `fail over on api ${index}` }] })
        .withResponse();
      assert.equal(response.headers.get('x-gateway-model'), 'model-b');
      assert.equal(response.headers.get('x-gateway-fallbacks'), '1');
      assert.match(data.choices[0]?.message.content ?? '', new RegExp(`fail over on api ${index}`));
    } finally {
      await topology.control.clearFaults();
    }
  }
});

test('a streamed answer', async () => {
  const stream = await openai(1).chat.completions.create({ model: 'model-a', stream: true, messages: [{ role: 'user', content: 'stream on the cluster' }] });
  let text = '';
  let chunks = 0;
  for await (const chunk of stream) {
    chunks += 1;
    text += chunk.choices[0]?.delta.content ?? '';
  }
  assert.ok(chunks > 2, `the answer came in pieces (${chunks})`);
  assert.match(text, /stream on the cluster/);
});

test('an async request accepted by one API process is answered by the other', async () => {
  const accepted = await http(0, 'POST', '/v1/chat/completions', { model: 'model-a', messages: [{ role: 'user', content: 'async across processes' }] }, { prefer: 'respond-async' });
  assert.equal(accepted.status, 202);
  const id = String(accepted.json.id);
  const done = await until(() => http(1, 'GET', `/v1/requests/${id}`), (read) => TERMINAL.includes(String(read.json.status)), `request ${id}`);
  assert.equal(done.json.status, 'completed');
  const result = done.json.result as { choices: { message: { content: string } }[] };
  assert.match(result.choices[0]?.message.content ?? '', /async across processes/);
});

test('a batch: every item answered once', async () => {
  const client = openai(0);
  const lines = Array.from({ length: 6 }, (_, index) =>
    JSON.stringify({ custom_id: `item-${index}`, method: 'POST', url: '/v1/chat/completions', body: { model: 'model-a', messages: [{ role: 'user', content: `batch item ${index}` }] } }),
  );
  const file = await client.files.create({ file: await toFile(Buffer.from(`${lines.join('\n')}\n`), 'batch.jsonl'), purpose: 'batch' });
  const created = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
  const batch = await until(() => client.batches.retrieve(created.id), (read) => ['completed', 'failed', 'expired', 'cancelled'].includes(read.status), `batch ${created.id}`);
  assert.equal(batch.status, 'completed');
  assert.deepEqual(batch.request_counts, { total: 6, completed: 6, failed: 0 });
  await assertBatchItemsOnce(client, batch.output_file_id, created.id, 6);
});

test('an agent run, started on one API process and read on the other', async () => {
  const started = await http(1, 'POST', '/v1/agent/runs', { model: 'model-a', messages: [{ role: 'user', content: 'What is the weather in Oslo?' }], tools: ['weather'] });
  assert.equal(started.status, 201);
  const runId = String(started.json.id);
  const run = await until(() => http(0, 'GET', `/v1/agent/runs/${runId}`), (read) => ['completed', 'step_limit', 'failed', 'cancelled'].includes(String(read.json.status)), `agent run ${runId}`);
  assert.equal(run.json.status, 'completed');
  assert.match(String(run.json.answer), /sunny in/);
  const keys = [...topology.toolCalls.keys()].filter((key) => key.startsWith(`${runId}/`));
  assert.equal(keys.length, 1, 'the tool was called for one step');
});

test('a worker and the Temporal server SIGKILLed under load (the server restarted): every accepted request ends once, no batch item runs twice', async () => {
  // Slow answers, so requests are in flight when the worker dies and the server restarts.
  await topology.control.setFault('model-a', { latencyMs: 1_500 });
  try {
    const accepted: string[] = [];
    const starts = Array.from({ length: 16 }, async (_, index) => {
      const reply = await http(index % 2, 'POST', '/v1/chat/completions', { model: 'model-a', messages: [{ role: 'user', content: `under load ${index}` }] }, { prefer: 'respond-async' });
      assert.equal(reply.status, 202, `request ${index} accepted`);
      accepted.push(String(reply.json.id));
    });
    const client = openai(1);
    const lines = Array.from({ length: 8 }, (_, index) =>
      JSON.stringify({ custom_id: `load-${index}`, method: 'POST', url: '/v1/chat/completions', body: { model: 'model-a', messages: [{ role: 'user', content: `load item ${index}` }] } }),
    );
    const file = await client.files.create({ file: await toFile(Buffer.from(`${lines.join('\n')}\n`), 'load.jsonl'), purpose: 'batch' });
    const batch = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    await Promise.all(starts);
    await until(async () => (await topology.control.calls())['model-a'] ?? 0, (calls) => calls >= 4, 'calls in flight');

    const victim = topology.workers[0];
    assert.ok(victim);
    victim.child.kill('SIGKILL');
    await new Promise((resolve) => (victim.child.exitCode === null && victim.child.signalCode === null ? victim.child.once('exit', resolve) : resolve(undefined)));
    await topology.cluster.restartServer({ kill: true });
    topology.workers.push(await topology.startWorker());

    for (const id of accepted) {
      const done = await until(() => http(0, 'GET', `/v1/requests/${id}`).catch(() => ({ status: 0, json: {} as Record<string, unknown> })), (read) => TERMINAL.includes(String(read.json.status)), `request ${id}`);
      assert.equal(done.json.status, 'completed', `request ${id}: ${JSON.stringify(done.json.error ?? null)}`);
    }
    // Exactly one run of each: none started again, none left running.
    for (const id of accepted) {
      const runs: string[] = [];
      for await (const execution of topology.client.workflow.list({ query: `WorkflowId = '${id}'` })) runs.push(execution.status.name);
      assert.deepEqual(runs, ['COMPLETED'], `request ${id}`);
    }
    const finished = await until(() => client.batches.retrieve(batch.id), (read) => ['completed', 'failed', 'expired', 'cancelled'].includes(read.status), `batch ${batch.id}`).catch(
      async (error: Error) => assert.fail(`${error.message}\nwhat the batch waits for: ${await pendingWork(batch.id)}`),
    );
    assert.equal(finished.status, 'completed');
    assert.deepEqual(finished.request_counts, { total: 8, completed: 8, failed: 0 });
    await assertBatchItemsOnce(client, finished.output_file_id, batch.id, 8);
  } finally {
    await topology.control.clearFaults();
  }
});

test('a gateway process without the API key, or with a client certificate of another CA, is refused with a clear error', async () => {
  await assert.rejects(topology.startWorker({ TEMPORAL_API_KEY: undefined }), (error: Error) => {
    assert.match(error.message, /cannot connect to Temporal at .*\(TLS, no API key\)/);
    assert.match(error.message, /PermissionDenied|Unauthenticated|unauthorized|authorization/i);
    return true;
  });
  const wrong = topology.cluster.wrongClientCert;
  await assert.rejects(topology.startApi({ TEMPORAL_TLS_CLIENT_CERT_PATH: wrong.certPath, TEMPORAL_TLS_CLIENT_KEY_PATH: wrong.keyPath }), (error: Error) => {
    assert.match(error.message, /cannot connect to Temporal at .*\(TLS, an API key\)/);
    return true;
  });
});

/** A workflow's pending activities and children, as the UI would show them (for a failure's message). */
async function pendingWork(workflowId: string): Promise<string> {
  const { raw } = await topology.client.workflow.getHandle(workflowId).describe();
  return JSON.stringify({
    activities: raw.pendingActivities?.map((activity) => ({
      type: activity.activityType?.name,
      state: activity.state,
      attempt: activity.attempt,
      worker: activity.lastWorkerIdentity,
      lastFailure: activity.lastFailure?.message,
    })),
    children: raw.pendingChildren?.map((child) => child.workflowId),
  });
}

/** The output file holds each item once, and each item's workflow ran once. */
async function assertBatchItemsOnce(client: OpenAI, outputFileId: string | null | undefined, batchId: string, items: number): Promise<void> {
  assert.ok(outputFileId, 'the batch has an output file');
  const output = (await (await client.files.content(outputFileId)).text())
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { custom_id: string; response: { status_code: number } });
  const ids = output.map((line) => line.custom_id).sort();
  assert.equal(ids.length, items);
  assert.equal(new Set(ids).size, items, `each item once: ${ids.join(', ')}`);
  assert.ok(output.every((line) => line.response.status_code === 200));
  const runs = new Map<string, number>();
  for await (const execution of topology.client.workflow.list({ query: `WorkflowType = 'llmRequestWorkflow' AND WorkflowId STARTS_WITH '${batchId}-'` })) {
    runs.set(execution.workflowId, (runs.get(execution.workflowId) ?? 0) + 1);
  }
  assert.equal(runs.size, items, 'one request workflow per item');
  assert.ok([...runs.values()].every((count) => count === 1), `no item ran twice: ${JSON.stringify(Object.fromEntries(runs))}`);
}
