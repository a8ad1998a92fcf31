// Streaming through the real path: official SDK → gateway HTTP → Temporal →
// the API process's streaming activity → mock provider, and back as SSE.
import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { TENANT_KEY, startHarness, type Harness } from '../support/gateway-harness';

let harness: Harness;
let openai: OpenAI;
let anthropic: Anthropic;

before(async () => {
  harness = await startHarness();
  openai = new OpenAI({ baseURL: `${harness.apiUrl}/v1`, apiKey: TENANT_KEY, maxRetries: 0, timeout: 60_000 });
  anthropic = new Anthropic({ baseURL: harness.apiUrl, apiKey: TENANT_KEY, maxRetries: 0, timeout: 60_000 });
});

after(async () => {
  await harness?.stop();
});

afterEach(async () => {
  await harness.control.releaseStreams();
  await harness.clearFaults();
  await harness.resetCalls();
});

const PROMPT = 'one two three four five six seven eight';

/** Polls until `check` holds; the loop is bounded so a broken gateway fails the test instead of hanging it. */
async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let round = 0; round < 600; round += 1) {
    if (await check()) return;
    await sleep(50);
  }
  assert.fail(`timed out waiting until ${what}`);
}

async function workflowStatus(workflowId: string): Promise<string> {
  return (await harness.client.workflow.getHandle(workflowId).describe()).status.name;
}

/** The whole answer of `model` to PROMPT, asked without streaming. */
async function unstreamedAnswer(model: string): Promise<string> {
  await harness.clearFaults();
  const completion = await openai.chat.completions.create({ model, messages: [{ role: 'user', content: PROMPT }] });
  return completion.choices[0]?.message.content ?? '';
}

test('chunks reach the caller while the provider is still answering, then usage and [DONE]', async () => {
  const expected = await unstreamedAnswer('model-a');
  await harness.resetCalls();
  // The mock sends its role chunk and two words, then waits for a release.
  await harness.setFault('model-a', { holdStreamAfterChunks: 3, times: 1 });
  const { data: stream, response } = await openai.chat.completions
    .create({ model: 'model-a', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: PROMPT }] })
    .withResponse();
  assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
  const workflowId = response.headers.get('x-gateway-workflow-id');
  assert.ok(workflowId);

  const chunks: OpenAI.Chat.ChatCompletionChunk[] = [];
  const iterator = stream[Symbol.asyncIterator]();
  let text = '';
  while (text.split(' ').length < 2) {
    const next = await iterator.next();
    assert.equal(next.done, false, 'the stream ended before the held chunks arrived');
    chunks.push(next.value);
    text += next.value.choices[0]?.delta.content ?? '';
  }
  // The caller holds part of the answer while the provider is parked mid-stream.
  assert.equal(await harness.control.heldStreams(), 1);
  assert.equal(await workflowStatus(workflowId), 'RUNNING');
  assert.ok(expected.startsWith(text), `"${text}" is a prefix of "${expected}"`);

  await harness.control.releaseStreams();
  for (let next = await iterator.next(); !next.done; next = await iterator.next()) chunks.push(next.value);
  const streamedText = chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');
  assert.equal(streamedText, expected);
  assert.equal(chunks[0]?.choices[0]?.delta.role, 'assistant');
  assert.ok(chunks.every((chunk) => chunk.model === 'model-a'));
  const finish = chunks.find((chunk) => chunk.choices[0]?.finish_reason);
  assert.equal(finish?.choices[0]?.finish_reason, 'stop');
  const usageChunk = chunks.at(-1);
  assert.deepEqual(usageChunk?.choices, []);
  assert.ok((usageChunk?.usage?.prompt_tokens ?? 0) > 0);
  assert.ok((usageChunk?.usage?.completion_tokens ?? 0) > 0);
  // The stream ends with the answer; the workflow finishes its bookkeeping after.
  await harness.client.workflow.getHandle(workflowId).result();
  assert.equal(await workflowStatus(workflowId), 'COMPLETED');
  assert.deepEqual(await harness.calls(), { 'model-a': 1 });
});

