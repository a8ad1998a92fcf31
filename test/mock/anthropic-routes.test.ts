import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import { startMockProvider, type MockProvider } from '../../mock/mock-provider';

let mock: MockProvider;
let anthropic: Anthropic;

before(async () => {
  mock = await startMockProvider();
  anthropic = new Anthropic({ baseURL: mock.url, apiKey: 'test', maxRetries: 0 });
});
after(() => mock.close());

const WEATHER_TOOL: Anthropic.Tool = {
  name: 'get_weather',
  input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

function textOf(message: Anthropic.Message): string {
  return message.content.map((block) => (block.type === 'text' ? block.text : '')).join('');
}

test('a message echoes the last user message behind the model name', async () => {
  const message = await anthropic.messages.create({
    model: 'claude-test',
    max_tokens: 100,
    system: 'Be brief.',
    messages: [{ role: 'user', content: 'Hello mock provider' }],
  });
  assert.equal(message.type, 'message');
  assert.equal(message.role, 'assistant');
  assert.equal(message.model, 'claude-test');
  assert.equal(textOf(message), '[claude-test] Hello mock provider');
  assert.equal(message.stop_reason, 'end_turn');
  assert.equal(message.usage.input_tokens, Math.ceil('Be brief.Hello mock provider'.length / 4));
  assert.equal(message.usage.output_tokens, 4);
});

test('text blocks of a user message are read like a plain string', async () => {
  const message = await anthropic.messages.create({
    model: 'claude-test',
    max_tokens: 100,
    messages: [{ role: 'user', content: [{ type: 'text', text: 'block text' }] }],
  });
  assert.equal(textOf(message), '[claude-test] block text');
});

test('a streamed message sends the real event sequence and its deltas add up to the non-streamed text', async () => {
  const params = {
    model: 'claude-test',
    max_tokens: 100,
    messages: [{ role: 'user' as const, content: 'stream me some words please' }],
  };
  const whole = await anthropic.messages.create(params);
  const stream = await anthropic.messages.create({ ...params, stream: true });
  const types: string[] = [];
  let text = '';
  let stopReason: string | null = null;
  for await (const event of stream) {
    types.push(event.type);
    if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') text += event.delta.text;
    if (event.type === 'message_delta') stopReason = event.delta.stop_reason;
  }
  assert.equal(text, textOf(whole));
  assert.equal(stopReason, 'end_turn');
  assert.equal(types[0], 'message_start');
  assert.equal(types[1], 'content_block_start');
  assert.ok(types.filter((type) => type === 'content_block_delta').length > 4);
  assert.deepEqual(types.slice(-3), ['content_block_stop', 'message_delta', 'message_stop']);
});

test('the SDK stream helper assembles the same final message', async () => {
  const final = await anthropic.messages
    .stream({ model: 'claude-test', max_tokens: 100, messages: [{ role: 'user', content: 'helper check' }] })
    .finalMessage();
  assert.equal(textOf(final), '[claude-test] helper check');
  assert.equal(final.stop_reason, 'end_turn');
  assert.equal(final.usage.output_tokens, 3);
});

test('max_tokens cuts the reply to that many words and stops with max_tokens', async () => {
  const params = {
    model: 'claude-test',
    max_tokens: 3,
    messages: [{ role: 'user' as const, content: 'one two three four' }],
  };
  const message = await anthropic.messages.create(params);
  assert.equal(textOf(message), '[claude-test] one two');
  assert.equal(message.stop_reason, 'max_tokens');
  assert.equal(message.usage.output_tokens, 3);

  const streamed = await anthropic.messages.stream(params).finalMessage();
  assert.equal(textOf(streamed), '[claude-test] one two');
  assert.equal(streamed.stop_reason, 'max_tokens');
});

test('a user turn with tools gets a tool_use block for the first tool', async () => {
  const message = await anthropic.messages.create({
    model: 'claude-test',
    max_tokens: 100,
    tools: [WEATHER_TOOL],
    messages: [{ role: 'user', content: 'Weather in Paris?' }],
  });
  assert.equal(message.stop_reason, 'tool_use');
  const block = message.content[0];
  assert.ok(block?.type === 'tool_use');
  assert.equal(block.name, 'get_weather');
  assert.deepEqual(block.input, { city: 'mock' });
  assert.match(block.id, /^toolu_/);
});

test('a streamed tool call arrives as input_json_delta events the SDK assembles', async () => {
  const stream = anthropic.messages.stream({
    model: 'claude-test',
    max_tokens: 100,
    tools: [WEATHER_TOOL],
    messages: [{ role: 'user', content: 'Weather in Paris?' }],
  });
  let jsonDeltas = 0;
  stream.on('streamEvent', (event) => {
    if (event.type === 'content_block_delta' && event.delta.type === 'input_json_delta') jsonDeltas += 1;
  });
  const final = await stream.finalMessage();
  assert.ok(jsonDeltas > 0);
  assert.equal(final.stop_reason, 'tool_use');
  const block = final.content[0];
  assert.ok(block?.type === 'tool_use');
  assert.deepEqual(block.input, { city: 'mock' });
});

test('tool_choice of a named tool calls that tool', async () => {
  const message = await anthropic.messages.create({
    model: 'claude-test',
    max_tokens: 100,
    tools: [WEATHER_TOOL, { name: 'get_time', input_schema: { type: 'object', properties: {} } }],
    tool_choice: { type: 'tool', name: 'get_time' },
    messages: [{ role: 'user', content: 'What time is it?' }],
  });
  const block = message.content[0];
  assert.ok(block?.type === 'tool_use');
  assert.equal(block.name, 'get_time');
  assert.deepEqual(block.input, {});
});

test('a conversation ending with a tool result gets text quoting the result', async () => {
  const message = await anthropic.messages.create({
    model: 'claude-test',
    max_tokens: 100,
    tools: [WEATHER_TOOL],
    messages: [
      { role: 'user', content: 'Weather in Paris?' },
      {
        role: 'assistant',
        content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } }],
      },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'sunny, 21 C' }] },
    ],
  });
  assert.equal(message.stop_reason, 'end_turn');
  assert.match(textOf(message), /sunny, 21 C/);
});

