// POST /v1/messages with the official `@anthropic-ai/sdk` pointed at the gateway.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import { TENANT_KEY, type Harness } from '../support/gateway-harness';
import { harnessPerFile } from '../support/harness-per-file';

let harness: Harness;
let anthropic: Anthropic;

harnessPerFile((started) => {
  harness = started.harness;
  anthropic = new Anthropic({ baseURL: harness.apiUrl, apiKey: TENANT_KEY, maxRetries: 0, timeout: 60_000 });
});

test('a message with a system prompt is answered in Anthropic shape with the route headers', async () => {
  await harness.setFault('model-a', { status: 503 });
  const { data, response } = await anthropic.messages
    .create({ model: 'model-a', max_tokens: 200, system: 'Be brief.', messages: [{ role: 'user', content: 'Hello from Anthropic' }] })
    .withResponse();
  assert.equal(data.type, 'message');
  assert.equal(data.role, 'assistant');
  assert.equal(data.stop_reason, 'end_turn');
  const first = data.content[0];
  assert.ok(first && first.type === 'text');
  assert.match(first.text, /Hello from Anthropic/);
  assert.ok(data.usage.input_tokens > 0);
  assert.equal(response.headers.get('x-gateway-model'), 'model-b');
  assert.equal(response.headers.get('x-gateway-fallbacks'), '1');
});

test('tool use and tool results round-trip in Anthropic blocks', async () => {
  const tools = [{ name: 'get_weather', description: 'weather', input_schema: { type: 'object' as const, properties: { city: { type: 'string' } } } }];
  const first = await anthropic.messages.create({ model: 'model-a', max_tokens: 200, tools, messages: [{ role: 'user', content: 'Weather in Rome?' }] });
  assert.equal(first.stop_reason, 'tool_use');
  const toolUse = first.content.find((block) => block.type === 'tool_use');
  assert.ok(toolUse && toolUse.type === 'tool_use');
  assert.equal(toolUse.name, 'get_weather');
  assert.equal(typeof toolUse.input, 'object');

  const second = await anthropic.messages.create({
    model: 'model-a',
    max_tokens: 200,
    tools,
    messages: [
      { role: 'user', content: 'Weather in Rome?' },
      { role: 'assistant', content: first.content },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: toolUse.id, content: 'cloudy, 17C' }] },
    ],
  });
  assert.equal(second.stop_reason, 'end_turn');
  const text = second.content.find((block) => block.type === 'text');
  assert.ok(text && text.type === 'text');
  assert.match(text.text, /cloudy, 17C/);
});

test('models.list() of the Anthropic SDK gets the configured models in Anthropic format', async () => {
  const ids = [];
  for await (const model of anthropic.models.list()) ids.push(model.id);
  assert.deepEqual(ids.sort(), ['chat', 'default', 'model-a', 'model-b', 'model-c', 'model-small', 'summarize']);
});

test('errors use Anthropic error bodies with the right status', async () => {
  const noKey = new Anthropic({ baseURL: harness.apiUrl, apiKey: 'wrong-key', maxRetries: 0 });
  await assert.rejects(noKey.messages.create({ model: 'model-a', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }), (error: unknown) => {
    assert.ok(error instanceof Anthropic.AuthenticationError);
    assert.equal((error.error as { type: string; error: { type: string } }).error.type, 'authentication_error');
    return true;
  });
  await assert.rejects(anthropic.messages.create({ model: 'no-such-model', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }), (error: unknown) => {
    assert.ok(error instanceof Anthropic.NotFoundError);
    return true;
  });
  const raw = await fetch(`${harness.apiUrl}/v1/messages`, {
    method: 'POST',
    headers: { 'x-api-key': TENANT_KEY, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'model-a', messages: [{ role: 'user', content: 'no max_tokens' }] }),
  });
  assert.equal(raw.status, 400);
  const body = (await raw.json()) as { type: string; error: { type: string; message: string } };
  assert.equal(body.type, 'error');
  assert.equal(body.error.type, 'invalid_request_error');
  assert.match(body.error.message, /max_tokens/);
  assert.deepEqual(await harness.calls(), {});
});
