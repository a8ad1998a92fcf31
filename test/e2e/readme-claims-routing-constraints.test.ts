// README, "Routing policy": a model's observed (or typical) latency must be
// under the request's latency budget, and "when none is left the request is
// refused with a 400 `no_eligible_model` that lists why". Through the real
// path with the official `openai` and `@anthropic-ai/sdk` clients.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { TENANT_KEY, type Harness } from '../support/gateway-harness';
import { harnessPerFile } from '../support/harness-per-file';

let harness: Harness;
let openai: OpenAI;

/** Slower than any budget these tests set, and than the 1,500 ms call timeout of the harness. */
const TYPICAL_SLOW_MS = 3_000;
/** What the mock waits before `model-observed` answers once, so the worker observes a slow model. */
const OBSERVED_SLOW_MS = 1_000;

type Completion = OpenAI.Chat.ChatCompletion & {
  gateway: { route: { candidates: { model: string }[]; rejected: { model: string; reason: string }[] } };
};

harnessPerFile((started) => ({ harness, openai } = started), {
    configure: (config) => ({
      ...config,
      models: {
        ...config.models,
        'model-slow': { provider: 'mock-openai', approvedFor: ['public', 'internal'], typicalLatencyMs: TYPICAL_SLOW_MS },
        'model-observed': { provider: 'mock-openai', approvedFor: ['public', 'internal'] },
        // Configured as slow, but answers fast: what the worker observes wins.
        'model-pessimistic': { provider: 'mock-openai', approvedFor: ['public', 'internal'], typicalLatencyMs: TYPICAL_SLOW_MS },
      },
      routes: {
        ...config.routes,
        'slow-first': ['model-slow', 'model-b'],
        'slow-only': ['model-slow'],
        'observed-first': ['model-observed', 'model-b'],
        'observed-only': ['model-observed'],
        'pessimistic-only': ['model-pessimistic'],
      },
    }),
  });

async function ask(model: string, headers: Record<string, string> = {}): Promise<{ completion: Completion; response: Response }> {
  const { data, response } = await openai.chat.completions
    .create({ model, messages: [{ role: 'user', content: `hello ${model}` }] }, { headers })
    .withResponse();
  return { completion: data as Completion, response };
}

async function workflowsOfTenant(): Promise<number> {
  let count = 0;
  for await (const _execution of harness.client.workflow.list({ query: `Tenant = 'alpha'` })) count += 1;
  return count;
}

// model-slow is never called in this file: one call would replace its typical latency with an observed one.
test('a latency budget skips a model whose typical latency is over it; the next model answers', async () => {
  const unconstrained = await fetch(`${harness.apiUrl}/v1/route/explain`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TENANT_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'slow-first', messages: [{ role: 'user', content: 'hi' }] }),
  });
  const explained = (await unconstrained.json()) as { candidates: { model: string }[] };
  assert.deepEqual(explained.candidates.map((candidate) => candidate.model), ['model-slow', 'model-b'], 'without a budget the slow model goes first');

  const { completion, response } = await ask('slow-first', { 'x-gateway-latency-budget-ms': '1000' });
  assert.equal(response.headers.get('x-gateway-model'), 'model-b');
  assert.equal(response.headers.get('x-gateway-fallbacks'), '0', 'skipped, not tried and failed');
  assert.deepEqual(completion.gateway.route.rejected, [{ model: 'model-slow', reason: `typical latency ${TYPICAL_SLOW_MS} ms is over the 1000 ms budget` }]);
  assert.deepEqual(await harness.calls(), { 'model-b': 1 }, 'the slow model is never called');
});

test('a latency budget also comes from the body’s metadata', async () => {
  const { data, response } = await openai.chat.completions
    .create({ model: 'slow-first', messages: [{ role: 'user', content: 'hi' }], metadata: { latency_budget_ms: '1000' } })
    .withResponse();
  assert.equal(response.headers.get('x-gateway-model'), 'model-b');
  assert.match(JSON.stringify((data as Completion).gateway.route.rejected), /typical latency 3000 ms is over the 1000 ms budget/);
});

