// Routing by task, data and constraints through the real path (official SDK →
// gateway → Temporal → worker → mock), with the mock recording what each
// provider received.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import OpenAI from 'openai';
import { GAMMA_TENANT_KEY, OTHER_TENANT_KEY, TENANT_KEY, type Harness } from '../support/gateway-harness';
import { harnessPerFile } from '../support/harness-per-file';

let harness: Harness;
let openai: OpenAI;

interface RouteInfo {
  resolvedFrom: string;
  strategy: string;
  taskClass?: string;
  sensitivity?: string;
  promptTokens?: number;
  findings?: Record<string, number>;
  candidates: { model: string; score?: number; redacted?: boolean }[];
  rejected: { model: string; reason: string }[];
}

type Completion = OpenAI.Chat.ChatCompletion & { gateway: { route: RouteInfo; config_version: string; outcome: string } };

harnessPerFile((started) => ({ harness, openai } = started));

async function ask(
  body: Partial<OpenAI.Chat.ChatCompletionCreateParamsNonStreaming> & { content?: string },
  headers: Record<string, string> = {},
  client: OpenAI = openai,
): Promise<{ completion: Completion; response: Response }> {
  const { content = 'hello', ...rest } = body;
  const { data, response } = await client.chat.completions
    .create({ model: 'model-a', messages: [{ role: 'user', content }], ...rest }, { headers })
    .withResponse();
  return { completion: data as Completion, response };
}

/** The text the mock's `model` received in its last request. */
async function lastPromptSeenBy(model: string): Promise<string> {
  const bodies = await harness.control.receivedRequests(model);
  return JSON.stringify(bodies.at(-1));
}

async function explain(body: Record<string, unknown>, headers: Record<string, string> = {}, key = TENANT_KEY) {
  const response = await fetch(`${harness.apiUrl}/v1/route/explain`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> & { candidates: { model: string; score: number | null; parts: unknown; redacted: boolean }[]; rejected: { model: string; reason: string }[] } };
}

test('a confidential prompt goes only to the approved self-hosted model while the premium one is healthy', async () => {
  const { completion, response } = await ask({ model: 'model-a', content: 'quarterly numbers' }, { 'x-gateway-sensitivity': 'confidential' });
  assert.equal(completion.model, 'model-c');
  assert.equal(response.headers.get('x-gateway-model'), 'model-c');
  assert.deepEqual(await harness.calls(), { 'model-c': 1 });
  const route = completion.gateway.route;
  assert.equal(route.sensitivity, 'confidential');
  assert.deepEqual(route.rejected, [
    { model: 'model-a', reason: 'not approved for confidential data' },
    { model: 'model-b', reason: 'not approved for confidential data' },
  ]);
  assert.match(response.headers.get('x-gateway-route') ?? '', /^model-a \(ordered\): model-c; rejected: model-a, model-b$/);
});

test('a confidential prompt never reaches a non-approved provider, even when the approved one is down', async () => {
  await harness.setFault('model-c', { status: 503 });
  const { completion } = await ask({ model: 'model-a', content: 'secret plans' }, { 'x-gateway-sensitivity': 'confidential' });
  assert.equal(completion.gateway.outcome, 'fallback_answer');
  assert.equal(completion.choices[0]?.message.content, 'deterministic fallback answer');
  const calls = await harness.calls();
  assert.equal(calls['model-a'], undefined);
  assert.equal(calls['model-b'], undefined);
  assert.ok((calls['model-c'] ?? 0) >= 1);
});

test('an API key in the prompt makes it confidential on its own', async () => {
  const { completion } = await ask({ model: 'model-a', content: 'debug this: OPENAI_API_KEY=sk-proj-abcdefghijklmnopqrstuvwxyz0123456789ABCD' });
  assert.equal(completion.model, 'model-c');
  assert.equal(completion.gateway.route.sensitivity, 'confidential');
  assert.deepEqual(completion.gateway.route.findings, { secret: 1 });
  assert.deepEqual(await harness.calls(), { 'model-c': 1 });
});

