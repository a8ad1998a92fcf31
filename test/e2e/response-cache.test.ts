// The exact response cache through the real path (HTTP → Temporal → worker →
// mock provider) on its embedded SQLite store: a repeated request makes no
// second provider call, tenants never share answers, sampled and confidential
// requests are not cached, and with every model down a cached answer stands
// in, marked stale.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import OpenAI from 'openai';
import { OTHER_TENANT_KEY, TENANT_KEY, startHarness, type Harness } from '../support/gateway-harness';

let harness: Harness;
let directory: string;

before(async () => {
  directory = mkdtempSync(join(tmpdir(), 'switchyard-cache-'));
  harness = await startHarness({
    configure: (config) => ({
      ...config,
      // The summarize class keeps answers one second, so a test can see one age past it.
      cache: { enabled: true, sqliteFile: join(directory, 'cache.sqlite'), taskClassTtlSeconds: { summarize: 1 } },
    }),
  });
});
after(async () => {
  await harness?.stop();
  rmSync(directory, { recursive: true, force: true });
});
afterEach(async () => {
  await harness.clearFaults();
  await harness.resetCalls();
});

function client(key = TENANT_KEY): OpenAI {
  return new OpenAI({ baseURL: `${harness.apiUrl}/v1`, apiKey: key, maxRetries: 0 });
}

function ask(content: string, options: { key?: string; temperature?: number; headers?: Record<string, string>; model?: string } = {}) {
  return client(options.key)
    .chat.completions.create(
      { model: options.model ?? 'model-a', temperature: options.temperature ?? 0, messages: [{ role: 'user', content }] },
      { headers: options.headers },
    )
    .withResponse();
}

test('a repeated request is answered from the cache without a second provider call', async () => {
  const first = await ask('What is the capital of France?');
  assert.equal(first.response.headers.get('x-gateway-cache'), 'miss');
  assert.equal((await harness.calls())['model-a'], 1);

  const second = await ask('What is the capital of France?');
  assert.equal(second.response.headers.get('x-gateway-cache'), 'hit');
  assert.equal(second.data.choices[0]?.message.content, first.data.choices[0]?.message.content);
  assert.equal(second.data.model, 'model-a');
  assert.equal(second.response.headers.get('x-gateway-cost-usd'), '0', 'a hit costs nothing');
  assert.equal((await harness.calls())['model-a'], 1, 'no second provider call');
  assert.equal((second.data as unknown as { gateway: { cache: string } }).gateway.cache, 'hit');

  // A different question, or the same one with other sampling, is a different entry.
  assert.equal((await ask('What is the capital of Spain?')).response.headers.get('x-gateway-cache'), 'miss');
  assert.equal((await harness.calls())['model-a'], 2);
});

test('another tenant never gets a cached answer of this one', async () => {
  await ask('Tenant-scoped question');
  const other = await ask('Tenant-scoped question', { key: OTHER_TENANT_KEY });
  assert.equal(other.response.headers.get('x-gateway-cache'), 'miss');
  assert.equal((await harness.calls())['model-a'], 2);
});

test('a streamed repeat is served from the cache too', async () => {
  const text = async () => {
    const { data: stream, response } = await client()
      .chat.completions.create({ model: 'model-a', temperature: 0, stream: true, messages: [{ role: 'user', content: 'Stream me a cached answer' }] })
      .withResponse();
    let content = '';
    for await (const chunk of stream) content += chunk.choices[0]?.delta.content ?? '';
    // The stream ends at the last token; the answer goes to the cache as its workflow closes, just after.
    const workflowId = response.headers.get('x-gateway-workflow-id');
    assert.ok(workflowId, 'the stream names its workflow');
    await harness.client.workflow.getHandle(workflowId).result();
    return { content, cache: response.headers.get('x-gateway-cache') };
  };
  const first = await text();
  const second = await text();
  assert.equal(second.cache, 'hit');
  assert.equal(second.content, first.content);
  assert.ok(first.content.length > 0);
  assert.equal((await harness.calls())['model-a'], 1);
});

test('sampling above temperature 0 bypasses the cache unless the caller opts in', async () => {
  const sampled = await ask('A creative question', { temperature: 0.7 });
  assert.equal(sampled.response.headers.get('x-gateway-cache'), 'bypass');
  await ask('A creative question', { temperature: 0.7 });
  assert.equal((await harness.calls())['model-a'], 2, 'both went to the provider');

  const allowed = { temperature: 0.7, headers: { 'x-gateway-cache': 'allow' } };
  assert.equal((await ask('An allowed creative question', allowed)).response.headers.get('x-gateway-cache'), 'miss');
  assert.equal((await ask('An allowed creative question', allowed)).response.headers.get('x-gateway-cache'), 'hit');
  assert.equal((await ask('A bypassed question', { headers: { 'x-gateway-cache': 'bypass' } })).response.headers.get('x-gateway-cache'), 'bypass');
});

test('confidential requests are not cached', async () => {
  const confidential = { headers: { 'x-gateway-sensitivity': 'confidential' } };
  const first = await ask('A confidential question', confidential);
  const second = await ask('A confidential question', confidential);
  assert.equal(first.response.headers.get('x-gateway-cache'), 'bypass');
  assert.equal(second.response.headers.get('x-gateway-cache'), 'bypass');
  assert.equal((await harness.calls())['model-c'], 2, 'both reached the approved model');
});

test('a bad x-gateway-cache value is a 400 that starts nothing', async () => {
  const error = await ask('bad header', { headers: { 'x-gateway-cache': 'sometimes' } }).then(
    () => assert.fail('expected a 400'),
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof OpenAI.APIError);
  assert.equal(error.status, 400);
  assert.match(error.message, /x-gateway-cache must be bypass or allow/);
  assert.deepEqual(await harness.calls(), {});
});

test('with every model down, an expired cached answer stands in, marked stale', async () => {
  const summarize = { model: 'summarize' };
  const fresh = await ask('Summarize: the cache stands in for failed models.', summarize);
  assert.equal(fresh.response.headers.get('x-gateway-cache'), 'miss');
  // The class's TTL is one second: past it the entry is no longer a hit, but it may still stand in.
  await sleep(1_100);
  for (const model of ['model-small', 'model-a', 'model-b', 'model-c']) await harness.setFault(model, { status: 500 });
  const stale = await ask('Summarize: the cache stands in for failed models.', summarize);
  assert.equal(stale.response.headers.get('x-gateway-cache'), 'stale');
  assert.equal(stale.response.headers.get('x-gateway-outcome'), 'fallback_answer');
  assert.equal(stale.data.choices[0]?.message.content, fresh.data.choices[0]?.message.content);
  assert.equal(stale.data.model, fresh.data.model);

  // A request never answered before gets the deterministic fallback.
  const unknown = await ask('Summarize: something nobody asked before.', summarize);
  assert.equal(unknown.response.headers.get('x-gateway-cache'), 'miss');
  assert.equal(unknown.data.choices[0]?.message.content, 'deterministic fallback answer');
});