test('a latency budget skips a model the worker observed answering slower than it', async () => {
  // One slow answer is what the worker has seen of model-observed.
  await harness.setFault('model-observed', { latencyMs: OBSERVED_SLOW_MS, times: 1 });
  assert.equal((await ask('observed-first')).response.headers.get('x-gateway-model'), 'model-observed');
  await harness.resetCalls();

  const budget = OBSERVED_SLOW_MS / 2;
  const { completion, response } = await ask('observed-first', { 'x-gateway-latency-budget-ms': String(budget) });
  assert.equal(response.headers.get('x-gateway-model'), 'model-b');
  const [rejected] = completion.gateway.route.rejected;
  assert.equal(rejected?.model, 'model-observed');
  assert.match(rejected?.reason ?? '', new RegExp(`^observed latency \\d+ ms is over the ${budget} ms budget$`));
  assert.ok(Number(/observed latency (\d+)/.exec(rejected?.reason ?? '')?.[1]) >= OBSERVED_SLOW_MS, rejected?.reason);
  assert.deepEqual(await harness.calls(), { 'model-b': 1 });
});

test('a request no model may serve is refused with 400 no_eligible_model listing every reason, and nothing starts', async () => {
  const before = await workflowsOfTenant();
  // Confidential data may go only to model-c, which cannot read images.
  const request = openai.chat.completions.create(
    {
      model: 'model-a',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'what is on this picture?' }, { type: 'image_url', image_url: { url: 'https://example.com/cat.png' } }] }],
    },
    { headers: { 'x-gateway-sensitivity': 'confidential' } },
  );
  await assert.rejects(request, (error: unknown) => {
    assert.ok(error instanceof OpenAI.BadRequestError, String(error));
    assert.equal(error.code, 'no_eligible_model');
    assert.equal(error.type, 'invalid_request_error');
    assert.equal(
      error.message,
      '400 no configured model may serve this request (model-a: not approved for confidential data; model-b: not approved for confidential data; model-c: cannot do vision)',
    );
    return true;
  });
  assert.deepEqual(await harness.calls(), {});
  assert.equal(await workflowsOfTenant(), before, 'no workflow started');
});

test('a latency budget no model meets by its typical latency is refused with 400 no_eligible_model', async () => {
  await assert.rejects(ask('slow-only', { 'x-gateway-latency-budget-ms': '1000' }), (error: unknown) => {
    assert.ok(error instanceof OpenAI.BadRequestError, String(error));
    assert.equal(error.code, 'no_eligible_model');
    assert.match(error.message, /model-slow: typical latency 3000 ms is over the 1000 ms budget/);
    return true;
  });
  assert.deepEqual(await harness.calls(), {});
});

test('a latency budget no model meets by what the worker observed is refused with 400 no_eligible_model too', async () => {
  await harness.setFault('model-observed', { latencyMs: OBSERVED_SLOW_MS, times: 1 });
  await ask('observed-only');
  await harness.resetCalls();
  await assert.rejects(ask('observed-only', { 'x-gateway-latency-budget-ms': String(OBSERVED_SLOW_MS / 2) }), (error: unknown) => {
    assert.ok(error instanceof OpenAI.BadRequestError, String(error));
    assert.equal(error.code, 'no_eligible_model');
    assert.match(error.message, /no configured model may serve this request \(model-observed: observed latency \d+ ms is over the 500 ms budget\)/);
    return true;
  });
  assert.deepEqual(await harness.calls(), {});
});

test('a model observed answering within the budget is served, whatever its typical latency says', async () => {
  await assert.rejects(ask('pessimistic-only', { 'x-gateway-latency-budget-ms': '1000' }), (error: unknown) => {
    assert.ok(error instanceof OpenAI.BadRequestError && error.code === 'no_eligible_model', String(error));
    return true;
  }, 'before any observation, its typical latency rules it out');
  await ask('pessimistic-only');
  const { completion, response } = await ask('pessimistic-only', { 'x-gateway-latency-budget-ms': '1000' });
  assert.equal(response.headers.get('x-gateway-model'), 'model-pessimistic');
  assert.deepEqual(completion.gateway.route.rejected, []);
});

test('on /v1/messages the same refusal is an Anthropic invalid_request_error', async () => {
  const anthropic = new Anthropic({ baseURL: harness.apiUrl, apiKey: TENANT_KEY, maxRetries: 0, timeout: 60_000 });
  await assert.rejects(
    anthropic.messages.create(
      { model: 'slow-only', max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] },
      { headers: { 'x-gateway-latency-budget-ms': '1000' } },
    ),
    (error: unknown) => {
      assert.ok(error instanceof Anthropic.BadRequestError, String(error));
      const body = error.error as { type: string; error: { type: string; message: string } };
      assert.equal(body.error.type, 'invalid_request_error');
      assert.match(body.error.message, /^no configured model may serve this request \(model-slow: typical latency 3000 ms is over the 1000 ms budget\)$/);
      return true;
    },
  );
  assert.deepEqual(await harness.calls(), {});
});
