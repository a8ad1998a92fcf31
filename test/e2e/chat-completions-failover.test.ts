// Through the real path: official `openai` client → HTTP API → Temporal dev
// server → worker → mock provider over HTTP.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { TEST_RETRY, TENANT_KEY, type Harness } from '../support/gateway-harness';
import { harnessPerFile } from '../support/harness-per-file';

let harness: Harness;
let openai: OpenAI;

harnessPerFile((started) => ({ harness, openai } = started));

async function ask(model = 'model-a', content = 'Hello there') {
  const { data, response } = await openai.chat.completions
    .create({ model, messages: [{ role: 'user', content }] })
    .withResponse();
  return { data, headers: response.headers, gateway: (data as unknown as { gateway: GatewayBlock }).gateway };
}

interface GatewayBlock {
  workflow_id: string;
  provider: string;
  outcome: string;
  fallbacks: number;
  attempts: { position: number; model: string; outcome: string; failureType?: string; tries: number }[];
}

describe('POST /v1/chat/completions', () => {
  test('the first model answers in OpenAI shape with the route headers', async () => {
    const { data, headers, gateway } = await ask('model-a', 'What is durable execution?');
    assert.equal(data.object, 'chat.completion');
    assert.equal(data.choices[0]?.message.role, 'assistant');
    assert.match(data.choices[0]?.message.content ?? '', /\S/);
    assert.equal(data.choices[0]?.finish_reason, 'stop');
    assert.ok((data.usage?.total_tokens ?? 0) > 0);
    assert.equal(headers.get('x-gateway-model'), 'model-a');
    assert.equal(headers.get('x-gateway-fallbacks'), '0');
    assert.match(headers.get('x-gateway-workflow-id') ?? '', /^llm-alpha-/);
    assert.equal(gateway.outcome, 'success');
    assert.deepEqual((await harness.calls())['model-a'], 1);
  });

  test('a 5xx fails over to the next model at once, without a retry on the dead one', async () => {
    await harness.setFault('model-a', { status: 503 });
    const { headers, gateway } = await ask();
    assert.equal(headers.get('x-gateway-model'), 'model-b');
    assert.equal(headers.get('x-gateway-fallbacks'), '1');
    assert.equal(gateway.attempts[0]?.failureType, 'ProviderUnavailable');
    assert.equal(gateway.attempts[0]?.tries, 1);
    const calls = await harness.calls();
    assert.equal(calls['model-a'], 1);
    assert.equal(calls['model-b'], 1);
  });

  test('a dropped connection is a brief transient: retried on the same model, which answers', async () => {
    await harness.setFault('model-a', { cutStreamAfterChunks: 0, times: 1 });
    const { headers, gateway } = await ask();
    assert.equal(headers.get('x-gateway-model'), 'model-a');
    assert.equal(gateway.fallbacks, 0);
    assert.equal(gateway.attempts[0]?.tries, 2);
    assert.equal((await harness.calls())['model-a'], 2);
  });

  test("the chain's last model retries a 5xx within its provider budget", async () => {
    await harness.setFault('model-a', { status: 503 });
    await harness.setFault('model-b', { status: 503 });
    await harness.setFault('model-c', { status: 503, times: TEST_RETRY.maximumAttempts - 1 });
    const { headers, gateway } = await ask();
    assert.equal(headers.get('x-gateway-model'), 'model-c');
    assert.equal(gateway.attempts[2]?.tries, TEST_RETRY.maximumAttempts);
    const calls = await harness.calls();
    assert.deepEqual([calls['model-a'], calls['model-b'], calls['model-c']], [1, 1, TEST_RETRY.maximumAttempts]);
  });

  test('a 429 falls over at once while another model follows', async () => {
    await harness.setFault('model-a', { status: 429, retryAfterSeconds: 1, times: 1 });
    const { headers, gateway } = await ask();
    assert.equal(headers.get('x-gateway-model'), 'model-b');
    assert.equal(gateway.attempts[0]?.failureType, 'RateLimited');
    assert.equal(gateway.attempts[0]?.tries, 1);
    assert.equal((await harness.calls())['model-a'], 1);
  });

  test("on the chain's last model a 429 with Retry-After is waited out and that model answers", async () => {
    await harness.setFault('model-a', { status: 503 });
    await harness.setFault('model-b', { status: 503 });
    await harness.setFault('model-c', { status: 429, retryAfterSeconds: 1, times: 1 });
    const started = Date.now();
    const { headers, gateway } = await ask();
    // A lower bound only: the retry cannot come before the provider allowed it.
    assert.ok(Date.now() - started >= 1_000, 'the retry waited for Retry-After');
    assert.equal(headers.get('x-gateway-model'), 'model-c');
    assert.equal(gateway.attempts[2]?.tries, 2);
    assert.equal((await harness.calls())['model-c'], 2);
  });

  test("on the chain's last model a Retry-After longer than the provider allows is not waited for", async () => {
    for (const model of ['model-a', 'model-b']) await harness.setFault(model, { status: 503 });
    await harness.setFault('model-c', { status: 429, retryAfterSeconds: 60 });
    const { headers, gateway } = await ask();
    assert.equal(headers.get('x-gateway-model'), 'fallback');
    assert.equal(gateway.attempts[2]?.failureType, 'RateLimited');
    assert.equal((await harness.calls())['model-c'], 1);
  });

  test('a provider that hangs times out and the next model answers at once', async () => {
    await harness.setFault('model-a', { hang: true });
    const { headers, gateway } = await ask();
    assert.equal(headers.get('x-gateway-model'), 'model-b');
    assert.equal(gateway.attempts[0]?.failureType, 'Timeout');
    assert.equal((await harness.calls())['model-a'], 1);
  });

  test('a 401 falls over at once without a retry', async () => {
    await harness.setFault('model-a', { status: 401 });
    const { headers, gateway } = await ask();
    assert.equal(headers.get('x-gateway-model'), 'model-b');
    assert.equal(gateway.attempts[0]?.failureType, 'AccessDenied');
    assert.equal(gateway.attempts[0]?.tries, 1);
    assert.equal((await harness.calls())['model-a'], 1);
  });

  test('an invalid request stops the chain with a 400 and no fallback', async () => {
    await harness.setFault('model-a', { status: 400 });
    await assert.rejects(ask(), (error: unknown) => {
      assert.ok(error instanceof OpenAI.BadRequestError);
      assert.equal(error.status, 400);
      assert.equal(error.type, 'invalid_request_error');
      return true;
    });
    const calls = await harness.calls();
    assert.equal(calls['model-a'], 1);
    assert.equal(calls['model-b'] ?? 0, 0);
    assert.equal(calls['model-c'] ?? 0, 0);
  });

  test('when every model is down the deterministic fallback answers, marked as such', async () => {
    for (const model of ['model-a', 'model-b', 'model-c']) await harness.setFault(model, { status: 500 });
    const { data, headers, gateway } = await ask();
    assert.equal(data.choices[0]?.message.content, 'deterministic fallback answer');
    assert.equal(headers.get('x-gateway-model'), 'fallback');
    assert.equal(headers.get('x-gateway-outcome'), 'fallback_answer');
    assert.equal(headers.get('x-gateway-fallbacks'), '3');
    assert.deepEqual(
      gateway.attempts.map((attempt) => [attempt.model, attempt.failureType]),
      [
        ['model-a', 'ProviderUnavailable'],
        ['model-b', 'ProviderUnavailable'],
        ['model-c', 'ProviderUnavailable'],
      ],
    );
  });

  test('the workflow carries search attributes and activity summaries ops can read', async () => {
    await harness.setFault('model-a', { status: 401 });
    const { headers } = await ask();
    const workflowId = headers.get('x-gateway-workflow-id') ?? '';
    const handle = harness.client.workflow.getHandle(workflowId);
    const description = await handle.describe();
    const attributes = Object.fromEntries(
      description.typedSearchAttributes.getAll().map((pair) => [pair.key.name, pair.value]),
    );
    assert.equal(attributes.Tenant, 'alpha');
    assert.equal(attributes.Provider, 'mock-anthropic');
    assert.equal(attributes.Model, 'model-b');
    assert.equal(attributes.FallbackCount, 1);
    assert.equal(attributes.Outcome, 'success');
    const history = await handle.fetchHistory();
    const summaries = (history.events ?? [])
      .filter((event) => event.activityTaskScheduledEventAttributes)
      .map((event) => JSON.parse(Buffer.from(event.userMetadata?.summary?.data ?? new Uint8Array()).toString('utf8')) as string);
    assert.deepEqual(summaries, ['mock-openai/model-a (first of 3)', 'mock-anthropic/model-b (fallback 1 of 2)']);
    // The provider key is resolved on the worker: it never enters workflow history.
    const historyText = decodedText(history);
    assert.ok(historyText.includes('model-b'), 'history was decoded');
    assert.ok(!historyText.includes(harness.env.MOCK_PROVIDER_KEY ?? 'mock-key'), 'no provider key in history');
  });

  test('the caller deadline (x-gateway-timeout-ms) bounds the whole chain and ends in the fallback', async () => {
    await harness.setFault('model-a', { hang: true });
    const { data, response } = await openai.chat.completions
      .create({ model: 'model-a', messages: [{ role: 'user', content: 'quick' }] }, { headers: { 'x-gateway-timeout-ms': '800' } })
      .withResponse();
    assert.equal(response.headers.get('x-gateway-outcome'), 'fallback_answer');
    assert.equal(data.choices[0]?.message.content, 'deterministic fallback answer');
    const gateway = (data as unknown as { gateway: GatewayBlock }).gateway;
    // Without the deadline this request would end on model-b: model-a's calls time out after
    // requestMs (1.5 s) three times, then the chain falls over. With it, the chain ends at the
    // deadline, during model-a's one attempt; on a slow machine the deadline may even pass before
    // that attempt reaches the provider, so the attempt is there at most once and timed out.
    assert.ok(gateway.attempts.length <= 1, JSON.stringify(gateway.attempts));
    for (const attempt of gateway.attempts) assert.deepEqual([attempt.model, attempt.failureType], ['model-a', 'Timeout']);
    const calls = await harness.calls();
    assert.ok((calls['model-a'] ?? 0) <= 1, `model-a was called ${calls['model-a']} times`);
    assert.equal(calls['model-b'] ?? 0, 0, 'no fallback was tried after the deadline');
    assert.equal(calls['model-c'] ?? 0, 0, 'no fallback was tried after the deadline');
  });

  test('a route name resolves to its chain', async () => {
    const { headers } = await ask('default');
    assert.equal(headers.get('x-gateway-model'), 'model-a');
  });
});