test('a card number reaches an external provider only redacted, and the self-hosted one as written', async () => {
  const card = '4111 1111 1111 1111';
  const { completion } = await ask({ model: 'model-a', content: `Refund the order paid with card ${card}, please.` });
  assert.equal(completion.model, 'model-a');
  assert.deepEqual(completion.gateway.route.findings, { payment_card: 1 });
  assert.equal(completion.gateway.route.candidates.find((candidate) => candidate.model === 'model-a')?.redacted, true);
  const seenByA = await lastPromptSeenBy('model-a');
  assert.ok(!seenByA.includes('4111'), seenByA);
  assert.match(seenByA, /\[REDACTED:payment_card\]/);

  // When the external models fail, the self-hosted one gets the prompt unredacted.
  await harness.setFault('model-a', { status: 401 });
  await harness.setFault('model-b', { status: 401 });
  const { completion: local } = await ask({ model: 'model-a', content: `Refund the order paid with card ${card}, please.` });
  assert.equal(local.model, 'model-c');
  assert.match(await lastPromptSeenBy('model-b'), /\[REDACTED:payment_card\]/);
  assert.ok((await lastPromptSeenBy('model-c')).includes(card));
});

test('a public request is not redacted', async () => {
  await ask({ model: 'model-a', content: 'Mail me at ada@example.com' }, { 'x-gateway-sensitivity': 'public' });
  // The e-mail raises the class to internal, whose policy redacts for external models.
  assert.match(await lastPromptSeenBy('model-a'), /\[REDACTED:email\]/);
  await harness.resetCalls();
  await ask({ model: 'model-a', content: 'Nothing personal in here' }, { 'x-gateway-sensitivity': 'public' });
  assert.match(await lastPromptSeenBy('model-a'), /Nothing personal in here/);
});

test('a class the policy refuses is answered 400 before anything starts', async () => {
  await assert.rejects(
    ask({ model: 'model-a' }, { 'x-gateway-sensitivity': 'restricted' }),
    (error: unknown) => error instanceof OpenAI.BadRequestError && error.code === 'sensitive_data_refused',
  );
  assert.deepEqual(await harness.calls(), {});
});

test('a long prompt skips the small-window model of its task class', async () => {
  const short = await ask({ model: 'summarize', content: 'Summarize: the cat sat.' });
  assert.equal(short.completion.gateway.route.strategy, 'scored');
  assert.equal(short.completion.gateway.route.taskClass, 'summarize');
  assert.equal(short.completion.model, 'model-small');
  await harness.resetCalls();

  const long = await ask({ model: 'summarize', content: `Summarize: ${'the quick brown fox jumps over the lazy dog. '.repeat(60)}` });
  assert.notEqual(long.completion.model, 'model-small');
  const skipped = long.completion.gateway.route.rejected.find((model) => model.model === 'model-small');
  assert.match(skipped?.reason ?? '', /^prompt of ~\d+ tokens does not fit its 300-token window$/);
  assert.equal((await harness.calls())['model-small'], undefined);
});

test('a cost ceiling leaves only models whose worst case fits under it', async () => {
  // "hi" is ~5 prompt tokens: 5 × $5/M + 4096 × $15/M for model-a, 5 × $3/M + 4096 × $15/M for model-b; model-c is free.
  const { completion } = await ask({ model: 'chat', content: 'hi' }, { 'x-gateway-cost-ceiling-usd': '0.01' });
  assert.equal(completion.model, 'model-c');
  const reasons = completion.gateway.route.rejected.map((model) => `${model.model}: ${model.reason}`);
  assert.deepEqual(reasons, [
    'model-a: worst-case cost 0.061465 USD is over the 0.01 USD ceiling',
    'model-b: worst-case cost 0.061455 USD is over the 0.01 USD ceiling',
  ]);
  // With max_tokens small enough, model-a fits again.
  const capped = await ask({ model: 'chat', content: 'hi', max_tokens: 50 }, { 'x-gateway-cost-ceiling-usd': '0.01' });
  assert.ok(capped.completion.gateway.route.candidates.some((candidate) => candidate.model === 'model-a'));
});

