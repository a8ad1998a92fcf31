import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { startMockProvider, type MockProvider } from '../../mock/mock-provider';

let mock: MockProvider;
let openai: OpenAI;

before(async () => {
  mock = await startMockProvider();
  openai = new OpenAI({ baseURL: `${mock.url}/v1`, apiKey: 'test', maxRetries: 0 });
});
after(() => mock.close());

async function streamedText(params: OpenAI.Chat.ChatCompletionCreateParamsNonStreaming): Promise<{
  text: string;
  finishReason: string | null;
  chunks: number;
  usage: OpenAI.CompletionUsage | undefined;
}> {
  const stream = await openai.chat.completions.create({
    ...params,
    stream: true,
    stream_options: { include_usage: true },
  });
  let text = '';
  let finishReason: string | null = null;
  let chunks = 0;
  let usage: OpenAI.CompletionUsage | undefined;
  for await (const chunk of stream) {
    chunks += 1;
    text += chunk.choices[0]?.delta.content ?? '';
    finishReason = chunk.choices[0]?.finish_reason ?? finishReason;
    usage = chunk.usage ?? usage;
  }
  return { text, finishReason, chunks, usage };
}

test('a chat completion echoes the last user message behind the model name', async () => {
  const completion = await openai.chat.completions.create({
    model: 'gpt-test',
    messages: [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hello mock provider' },
    ],
  });
  assert.equal(completion.object, 'chat.completion');
  assert.equal(completion.model, 'gpt-test');
  assert.equal(completion.choices[0]?.message.content, '[gpt-test] Hello mock provider');
  assert.equal(completion.choices[0]?.message.refusal, null);
  assert.equal(completion.choices[0]?.finish_reason, 'stop');
  assert.deepEqual(
    { prompt: completion.usage?.prompt_tokens, completion: completion.usage?.completion_tokens },
    { prompt: Math.ceil('Be brief.Hello mock provider'.length / 4), completion: 4 },
  );
  assert.equal(completion.usage?.total_tokens, (completion.usage?.prompt_tokens ?? 0) + 4);
});

test('the same request gets the same reply text every time', async () => {
  const request = { model: 'gpt-test', messages: [{ role: 'user' as const, content: 'same question' }] };
  const first = await openai.chat.completions.create(request);
  const second = await openai.chat.completions.create(request);
  assert.equal(first.choices[0]?.message.content, second.choices[0]?.message.content);
});

test('a streamed completion arrives in several chunks that add up to the non-streamed text', async () => {
  const params = { model: 'gpt-test', messages: [{ role: 'user' as const, content: 'stream me some words please' }] };
  const whole = await openai.chat.completions.create(params);
  const streamed = await streamedText(params);
  assert.equal(streamed.text, whole.choices[0]?.message.content);
  assert.ok(streamed.chunks > 4, `expected several chunks, got ${streamed.chunks}`);
  assert.equal(streamed.finishReason, 'stop');
  assert.deepEqual(streamed.usage, whole.usage);
});

test('the SDK stream helper assembles the same final message', async () => {
  const stream = openai.chat.completions.stream({
    model: 'gpt-test',
    messages: [{ role: 'user', content: 'helper check' }],
  });
  const final = await stream.finalChatCompletion();
  assert.equal(final.choices[0]?.message.content, '[gpt-test] helper check');
});

test('max_tokens cuts the reply to that many words and finishes with length', async () => {
  const params = {
    model: 'gpt-test',
    max_tokens: 3,
    messages: [{ role: 'user' as const, content: 'one two three four five' }],
  };
  const completion = await openai.chat.completions.create(params);
  assert.equal(completion.choices[0]?.message.content, '[gpt-test] one two');
  assert.equal(completion.choices[0]?.finish_reason, 'length');
  assert.equal(completion.usage?.completion_tokens, 3);

  const streamed = await streamedText(params);
  assert.equal(streamed.text, '[gpt-test] one two');
  assert.equal(streamed.finishReason, 'length');
});

test('max_completion_tokens is honoured like max_tokens', async () => {
  const completion = await openai.chat.completions.create({
    model: 'gpt-test',
    max_completion_tokens: 2,
    messages: [{ role: 'user', content: 'alpha beta gamma' }],
  });
  assert.equal(completion.choices[0]?.message.content, '[gpt-test] alpha');
  assert.equal(completion.choices[0]?.finish_reason, 'length');
});

test('a prompt over the context window is a context_length_exceeded error', async () => {
  await assert.rejects(
    openai.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'x'.repeat(200_001) }] }),
    (error: unknown) => {
      assert.ok(error instanceof OpenAI.BadRequestError);
      assert.equal(error.code, 'context_length_exceeded');
      assert.equal(error.param, 'messages');
      assert.match(error.message, /maximum context length/);
      return true;
    },
  );
});

test('a request without messages is a 400 invalid_request_error naming the parameter', async () => {
  const response = await fetch(`${mock.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer test' },
    body: JSON.stringify({ model: 'gpt-test' }),
  });
  assert.equal(response.status, 400);
  assert.deepEqual(await response.json(), {
    error: {
      message: "Missing required parameter: 'messages'.",
      type: 'invalid_request_error',
      param: 'messages',
      code: null,
    },
  });
});

test('a request without a model is rejected by the SDK as a bad request', async () => {
  await assert.rejects(
    openai.chat.completions.create({ model: '', messages: [{ role: 'user', content: 'hi' }] }),
    OpenAI.BadRequestError,
  );
});

test('a request without an API key is a 401 authentication error', async () => {
  const response = await fetch(`${mock.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] }),
  });
  assert.equal(response.status, 401);
  const body = (await response.json()) as { error: { type: string } };
  assert.equal(body.error.type, 'invalid_request_error');
});

test('the model list has the defaults and every model seen so far', async () => {
  await openai.chat.completions.create({ model: 'listed-model', messages: [{ role: 'user', content: 'hi' }] });
  const ids: string[] = [];
  for await (const model of openai.models.list()) {
    assert.equal(model.object, 'model');
    ids.push(model.id);
  }
  assert.ok(ids.includes('mock-small'));
  assert.ok(ids.includes('listed-model'));
});
