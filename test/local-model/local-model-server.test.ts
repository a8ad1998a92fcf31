import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { EmbeddedModelSchema } from '../../common/config-schema';
import { startLocalModelServer, type LocalModelServer } from '../../local-model/start-local-model-server';
import { readSettings } from '../../runtime/settings';

// The real default model (SmolLM2-135M-Instruct), fetched into .data/models on first use.
const DATA_DIR = readSettings().dataDir;
const quiet = () => {};
const PROMPTS = ['What is the capital of France?', 'Name three colors.', 'What is 2 plus 2?', 'What do bees make?'];

describe('local model server (node-llama-cpp, CPU) through the official openai client', () => {
  let server: LocalModelServer;
  let client: OpenAI;
  before(async () => {
    server = await startLocalModelServer({ settings: EmbeddedModelSchema.parse({ slots: 1, queue: 1 }), host: '127.0.0.1', port: 0, dataDir: DATA_DIR, log: quiet });
    client = new OpenAI({ baseURL: server.baseUrl, apiKey: 'unused', maxRetries: 0 });
  });
  after(() => server?.close());

  const ask = (content: string, extra: Partial<OpenAI.ChatCompletionCreateParamsNonStreaming> = {}) =>
    client.chat.completions.create({ model: server.modelId, messages: [{ role: 'user', content }], temperature: 0, seed: 7, max_tokens: 48, ...extra });

  test('answers a chat completion: shape, non-empty text, usage', async () => {
    const completion = await ask(PROMPTS[0] ?? '');
    assert.equal(completion.object, 'chat.completion');
    assert.equal(completion.model, 'smollm2-135m-instruct');
    assert.equal(completion.choices.length, 1);
    const choice = completion.choices[0];
    assert.equal(choice?.message.role, 'assistant');
    assert.ok((choice?.message.content ?? '').trim().length > 0, 'the answer has text');
    assert.ok(choice?.finish_reason === 'stop' || choice?.finish_reason === 'length');
    assert.ok((completion.usage?.prompt_tokens ?? 0) > 0);
    assert.ok((completion.usage?.completion_tokens ?? 0) > 0);
    assert.equal(completion.usage?.total_tokens, (completion.usage?.prompt_tokens ?? 0) + (completion.usage?.completion_tokens ?? 0));
  });

  test('streams: a role chunk, text chunks, a finish reason, usage when asked, and the same text as without streaming', async () => {
    const plain = await ask(PROMPTS[1] ?? '');
    const stream = await client.chat.completions.create({
      model: server.modelId,
      messages: [{ role: 'user', content: PROMPTS[1] ?? '' }],
      temperature: 0,
      seed: 7,
      max_tokens: 48,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let textChunks = 0;
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | undefined | null;
    for await (const chunk of stream) {
      assert.equal(chunk.object, 'chat.completion.chunk');
      const choice = chunk.choices[0];
      if (choice?.delta.content) {
        text += choice.delta.content;
        textChunks += 1;
      }
      if (choice?.finish_reason) finish = choice.finish_reason;
      if (chunk.usage) usage = chunk.usage;
    }
    assert.ok(textChunks > 1, 'the answer arrives in pieces');
    assert.equal(text, plain.choices[0]?.message.content, 'temperature 0 with a fixed seed gives the same answer both ways');
    assert.ok(finish === 'stop' || finish === 'length');
    assert.equal(usage?.completion_tokens, plain.usage?.completion_tokens);
  });

  test('json_object output is constrained to valid JSON', async () => {
    const completion = await ask('Describe a cat as a JSON object with a name field.', { response_format: { type: 'json_object' }, max_tokens: 120 });
    const content = completion.choices[0]?.message.content ?? '';
    if (completion.choices[0]?.finish_reason === 'stop') assert.doesNotThrow(() => JSON.parse(content), content);
    else assert.ok(content.trimStart().startsWith('{'), content);
  });

  test('bad requests get OpenAI-style errors and start nothing', async () => {
    const servedBefore = server.counters.served;
    await assert.rejects(
      client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }),
      (error: InstanceType<typeof OpenAI.APIError>) => error.status === 404 && error.code === 'model_not_found',
    );
    await assert.rejects(
      client.chat.completions.create({
        model: server.modelId,
        messages: [{ role: 'user', content: 'hi' }],
        tools: [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: {} } } }],
      }),
      (error: InstanceType<typeof OpenAI.APIError>) => error.status === 400 && error.param === 'tools',
    );
    await assert.rejects(
      ask('word '.repeat(3_000)),
      (error: InstanceType<typeof OpenAI.APIError>) => error.status === 400 && error.code === 'context_length_exceeded',
    );
    const response = await fetch(`${server.baseUrl}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model":' });
    assert.equal(response.status, 400);
    assert.equal(((await response.json()) as { error: { code: string } }).error.code, 'invalid_json');
    assert.equal(server.counters.served, servedBefore);
  });

  test('when the slot and the queue are full, a caller gets a retryable 429; the queued one is answered', async () => {
    // Hold the only slot as a long generation would, so the outcome does not depend on timing.
    const held = await server.queue.acquire();
    const body = JSON.stringify({ model: server.modelId, messages: [{ role: 'user', content: PROMPTS[2] }], temperature: 0, seed: 7, max_tokens: 16 });
    const post = () => fetch(`${server.baseUrl}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const queued = post();
    while (server.queue.stats().queued < 1) await new Promise((resolve) => setImmediate(resolve));
    const refused = await post();
    assert.equal(refused.status, 429);
    assert.equal(refused.headers.get('retry-after'), '1');
    const error = ((await refused.json()) as { error: { type: string; code: string; message: string } }).error;
    assert.equal(error.type, 'rate_limit_error');
    assert.equal(error.code, 'local_model_busy');
    assert.match(error.message, /busy/);
    // The official client treats it as retryable: with retries it waits and gets through once the slot frees.
    const retrying = new OpenAI({ baseURL: server.baseUrl, apiKey: 'unused', maxRetries: 3 });
    const retried = retrying.chat.completions.create({ model: server.modelId, messages: [{ role: 'user', content: 'Say yes.' }], max_tokens: 8 });
    held.release();
    const answered = await queued;
    assert.equal(answered.status, 200);
    assert.ok(((await answered.json()) as { choices: { message: { content: string } }[] }).choices[0]?.message.content);
    assert.ok((await retried).choices[0]?.message.content);
    const health = (await (await fetch(`${server.baseUrl.replace(/\/v1$/, '')}/healthz`)).json()) as Record<string, unknown>;
    assert.equal(health.status, 'ok');
    assert.ok((health.refused as number) >= 1);
  });
});

describe('local model server with two slots', () => {
  let server: LocalModelServer;
  before(async () => {
    server = await startLocalModelServer({ settings: EmbeddedModelSchema.parse({ slots: 2, queue: 8 }), host: '127.0.0.1', port: 0, dataDir: DATA_DIR, log: quiet });
  });
  after(() => server?.close());

  test('concurrent callers each get their own answer, never another caller\'s', async () => {
    const client = new OpenAI({ baseURL: server.baseUrl, apiKey: 'unused', maxRetries: 0 });
    const ask = (content: string) =>
      client.chat.completions
        .create({ model: server.modelId, messages: [{ role: 'user', content }], temperature: 0, seed: 7, max_tokens: 32 })
        .then((completion) => completion.choices[0]?.message.content ?? '');
    const alone: string[] = [];
    for (const prompt of PROMPTS) alone.push(await ask(prompt));
    assert.equal(new Set(alone).size, PROMPTS.length, 'the prompts have different answers');
    const together = await Promise.all([...PROMPTS, ...PROMPTS].map(ask));
    assert.deepEqual(together, [...alone, ...alone]);
    assert.equal(server.counters.failed, 0);
  });
});