test('a model that fails before its first token is replaced transparently by the next one', async () => {
  const expected = await unstreamedAnswer('model-b');
  await harness.resetCalls();
  await harness.setFault('model-a', { status: 503 });
  const stream = await openai.chat.completions.create({ model: 'model-a', stream: true, messages: [{ role: 'user', content: PROMPT }] });
  const chunks: OpenAI.Chat.ChatCompletionChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  assert.equal(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join(''), expected);
  assert.ok(chunks.every((chunk) => chunk.model === 'model-b'));
  const last = chunks.at(-1) as OpenAI.Chat.ChatCompletionChunk & { gateway?: { fallbacks: number; provider: string } };
  assert.equal(last.choices[0]?.finish_reason, 'stop');
  assert.equal(last.gateway?.fallbacks, 1);
  assert.equal(last.gateway?.provider, 'mock-anthropic');
  // One try of model-a (a 503 fails over at once while another model follows), then model-b streamed the answer.
  assert.deepEqual(await harness.calls(), { 'model-a': 1, 'model-b': 1 });
});

test('a stream cut after tokens were sent ends with an error event: no retry, no next model, no repeated text', async () => {
  const expected = await unstreamedAnswer('model-a');
  await harness.resetCalls();
  // Role chunk and two words, then the connection is cut.
  await harness.setFault('model-a', { cutStreamAfterChunks: 3 });
  const { data: stream, response } = await openai.chat.completions
    .create({ model: 'model-a', stream: true, messages: [{ role: 'user', content: PROMPT }] })
    .withResponse();
  const workflowId = response.headers.get('x-gateway-workflow-id') ?? '';
  let text = '';
  await assert.rejects(
    async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    },
    (error: unknown) => {
      assert.ok(error instanceof OpenAI.APIError, String(error));
      assert.match(error.message, /stream broke after 2 piece\(s\)/);
      return true;
    },
  );
  assert.equal(text, expected.split(' ').slice(0, 2).join(' ') + ' ');
  assert.deepEqual(await harness.calls(), { 'model-a': 1 });
  assert.equal(await workflowStatus(workflowId), 'FAILED');

  const status = await fetch(`${harness.apiUrl}/v1/requests/${workflowId}`, { headers: { authorization: `Bearer ${TENANT_KEY}` } });
  const body = (await status.json()) as { status: string; error: { code: string } };
  assert.equal(body.status, 'failed');
  assert.equal(body.error.code, 'stream_interrupted');
});

test('when every model fails, the deterministic fallback answer is streamed', async () => {
  await harness.setFault('*', { status: 503 });
  const stream = await openai.chat.completions.create({ model: 'model-a', stream: true, messages: [{ role: 'user', content: PROMPT }] });
  let text = '';
  let finishReason: string | null | undefined;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta.content ?? '';
    finishReason ??= chunk.choices[0]?.finish_reason;
  }
  assert.equal(text, 'deterministic fallback answer');
  assert.equal(finishReason, 'stop');
});

test('a request every model rejects as invalid gets a plain 400, not a stream', async () => {
  await harness.setFault('model-a', { status: 400, message: 'bad parameter foo' });
  await assert.rejects(
    openai.chat.completions.create({ model: 'model-a', stream: true, messages: [{ role: 'user', content: PROMPT }] }),
    (error: unknown) => error instanceof OpenAI.BadRequestError && /bad parameter foo/.test(error.message),
  );
  assert.deepEqual(await harness.calls(), { 'model-a': 1 });
});

