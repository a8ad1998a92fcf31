// Prometheus metrics through the real path: after a request that fell over
// once, /metrics shows the failed attempt, the fallback with its reason and
// the tokens, in valid exposition text with bounded labels only.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { ADMIN_KEY, TENANT_KEY, startHarness, type Harness } from '../support/gateway-harness';
import { killAll, startEntryPoint, until } from '../support/processes';
import { parseExposition, value, type Sample } from '../support/metrics-exposition';

let harness: Harness;
let openai: OpenAI;
const children: ChildProcess[] = [];

before(async () => {
  harness = await startHarness();
  openai = new OpenAI({ baseURL: `${harness.apiUrl}/v1`, apiKey: TENANT_KEY, maxRetries: 0, timeout: 60_000 });
});

after(async () => {
  killAll(children);
  await harness?.stop();
});

test('a request that fell over once shows its failed attempt, the fallback with its reason, tokens and latency', async () => {
  await harness.setFault('model-a', { status: 401, times: 1 });
  const prompt = 'metrics should never carry this sentence';
  const { data, response } = await openai.chat.completions.create({ model: 'model-a', messages: [{ role: 'user', content: prompt }] }).withResponse();
  assert.equal(data.model, 'model-b');
  const { data: stream, response: streamed } = await openai.chat.completions
    .create({ model: 'model-c', stream: true, messages: [{ role: 'user', content: 'stream me' }] })
    .withResponse();
  for await (const chunk of stream) assert.ok(chunk);
  // The stream ends with the answer; the API process serves the request until its workflow ends, just after.
  await harness.client.workflow.getHandle(streamed.headers.get('x-gateway-workflow-id') ?? '').result();
  await until(
    async () => parseExposition(await (await fetch(`${harness.apiUrl}/metrics`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })).text()),
    (samples) => value(samples, 'switchyard_requests_in_flight', { route: 'chat_completions' }) === 0,
    'no request in flight',
  );

  // The API's port answers /metrics to operators only (test/e2e/safe-defaults.test.ts has the refusals).
  const scraped = await fetch(`${harness.apiUrl}/metrics`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
  assert.equal(scraped.status, 200);
  assert.match(scraped.headers.get('content-type') ?? '', /^text\/plain/);
  const text = await scraped.text();
  const samples = parseExposition(text);

  assert.equal(value(samples, 'switchyard_provider_attempts_total', { provider: 'mock-openai', model: 'model-a', result: 'AccessDenied' }), 1);
  assert.equal(value(samples, 'switchyard_provider_attempts_total', { provider: 'mock-anthropic', model: 'model-b', result: 'success' }), 1);
  assert.equal(value(samples, 'switchyard_fallbacks_total', { entry: 'chat', provider: 'mock-openai', model: 'model-a', reason: 'AccessDenied' }), 1);
  assert.ok((value(samples, 'switchyard_tokens_total', { tenant: 'alpha', feature: 'none', model: 'model-b', direction: 'input' }) ?? 0) > 0);
  assert.ok((value(samples, 'switchyard_tokens_total', { tenant: 'alpha', feature: 'none', model: 'model-b', direction: 'output' }) ?? 0) > 0);
  assert.ok((value(samples, 'switchyard_cost_usd_total', { tenant: 'alpha', feature: 'none', model: 'model-b' }) ?? 0) > 0);
  assert.equal(value(samples, 'switchyard_request_duration_seconds_count', { entry: 'chat', model: 'model-b', outcome: 'success' }), 1);
  assert.equal(value(samples, 'switchyard_time_to_first_token_seconds_count', { model: 'model-c' }), 1);
  assert.ok((value(samples, 'switchyard_http_requests_total', { route: '/v1/chat/completions', method: 'POST', status: '200' }) ?? 0) >= 2);
  assert.equal(value(samples, 'switchyard_requests_in_flight', { route: 'chat_completions' }), 0);
  // Each prompt tokenised and scanned once, by the API; the workflow's snapshot takes the API's assessment.
  assert.equal(value(samples, 'switchyard_prompt_assessments_total', { by: 'api' }), 2);
  assert.equal(value(samples, 'switchyard_prompt_assessments_total', { by: 'worker' }) ?? 0, 0);

  // Bounded labels: no prompt, no workflow id, no key.
  const workflowId = response.headers.get('x-gateway-workflow-id') ?? '';
  assert.ok(workflowId.length > 0);
  for (const forbidden of [prompt, workflowId, TENANT_KEY, 'mock-key']) assert.ok(!text.includes(forbidden), `metrics do not contain ${forbidden}`);
});

test('a worker process serves its own /metrics, breaker states included', async () => {
  const worker = await startEntryPoint('worker/main.ts', 'worker started', harness.env);
  children.push(worker.child);
  const url = String(worker.line.metrics);
  let samples: Sample[] = [];
  for (let round = 0; round < 50; round += 1) {
    samples = parseExposition(await (await fetch(url)).text());
    if (value(samples, 'switchyard_breaker_state', { provider: 'mock-openai', state: 'closed' }) === 1) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.equal(value(samples, 'switchyard_breaker_state', { provider: 'mock-openai', state: 'closed' }), 1);
  assert.equal(value(samples, 'switchyard_breaker_state', { provider: 'mock-openai', state: 'open' }), 0);
  assert.ok(samples.some((sample) => sample.name === 'switchyard_process_resident_memory_bytes'));
});

test('the audit trail records config loads and a provider rejecting its key, and only admins may read it', async () => {
  const read = async (key: string, query: string) => {
    const response = await fetch(`${harness.apiUrl}/admin/audit?${query}`, { headers: { authorization: `Bearer ${key}` } });
    return { status: response.status, body: (await response.json()) as { data: Record<string, unknown>[] } };
  };
  assert.equal((await read(TENANT_KEY, 'limit=5')).status, 403);
  assert.equal((await read('nope', 'limit=5')).status, 401);
  assert.equal((await read(ADMIN_KEY, 'limit=abc')).status, 400);
  let denied: Record<string, unknown>[] = [];
  for (let round = 0; round < 50 && denied.length === 0; round += 1) {
    denied = (await read(ADMIN_KEY, 'audit=provider_access_denied')).body.data;
    if (denied.length === 0) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.equal(denied[0]?.provider, 'mock-openai');
  assert.equal(denied[0]?.model, 'model-a');
  assert.equal(denied[0]?.status, 401);
  const loaded = (await read(ADMIN_KEY, 'audit=config_loaded')).body.data;
  assert.match(String(loaded[0]?.version), /^sha256:[0-9a-f]{16}$/);
});