describe('bad input', () => {
  async function post(body: unknown, headers: Record<string, string> = {}) {
    const response = await fetch(`${harness.apiUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TENANT_KEY}`, 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as { error: { message: string; type: string; param: string | null } } };
  }

  test('is answered with an OpenAI error body and the right status, and starts nothing', async () => {
    const cases: [string, unknown, number, RegExp, Record<string, string>?][] = [
      ['no messages', { model: 'model-a', messages: [] }, 400, /messages/],
      ['n > 1', { model: 'model-a', messages: [{ role: 'user', content: 'x' }], n: 2 }, 400, /n must be 1/],
      ['unknown parameter', { model: 'model-a', messages: [{ role: 'user', content: 'x' }], frobnicate: true }, 400, /frobnicate/],
      ['unknown model', { model: 'no-such-model', messages: [{ role: 'user', content: 'x' }] }, 404, /does not exist/],
      ['bad role', { model: 'model-a', messages: [{ role: 'wizard', content: 'x' }] }, 400, /role/],
      ['not JSON', '{"model":', 400, /not valid JSON/],
      ['bad deadline header', { model: 'model-a', messages: [{ role: 'user', content: 'x' }] }, 400, /x-gateway-timeout-ms/, { 'x-gateway-timeout-ms': 'soon' }],
      ['too large', { model: 'model-a', messages: [{ role: 'user', content: 'x'.repeat(3 * 1024 * 1024) }] }, 413, /exceeds/],
    ];
    for (const [name, body, status, message, headers] of cases) {
      const response = await post(body, headers);
      assert.equal(response.status, status, name);
      assert.match(response.body.error.message, message, name);
      assert.ok(response.body.error.type, name);
    }
    assert.deepEqual(await harness.calls(), {});
  });

  test('a missing or wrong key gets 401', async () => {
    const missing = await fetch(`${harness.apiUrl}/v1/chat/completions`, { method: 'POST' });
    assert.equal(missing.status, 401);
    const wrong = await post({ model: 'model-a', messages: [{ role: 'user', content: 'x' }] }, { authorization: 'Bearer nope' });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.error.type, 'authentication_error');
  });
});