test('a JSON schema output format gets an object with every required property', async () => {
  const message = await anthropic.messages.create({
    model: 'claude-test',
    max_tokens: 100,
    output_config: {
      format: {
        type: 'json_schema',
        schema: { type: 'object', properties: { score: { type: 'number' } }, required: ['score'] },
      },
    },
    messages: [{ role: 'user', content: 'score it' }],
  });
  assert.deepEqual(JSON.parse(textOf(message)), { score: 1 });
});

test('a user message containing REFUSE_ME stops with refusal', async () => {
  const message = await anthropic.messages.create({
    model: 'claude-test',
    max_tokens: 100,
    messages: [{ role: 'user', content: 'REFUSE_ME' }],
  });
  assert.equal(message.stop_reason, 'refusal');
  const streamed = await anthropic.messages
    .stream({ model: 'claude-test', max_tokens: 100, messages: [{ role: 'user', content: 'REFUSE_ME' }] })
    .finalMessage();
  assert.equal(streamed.stop_reason, 'refusal');
});

test('a prompt over the context window is a prompt-too-long invalid_request_error', async () => {
  await assert.rejects(
    anthropic.messages.create({
      model: 'claude-test',
      max_tokens: 100,
      messages: [{ role: 'user', content: 'x'.repeat(200_001) }],
    }),
    (error: unknown) => {
      assert.ok(error instanceof Anthropic.BadRequestError);
      assert.equal(error.type, 'invalid_request_error');
      assert.match(error.message, /prompt is too long/);
      return true;
    },
  );
});

test('a request without max_tokens is a 400 in the Anthropic error format', async () => {
  const response = await fetch(`${mock.url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': 'test' },
    body: JSON.stringify({ model: 'claude-test', messages: [{ role: 'user', content: 'hi' }] }),
  });
  assert.equal(response.status, 400);
  const body = (await response.json()) as { type: string; error: { type: string; message: string } };
  assert.equal(body.type, 'error');
  assert.deepEqual(body.error, { type: 'invalid_request_error', message: 'max_tokens: Field required' });
});

test('a request without an API key is a 401 authentication_error', async () => {
  const response = await fetch(`${mock.url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'claude-test', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }),
  });
  assert.equal(response.status, 401);
  const body = (await response.json()) as { error: { type: string } };
  assert.equal(body.error.type, 'authentication_error');
});

test('the model list is in the Anthropic format when the SDK asks', async () => {
  await anthropic.messages.create({
    model: 'claude-listed',
    max_tokens: 5,
    messages: [{ role: 'user', content: 'hi' }],
  });
  const ids: string[] = [];
  for await (const model of anthropic.models.list()) {
    assert.equal(model.type, 'model');
    ids.push(model.id);
  }
  assert.ok(ids.includes('claude-listed'));
});