test('streamed tool calls assemble into the same call as the unstreamed answer', async () => {
  const tools: OpenAI.Chat.ChatCompletionTool[] = [
    {
      type: 'function',
      function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
    },
  ];
  const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Weather in Rome?' }];
  const unstreamed = await openai.chat.completions.create({ model: 'model-a', tools, messages });
  const streamed = await openai.chat.completions.stream({ model: 'model-a', tools, messages }).finalChatCompletion();
  const [expectedCall] = unstreamed.choices[0]?.message.tool_calls ?? [];
  const [call] = streamed.choices[0]?.message.tool_calls ?? [];
  assert.ok(expectedCall?.type === 'function' && call?.type === 'function');
  assert.equal(call.function.name, 'get_weather');
  assert.deepEqual(JSON.parse(call.function.arguments), JSON.parse(expectedCall.function.arguments));
  assert.equal(streamed.choices[0]?.finish_reason, 'tool_calls');
});

test('a caller that disconnects mid-stream cancels its request and the provider call', async () => {
  await harness.setFault('model-a', { holdStreamAfterChunks: 2, times: 1 });
  const abort = new AbortController();
  const { data: stream, response } = await openai.chat.completions
    .create({ model: 'model-a', stream: true, messages: [{ role: 'user', content: PROMPT }] }, { signal: abort.signal })
    .withResponse();
  const workflowId = response.headers.get('x-gateway-workflow-id') ?? '';
  const iterator = stream[Symbol.asyncIterator]();
  await iterator.next();
  abort.abort();
  await eventually(async () => (await workflowStatus(workflowId)) === 'CANCELLED', 'the request is cancelled');
  // The provider's connection was closed too: nothing is parked at the mock any more.
  await eventually(async () => (await harness.control.heldStreams()) === 0, 'the provider call is aborted');
});

test('a streamed request retried with its Idempotency-Key gets the whole answer again without a second provider call', async () => {
  const headers = { 'idempotency-key': `stream-${Date.now()}` };
  const body = { model: 'model-a', stream: true as const, messages: [{ role: 'user' as const, content: PROMPT }] };
  let first = '';
  for await (const chunk of await openai.chat.completions.create(body, { headers })) first += chunk.choices[0]?.delta.content ?? '';
  let second = '';
  for await (const chunk of await openai.chat.completions.create(body, { headers })) second += chunk.choices[0]?.delta.content ?? '';
  assert.ok(first.length > 0);
  assert.equal(second, first);
  assert.deepEqual(await harness.calls(), { 'model-a': 1 });
});

test('stream_options without stream is refused', async () => {
  await assert.rejects(
    openai.chat.completions.create({ model: 'model-a', stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'hi' }] }),
    (error: unknown) => error instanceof OpenAI.BadRequestError && error.param === 'stream_options',
  );
});

test('a stream cannot also be asynchronous', async () => {
  await assert.rejects(
    openai.chat.completions.create(
      { model: 'model-a', stream: true, messages: [{ role: 'user', content: 'hi' }] },
      { headers: { prefer: 'respond-async' } },
    ),
    (error: unknown) => error instanceof OpenAI.BadRequestError && error.param === 'stream',
  );
  assert.deepEqual(await harness.calls(), {});
});

test('Anthropic: the streamed message equals the unstreamed one, after a transparent failover', async () => {
  const messages: Anthropic.MessageParam[] = [{ role: 'user', content: PROMPT }];
  await harness.setFault('model-a', { status: 503 });
  const unstreamed = await anthropic.messages.create({ model: 'model-a', max_tokens: 200, messages });
  await harness.resetCalls();
  const events: string[] = [];
  const stream = anthropic.messages.stream({ model: 'model-a', max_tokens: 200, messages });
  stream.on('streamEvent', (event) => events.push(event.type));
  const message = await stream.finalMessage();
  assert.deepEqual(message.content, unstreamed.content);
  assert.equal(message.model, 'model-b');
  assert.equal(message.stop_reason, 'end_turn');
  assert.equal(message.usage.output_tokens, unstreamed.usage.output_tokens);
  assert.equal(events[0], 'message_start');
  assert.equal(events.at(-1), 'message_stop');
  assert.ok(events.filter((type) => type === 'content_block_delta').length > 1, 'the text arrived in several deltas');
  assert.deepEqual(await harness.calls(), { 'model-a': 1, 'model-b': 1 });
});