/** Every string and byte payload in a history, as text (protobuf's toJSON would base64 the bytes). */
function decodedText(value: unknown, seen = new Set<unknown>()): string {
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
  if (!value || typeof value !== 'object' || seen.has(value)) return '';
  seen.add(value);
  return Object.values(value)
    .map((inner) => decodedText(inner, seen))
    .join('\n');
}

test('the workflow page tells the story: who answered after how many fallbacks, the route, and the attempts', async () => {
  await harness.setFault('model-a', { status: 401, times: 1 });
  const { response } = await openai.chat.completions.create({ model: 'model-a', messages: [{ role: 'user', content: 'tell the story' }] }).withResponse();
  const handle = harness.client.workflow.getHandle(response.headers.get('x-gateway-workflow-id') ?? '');
  const metadata = await handle.query<{ currentDetails: string }>('__temporal_workflow_metadata');
  const lines = metadata.currentDetails.split('\n');
  assert.equal(lines[0], '**Answered by** `mock-anthropic/model-b` after 1 fallback · success');
  assert.match(metadata.currentDetails, /\*\*Route\*\* `model-a` \(ordered\) · config `sha256:[0-9a-f]{16}`/);
  assert.match(metadata.currentDetails, /\| 1 \| mock-openai \| model-a \| failed \| AccessDenied \|/);
  assert.match(metadata.currentDetails, /\| 2 \| mock-anthropic \| model-b \| success \|/);
  assert.equal(await (await handle.describe()).staticSummary(), 'model-a for alpha');
});