test('routing tags come from metadata as well as headers, and a tenant has defaults', async () => {
  const { completion } = await ask({ model: 'auto', content: 'hi', metadata: { task_class: 'summarize', criticality: 'high' } });
  assert.equal(completion.gateway.route.taskClass, 'summarize');
  assert.equal(completion.gateway.route.strategy, 'scored');

  const gamma = new OpenAI({ baseURL: `${harness.apiUrl}/v1`, apiKey: GAMMA_TENANT_KEY, maxRetries: 0, timeout: 60_000 });
  const { completion: defaulted } = await ask({ model: 'auto', content: 'hi' }, {}, gamma);
  assert.equal(defaulted.gateway.route.taskClass, 'summarize');
  assert.equal(defaulted.gateway.route.sensitivity, 'confidential');
  assert.equal(defaulted.model, 'model-c');
});

test("a tag may raise the tenant's default sensitivity, never lower it: a lower one is a 400 naming the floor, and nothing starts", async () => {
  const send = (headers: Record<string, string>, metadata?: Record<string, string>) =>
    fetch(`${harness.apiUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${GAMMA_TENANT_KEY}`, 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ model: 'auto', messages: [{ role: 'user', content: 'payroll of the whole team' }], ...(metadata ? { metadata } : {}) }),
    });
  const callsBefore = await harness.calls();
  for (const [response, param] of [
    [await send({ 'x-gateway-sensitivity': 'public' }), 'x-gateway-sensitivity'],
    [await send({}, { sensitivity: 'internal' }), 'metadata.sensitivity'],
  ] as const) {
    assert.equal(response.status, 400);
    const { error } = (await response.json()) as { error: { type: string; param: string; code: string; message: string } };
    assert.equal(error.type, 'invalid_request_error');
    assert.equal(error.param, param);
    assert.equal(error.code, 'sensitivity_below_tenant_default');
    assert.match(error.message, /below this tenant's default "confidential"/);
    assert.equal(response.headers.get('x-gateway-workflow-id'), null);
  }
  assert.deepEqual(await harness.calls(), callsBefore, 'no model was called');
  // The tenant's own class (or a higher one) is fine.
  const same = await send({ 'x-gateway-sensitivity': 'confidential' });
  assert.equal(same.status, 200);
  assert.equal(same.headers.get('x-gateway-model'), 'model-c');
});

test('a request that needs tools never goes to a model without them, not even as the last fallback', async () => {
  const tools: OpenAI.Chat.ChatCompletionTool[] = [
    { type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: { q: { type: 'string' } } } } },
  ];
  // model-c has tools; ask for vision too, which only model-a and model-b have.
  const explained = await explain(
    {
      model: 'model-a',
      tools,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'what is this?' }, { type: 'image_url', image_url: { url: 'https://example.com/cat.png' } }] }],
    },
    {},
  );
  assert.equal(explained.status, 200);
  assert.deepEqual(explained.body.required_capabilities, ['tools', 'vision']);
  assert.deepEqual(explained.body.candidates.map((candidate) => candidate.model), ['model-a', 'model-b']);
  assert.deepEqual(explained.body.rejected, [{ model: 'model-c', reason: 'cannot do vision' }]);
});

