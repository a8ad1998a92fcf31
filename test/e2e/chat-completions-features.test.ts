// Tools, JSON schema output and usage through the gateway with the official `openai` client.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { TENANT_KEY, startHarness, type Harness } from '../support/gateway-harness';

let harness: Harness;
let openai: OpenAI;

before(async () => {
  harness = await startHarness();
  openai = new OpenAI({ baseURL: `${harness.apiUrl}/v1`, apiKey: TENANT_KEY, maxRetries: 0, timeout: 60_000 });
});

after(async () => {
  await harness?.stop();
});

const weatherTool = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'Current weather for a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

test('a tool call comes back in OpenAI shape, and the tool result round-trips', async () => {
  const first = await openai.chat.completions.create({
    model: 'model-a',
    messages: [{ role: 'user', content: 'Weather in Paris?' }],
    tools: [weatherTool],
  });
  const call = first.choices[0]?.message.tool_calls?.[0];
  assert.equal(first.choices[0]?.finish_reason, 'tool_calls');
  assert.ok(call && call.type === 'function');
  assert.equal(call.function.name, 'get_weather');
  assert.doesNotThrow(() => JSON.parse(call.function.arguments));

  const second = await openai.chat.completions.create({
    model: 'model-a',
    messages: [
      { role: 'user', content: 'Weather in Paris?' },
      { role: 'assistant', content: null, tool_calls: [call] },
      { role: 'tool', tool_call_id: call.id, content: 'sunny, 21C' },
    ],
    tools: [weatherTool],
  });
  assert.equal(second.choices[0]?.finish_reason, 'stop');
  assert.match(second.choices[0]?.message.content ?? '', /sunny, 21C/);
});

test('a tool call from the Anthropic-dialect fallback comes back in the same OpenAI shape', async () => {
  await harness.setFault('model-a', { status: 503 });
  try {
    const { data, response } = await openai.chat.completions
      .create({ model: 'model-a', messages: [{ role: 'user', content: 'Weather in Oslo?' }], tools: [weatherTool] })
      .withResponse();
    assert.equal(response.headers.get('x-gateway-model'), 'model-b');
    assert.equal(data.choices[0]?.message.tool_calls?.[0]?.type, 'function');
    assert.equal(data.choices[0]?.finish_reason, 'tool_calls');
  } finally {
    await harness.clearFaults();
  }
});

test('json_schema output is valid JSON matching the schema', async () => {
  const completion = await openai.chat.completions.create({
    model: 'model-a',
    messages: [{ role: 'user', content: 'Extract the person' }],
    response_format: {
      type: 'json_schema',
      json_schema: {
        name: 'person',
        schema: { type: 'object', properties: { name: { type: 'string' }, age: { type: 'integer' } }, required: ['name', 'age'] },
      },
    },
  });
  const value = JSON.parse(completion.choices[0]?.message.content ?? '') as { name: unknown; age: unknown };
  assert.equal(typeof value.name, 'string');
  assert.equal(typeof value.age, 'number');
});

test('usage and max_tokens: a length stop reports finish_reason length and token counts', async () => {
  const completion = await openai.chat.completions.create({
    model: 'model-a',
    messages: [{ role: 'user', content: 'one two three four five six seven eight nine ten' }],
    max_completion_tokens: 2,
  });
  assert.equal(completion.choices[0]?.finish_reason, 'length');
  assert.ok((completion.usage?.prompt_tokens ?? 0) > 0);
  assert.equal(completion.usage?.completion_tokens, 2);
  assert.equal(completion.usage?.total_tokens, (completion.usage?.prompt_tokens ?? 0) + 2);
});

test('GET /v1/models lists configured models, routes and task classes in OpenAI format', async () => {
  const ids = [];
  for await (const model of openai.models.list()) ids.push(model.id);
  assert.deepEqual(ids.sort(), ['chat', 'default', 'model-a', 'model-b', 'model-c', 'model-small', 'summarize']);
});
