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

const WEATHER_TOOL: OpenAI.Chat.ChatCompletionTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

test('a user turn with tools gets a call to the first tool with schema-shaped arguments', async () => {
  const completion = await openai.chat.completions.create({
    model: 'gpt-test',
    tools: [WEATHER_TOOL],
    messages: [{ role: 'user', content: 'Weather in Paris?' }],
  });
  const choice = completion.choices[0];
  assert.equal(choice?.finish_reason, 'tool_calls');
  assert.equal(choice?.message.content, null);
  const call = choice?.message.tool_calls?.[0];
  assert.ok(call?.type === 'function');
  assert.equal(call.function.name, 'get_weather');
  assert.deepEqual(JSON.parse(call.function.arguments), { city: 'mock' });
  assert.match(call.id, /^call_/);
});

test('a streamed tool call is assembled by the SDK helper', async () => {
  const stream = openai.chat.completions.stream({
    model: 'gpt-test',
    tools: [WEATHER_TOOL],
    messages: [{ role: 'user', content: 'Weather in Paris?' }],
  });
  const final = await stream.finalChatCompletion();
  const call = final.choices[0]?.message.tool_calls?.[0];
  assert.equal(final.choices[0]?.finish_reason, 'tool_calls');
  assert.ok(call?.type === 'function');
  assert.equal(call.function.name, 'get_weather');
  assert.deepEqual(JSON.parse(call.function.arguments), { city: 'mock' });
});

test('tool_choice none answers with text even when tools are offered', async () => {
  const completion = await openai.chat.completions.create({
    model: 'gpt-test',
    tools: [WEATHER_TOOL],
    tool_choice: 'none',
    messages: [{ role: 'user', content: 'just talk' }],
  });
  assert.equal(completion.choices[0]?.finish_reason, 'stop');
  assert.equal(completion.choices[0]?.message.content, '[gpt-test] just talk');
});

test('a conversation ending with a tool result gets text quoting the result', async () => {
  const completion = await openai.chat.completions.create({
    model: 'gpt-test',
    tools: [WEATHER_TOOL],
    messages: [
      { role: 'user', content: 'Weather in Paris?' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_1', content: 'sunny, 21 C' },
    ],
  });
  assert.equal(completion.choices[0]?.finish_reason, 'stop');
  assert.match(completion.choices[0]?.message.content ?? '', /sunny, 21 C/);
});

test('json_schema output is an object with every required property', async () => {
  const completion = await openai.chat.completions.create({
    model: 'gpt-test',
    response_format: {
      type: 'json_schema',
      json_schema: {
        name: 'person',
        strict: true,
        schema: {
          type: 'object',
          properties: {
            name: { type: 'string' },
            age: { type: 'integer' },
            admin: { type: 'boolean' },
            tags: { type: 'array', items: { type: 'string' } },
            address: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
            nickname: { type: 'string' },
          },
          required: ['name', 'age', 'admin', 'tags', 'address'],
          additionalProperties: false,
        },
      },
    },
    messages: [{ role: 'user', content: 'who?' }],
  });
  assert.deepEqual(JSON.parse(completion.choices[0]?.message.content ?? ''), {
    name: 'mock',
    age: 1,
    admin: true,
    tags: [],
    address: { city: 'mock' },
  });
});

test('json_object output is an object with an answer', async () => {
  const completion = await openai.chat.completions.create({
    model: 'gpt-test',
    response_format: { type: 'json_object' },
    messages: [{ role: 'user', content: 'answer in JSON' }],
  });
  assert.deepEqual(JSON.parse(completion.choices[0]?.message.content ?? ''), { answer: '[gpt-test] answer in JSON' });
});

test('a user message containing REFUSE_ME gets a refusal and no content', async () => {
  const completion = await openai.chat.completions.create({
    model: 'gpt-test',
    messages: [{ role: 'user', content: 'please REFUSE_ME now' }],
  });
  assert.equal(completion.choices[0]?.message.content, null);
  assert.match(completion.choices[0]?.message.refusal ?? '', /can't help/);
  assert.equal(completion.choices[0]?.finish_reason, 'stop');
});