test('POST /v1/route/explain shows scores and reasons and calls no model', async () => {
  const { status, body } = await explain(
    { model: 'auto', messages: [{ role: 'user', content: 'call me at +44 20 7946 0958' }] },
    { 'x-gateway-task-class': 'summarize', 'x-gateway-criticality': 'low' },
    // Tenant beta starts nothing anywhere in this file, so any workflow of its would be this one's.
    OTHER_TENANT_KEY,
  );
  assert.equal(status, 200);
  assert.equal(body.object, 'gateway.route_explanation');
  assert.match(String(body.config_version), /^sha256:[0-9a-f]{16}$/);
  assert.equal(body.strategy, 'scored');
  assert.equal(body.task_class, 'summarize');
  assert.equal(body.criticality, 'low');
  assert.equal(body.sensitivity, 'internal');
  assert.deepEqual(body.findings, { phone: 1 });
  assert.ok(Number(body.prompt_tokens) > 0);
  assert.equal(body.candidates.length, 4);
  const scores = body.candidates.map((candidate) => candidate.score ?? -1);
  assert.deepEqual([...scores].sort((left, right) => right - left), scores);
  assert.ok(body.candidates.every((candidate) => candidate.parts !== null));
  // Low criticality: cheapest acceptable first, open weights included.
  assert.equal(body.candidates[0]?.model, 'model-small');
  assert.equal(body.candidates.find((candidate) => candidate.model === 'model-c')?.redacted, false);
  assert.equal(body.candidates.find((candidate) => candidate.model === 'model-a')?.redacted, true);
  assert.deepEqual(await harness.calls(), {});
  for await (const execution of harness.client.workflow.list({ query: `Tenant = 'beta'` })) {
    assert.fail(`a workflow started: ${execution.workflowId}`);
  }
});

test('bad routing tags are refused with a 400 naming them, and nothing starts', async () => {
  for (const [header, value, pattern] of [
    ['x-gateway-task-class', 'poetry', /unknown task class "poetry"/],
    ['x-gateway-sensitivity', 'secret-ish', /unknown sensitivity class/],
    ['x-gateway-criticality', 'urgent', /unknown criticality tier/],
    ['x-gateway-cost-ceiling-usd', 'cheap', /USD amount/],
    ['x-gateway-latency-budget-ms', '-5', /milliseconds/],
    ['x-gateway-capabilities', 'telepathy', /unknown capabilities telepathy/],
  ] as const) {
    await assert.rejects(ask({ model: 'model-a' }, { [header]: value }), (error: unknown) => {
      assert.ok(error instanceof OpenAI.BadRequestError, `${header}: ${String(error)}`);
      assert.equal(error.param, header);
      assert.match(error.message, pattern);
      return true;
    });
  }
  assert.deepEqual(await harness.calls(), {});
});

test('a reloaded config applies to new requests; a running request keeps the snapshot it took', async () => {
  const gateway = harness.gateway;
  assert.ok(gateway);
  const before = gateway.store.loaded.version;
  await harness.setFault('model-a', { holdStreamAfterChunks: 2, times: 1 });
  const running = openai.chat.completions
    .create({ model: 'model-a', stream: true, messages: [{ role: 'user', content: 'long answer' }] })
    .then(async (stream) => {
      let last: OpenAI.Chat.ChatCompletionChunk | undefined;
      for await (const chunk of stream) last = chunk;
      return last as OpenAI.Chat.ChatCompletionChunk & { gateway?: { config_version: string } };
    });
  for (let round = 0; round < 1_000 && (await harness.control.heldStreams()) === 0; round += 1) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.equal(await harness.control.heldStreams(), 1, 'the first request is mid-stream');

  const original = readFileSync(harness.configFile, 'utf8');
  try {
    const changed = JSON.parse(original) as { fallback: { message: string } };
    changed.fallback.message = 'changed fallback';
    writeFileSync(harness.configFile, JSON.stringify(changed, null, 2));
    assert.equal(gateway.store.reload(harness.configFile, 'test'), true);
    const after = gateway.store.loaded.version;
    assert.notEqual(after, before);

    const { completion } = await ask({ model: 'model-a', content: 'after the change' });
    assert.equal(completion.gateway.config_version, after);
    await harness.control.releaseStreams();
    const last = await running;
    assert.equal(last.gateway?.config_version, before);
  } finally {
    writeFileSync(harness.configFile, original);
    gateway.store.reload(harness.configFile, 'test');
  }
});

test('names of object members are not models: `constructor` is a plain 404', async () => {
  for (const model of ['constructor', '__proto__', 'toString']) {
    await assert.rejects(ask({ model }), (error: unknown) => error instanceof OpenAI.NotFoundError && error.code === 'model_not_found');
    assert.equal((await explain({ model, messages: [{ role: 'user', content: 'hi' }] })).status, 404);
  }
  assert.deepEqual(await harness.calls(), {});
});