test('Anthropic: streamed tool use assembles into the same block as the unstreamed answer', async () => {
  const tools: Anthropic.Tool[] = [
    { name: 'get_weather', input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
  ];
  const messages: Anthropic.MessageParam[] = [{ role: 'user', content: 'Weather in Rome?' }];
  const unstreamed = await anthropic.messages.create({ model: 'model-b', max_tokens: 200, tools, messages });
  const streamed = await anthropic.messages.stream({ model: 'model-b', max_tokens: 200, tools, messages }).finalMessage();
  const expected = unstreamed.content.find((block) => block.type === 'tool_use');
  const block = streamed.content.find((candidate) => candidate.type === 'tool_use');
  assert.ok(expected?.type === 'tool_use' && block?.type === 'tool_use');
  assert.equal(block.name, expected.name);
  assert.deepEqual(block.input, expected.input);
  assert.equal(streamed.stop_reason, 'tool_use');
});

test('Anthropic: a stream cut after tokens ends with an error event', async () => {
  await harness.setFault('model-b', { cutStreamAfterChunks: 5 });
  const stream = anthropic.messages.stream({ model: 'model-b', max_tokens: 200, messages: [{ role: 'user', content: PROMPT }] });
  await assert.rejects(stream.finalMessage(), (error: unknown) => {
    assert.ok(error instanceof Anthropic.APIError, String(error));
    assert.match(error.message, /stream broke/);
    return true;
  });
  assert.deepEqual(await harness.calls(), { 'model-b': 1 });
});

test('a streamed json_schema answer parses and matches the schema', async () => {
  const schema = {
    type: 'object',
    properties: { city: { type: 'string' }, population: { type: 'integer' } },
    required: ['city', 'population'],
    additionalProperties: false,
  };
  const stream = await openai.chat.completions.create({
    model: 'model-a',
    stream: true,
    stream_options: { include_usage: true },
    response_format: { type: 'json_schema', json_schema: { name: 'city', schema, strict: true } },
    messages: [{ role: 'user', content: 'Largest city of Italy?' }],
  });
  let text = '';
  let usage: OpenAI.CompletionUsage | null | undefined;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta.content ?? '';
    usage ??= chunk.usage;
  }
  const parsed = JSON.parse(text) as { city: unknown; population: unknown };
  assert.equal(typeof parsed.city, 'string');
  assert.ok(Number.isInteger(parsed.population));
  assert.ok((usage?.total_tokens ?? 0) > 0);
});

test('Anthropic: events reach the caller while the provider is still answering', async () => {
  // model-b parks after message_start, content_block_start, ping and two words.
  await harness.setFault('model-b', { holdStreamAfterChunks: 5, times: 1 });
  const { data: stream, response } = await anthropic.messages
    .create({ model: 'model-b', max_tokens: 200, stream: true, messages: [{ role: 'user', content: PROMPT }] })
    .withResponse();
  const workflowId = response.headers.get('x-gateway-workflow-id') ?? '';
  const iterator = stream[Symbol.asyncIterator]();
  let text = '';
  const types: string[] = [];
  while (text.split(' ').length < 2) {
    const next = await iterator.next();
    assert.equal(next.done, false);
    types.push(next.value.type);
    if (next.value.type === 'content_block_delta' && next.value.delta.type === 'text_delta') text += next.value.delta.text;
  }
  assert.deepEqual(types.slice(0, 2), ['message_start', 'content_block_start']);
  assert.equal(await workflowStatus(workflowId), 'RUNNING');
  await harness.control.releaseStreams();
  for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
    types.push(next.value.type);
    if (next.value.type === 'content_block_delta' && next.value.delta.type === 'text_delta') text += next.value.delta.text;
  }
  assert.equal(types.at(-1), 'message_stop');
  assert.match(text, /one two three four five six seven eight/);
});
