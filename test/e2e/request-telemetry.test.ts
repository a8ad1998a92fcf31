// Request telemetry has one source: the request workflow, measured by the
// worker that completes it. Each way a request comes in — chat (sync and
// streamed), messages, async, a batch item, an agent step, the typed client —
// moves the request series exactly once, under its own entry label, and
// tokens, cost, fallbacks, output validation and the cache carry the labels
// a platform team slices by. Through the real path: the official clients →
// the API → Temporal → the worker → the mock provider.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI, { toFile } from 'openai';
import { GatewayClient } from '../../client/gateway-client';
import { ADMIN_KEY, TENANT_KEY, startHarness, type Harness } from '../support/gateway-harness';
import { parseExposition, total, type Sample } from '../support/metrics-exposition';
import { until } from '../support/processes';

const ENTRIES = ['chat', 'messages', 'async', 'batch', 'agent', 'client', 'eval'] as const;
type Entry = (typeof ENTRIES)[number];

let harness: Harness;
let openai: OpenAI;
let gateway: GatewayClient;

before(async () => {
  harness = await startHarness();
  openai = new OpenAI({ baseURL: `${harness.apiUrl}/v1`, apiKey: TENANT_KEY, maxRetries: 0, timeout: 60_000 });
  gateway = new GatewayClient({ client: harness.client, tenantId: 'alpha', taskQueue: harness.env.SWITCHYARD_TASK_QUEUE });
});

after(async () => {
  await harness?.stop();
});

async function scrape(): Promise<Sample[]> {
  const response = await fetch(`${harness.apiUrl}/metrics`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
  assert.equal(response.status, 200);
  return parseExposition(await response.text());
}

/** How much each entry's request count and duration histogram moved while `drive` ran. */
async function moved(drive: () => Promise<void>): Promise<{ requests: Record<Entry, number>; durations: Record<Entry, number>; before: Sample[]; after: Sample[] }> {
  const before = await scrape();
  await drive();
  const after = await scrape();
  const delta = (name: string) =>
    Object.fromEntries(ENTRIES.map((entry) => [entry, total(after, name, { entry }) - total(before, name, { entry })])) as Record<Entry, number>;
  return { requests: delta('switchyard_requests_total'), durations: delta('switchyard_request_duration_seconds_count'), before, after };
}

/** Only `entry` moved, by `count`, in both the counter and the histogram. */
function assertOnly(result: Awaited<ReturnType<typeof moved>>, entry: Entry, count: number): void {
  const expected = Object.fromEntries(ENTRIES.map((name) => [name, name === entry ? count : 0]));
  assert.deepEqual(result.requests, expected, `switchyard_requests_total moved for ${entry} only`);
  assert.deepEqual(result.durations, expected, `switchyard_request_duration_seconds moved for ${entry} only`);
}

async function getJson(path: string): Promise<Record<string, unknown>> {
  const response = await fetch(`${harness.apiUrl}${path}`, { headers: { authorization: `Bearer ${TENANT_KEY}` } });
  return (await response.json()) as Record<string, unknown>;
}

test('a synchronous chat completion counts once under chat, with its tokens and cost by feature', async () => {
  const result = await moved(async () => {
    const { data } = await openai.chat.completions
      .create({ model: 'model-a', messages: [{ role: 'user', content: 'count me once' }] }, { headers: { 'x-gateway-feature': 'checkout' } })
      .withResponse();
    assert.equal(data.model, 'model-a');
  });
  assertOnly(result, 'chat', 1);
  const grew = (name: string, labels: Record<string, string>) => total(result.after, name, labels) - total(result.before, name, labels);
  assert.equal(grew('switchyard_requests_total', { tenant: 'alpha', entry: 'chat', model: 'model-a', outcome: 'success' }), 1);
  assert.ok(grew('switchyard_tokens_total', { tenant: 'alpha', entry: 'chat', feature: 'checkout', model: 'model-a', direction: 'input' }) > 0, 'input tokens by feature');
  assert.ok(grew('switchyard_tokens_total', { tenant: 'alpha', entry: 'chat', feature: 'checkout', model: 'model-a', direction: 'output' }) > 0, 'output tokens by feature');
  assert.ok(grew('switchyard_cost_usd_total', { tenant: 'alpha', entry: 'chat', feature: 'checkout', model: 'model-a' }) > 0, 'cost by feature');
});

test('a streamed chat completion counts once under chat', async () => {
  assertOnly(
    await moved(async () => {
      const counted = async () => total(await scrape(), 'switchyard_requests_total', { entry: 'chat' });
      const before = await counted();
      const stream = await openai.chat.completions.create({ model: 'model-a', stream: true, messages: [{ role: 'user', content: 'stream and count' }] });
      for await (const chunk of stream) assert.ok(chunk);
      // The stream ends with the answer; the worker counts the request when its workflow ends, just after.
      await until(counted, (count) => count > before, 'the streamed request is counted');
    }),
    'chat',
    1,
  );
});

test('an Anthropic message counts once under messages', async () => {
  const anthropic = new Anthropic({ baseURL: harness.apiUrl, apiKey: TENANT_KEY, maxRetries: 0, timeout: 60_000 });
  assertOnly(
    await moved(async () => {
      const message = await anthropic.messages.create({ model: 'model-a', max_tokens: 100, messages: [{ role: 'user', content: 'messages count' }] });
      assert.equal(message.type, 'message');
    }),
    'messages',
    1,
  );
});

test('an asynchronous request counts once under async, when it ends', async () => {
  assertOnly(
    await moved(async () => {
      const accepted = await fetch(`${harness.apiUrl}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TENANT_KEY}`, 'content-type': 'application/json', prefer: 'respond-async' },
        body: JSON.stringify({ model: 'model-a', messages: [{ role: 'user', content: 'later, please' }] }),
      });
      assert.equal(accepted.status, 202);
      const { id } = (await accepted.json()) as { id: string };
      await until(() => getJson(`/v1/requests/${id}`), (read) => read.status === 'completed', `request ${id}`);
    }),
    'async',
    1,
  );
});

test('each batch item counts once under batch, and the batch counts as a running job until it ends', async () => {
  const running = async () => total(await scrape(), 'switchyard_jobs_running', { kind: 'batch' });
  // Slow answers, so the batch is seen running.
  await harness.setFault('model-a', { latencyMs: 1_000 });
  assertOnly(
    await moved(async () => {
      const lines = [0, 1].map((index) =>
        JSON.stringify({ custom_id: `t-${index}`, method: 'POST', url: '/v1/chat/completions', body: { model: 'model-a', messages: [{ role: 'user', content: `item ${index}` }] } }),
      );
      const file = await openai.files.create({ file: await toFile(Buffer.from(`${lines.join('\n')}\n`), 'telemetry.jsonl'), purpose: 'batch' });
      const created = await openai.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
      await until(running, (count) => count >= 1, 'the batch counted as running');
      const batch = await until(() => openai.batches.retrieve(created.id), (read) => ['completed', 'failed', 'expired', 'cancelled'].includes(read.status), `batch ${created.id}`);
      assert.deepEqual(batch.request_counts, { total: 2, completed: 2, failed: 0 });
    }),
    'batch',
    2,
  );
  await harness.clearFaults();
  assert.equal(await running(), 0, 'no batch running once it ended');
});

test('each model step of an agent run counts once under agent', async () => {
  let steps = 0;
  const result = await moved(async () => {
    const started = await fetch(`${harness.apiUrl}/v1/agent/runs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TENANT_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'model-a', messages: [{ role: 'user', content: 'What is 6 * 7?' }], tools: ['calculator'] }),
    });
    assert.equal(started.status, 201);
    const { id } = (await started.json()) as { id: string };
    const run = await until(() => getJson(`/v1/agent/runs/${id}`), (read) => ['completed', 'step_limit', 'failed', 'cancelled'].includes(String(read.status)), `agent run ${id}`);
    assert.equal(run.status, 'completed');
    for await (const execution of harness.client.workflow.list({ query: `WorkflowType = 'llmRequestWorkflow' AND WorkflowId STARTS_WITH '${id}-step-'` })) {
      assert.equal(execution.status.name, 'COMPLETED');
      steps += 1;
    }
  });
  assert.ok(steps >= 2, `the run called the model, ran the tool and called it again (${steps} steps)`);
  assertOnly(result, 'agent', steps);
});

test('a request started with the typed client counts once under client', async () => {
  assertOnly(
    await moved(async () => {
      const response = await gateway.complete({ model: 'model-a', messages: [{ role: 'user', content: 'typed and counted' }] });
      assert.equal(response.outcome, 'success');
    }),
    'client',
    1,
  );
});

test('a failover counts the fallback by entry and reason, and JSON answers count their validation by model and format', async () => {
  // model-a answers prose to a JSON request: refused as invalid output, and the next model that takes json_schema answers.
  await harness.setFault('model-a', { reply: 'this is not JSON', times: 100 });
  try {
    let answered = '';
    let fallbacks = 0;
    const result = await moved(async () => {
      const { data: completion, response } = await openai.chat.completions
        .create({
          model: 'model-a',
          response_format: { type: 'json_schema', json_schema: { name: 'answer', schema: { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'] } } },
          messages: [{ role: 'user', content: 'answer in JSON' }],
        })
        .withResponse();
      answered = completion.model;
      fallbacks = Number(response.headers.get('x-gateway-fallbacks'));
      assert.notEqual(answered, 'model-a');
    });
    assertOnly(result, 'chat', 1);
    const grew = (name: string, labels: Record<string, string>) => total(result.after, name, labels) - total(result.before, name, labels);
    assert.equal(grew('switchyard_fallbacks_total', { entry: 'chat', model: 'model-a', reason: 'InvalidOutput' }), 1);
    assert.equal(grew('switchyard_fallbacks_total', {}), fallbacks, 'as many fallbacks as the answer reports');
    assert.equal(grew('switchyard_output_validations_total', { model: 'model-a', format: 'json_schema', result: 'invalid' }), 1);
    assert.equal(grew('switchyard_output_validations_total', { model: answered, format: 'json_schema', result: 'valid' }), 1);
    // The refused answer was billed: its tokens count under the model that produced them.
    assert.ok(grew('switchyard_tokens_total', { model: 'model-a', direction: 'output' }) > 0, 'the refused answer\'s tokens are counted');
  } finally {
    await harness.clearFaults();
  }
});
