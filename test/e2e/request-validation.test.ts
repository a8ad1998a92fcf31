// Through the real HTTP path: requests OpenAI and Anthropic would refuse with
// a 400 are refused here too, in the route's own error shape, before any
// workflow starts or any provider is called.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TENANT_KEY, type Harness } from '../support/gateway-harness';
import { harnessPerFile } from '../support/harness-per-file';

let harness: Harness;

harnessPerFile((started) => (harness = started.harness));

async function post(path: string, body: string | Buffer): Promise<Response> {
  return fetch(`${harness.apiUrl}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TENANT_KEY}`, 'content-type': 'application/json' },
    body,
  });
}

/** A chat completion body whose user message holds `bytes` inside its JSON string. */
function chatCompletionBytes(bytes: Buffer): Buffer {
  return Buffer.concat([Buffer.from('{"model":"model-a","messages":[{"role":"user","content":"before '), bytes, Buffer.from(' after"}]}')]);
}

function messagesBytes(bytes: Buffer): Buffer {
  return Buffer.concat([Buffer.from('{"model":"model-b","max_tokens":20,"messages":[{"role":"user","content":"before '), bytes, Buffer.from(' after"}]}')]);
}

/** A lone continuation byte and a truncated three-byte sequence: both invalid UTF-8. */
const INVALID_UTF8 = Buffer.from([0x80, 0xe2, 0x82]);

async function requestWorkflows(): Promise<number> {
  let count = 0;
  for await (const _execution of harness.client.workflow.list({ query: `WorkflowType = 'llmRequestWorkflow'` })) count += 1;
  return count;
}

/** Nothing ran: no workflow named the request, and no provider saw a call. */
async function assertNothingStarted(response: Response): Promise<void> {
  assert.equal(response.headers.get('x-gateway-workflow-id'), null);
  assert.deepEqual(await harness.calls(), {});
  assert.equal(await requestWorkflows(), 0);
}

const tools = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];
const messages = [{ role: 'user', content: 'What is the weather in Oslo?' }];

test('a chat completion whose JSON string holds invalid UTF-8 is a 400 invalid_request_error, and nothing starts', async () => {
  const response = await post('/v1/chat/completions', chatCompletionBytes(INVALID_UTF8));
  assert.equal(response.status, 400);
  assert.deepEqual(await response.json(), {
    error: { message: 'request body is not valid UTF-8', type: 'invalid_request_error', param: null, code: 'invalid_encoding' },
  });
  await assertNothingStarted(response);
});

test('a message whose JSON string holds invalid UTF-8 is a 400 in Anthropic’s error shape, and nothing starts', async () => {
  const response = await post('/v1/messages', messagesBytes(INVALID_UTF8));
  assert.equal(response.status, 400);
  assert.deepEqual(await response.json(), { type: 'error', error: { type: 'invalid_request_error', message: 'request body is not valid UTF-8' } });
  await assertNothingStarted(response);
});

test('tool_choice naming a function that is not in tools is a 400 naming tool_choice, and nothing starts', async () => {
  const response = await post('/v1/chat/completions', JSON.stringify({ model: 'model-a', messages, tools, tool_choice: { type: 'function', function: { name: 'get_time' } } }));
  assert.equal(response.status, 400);
  assert.deepEqual(await response.json(), {
    error: { message: "tool_choice: function 'get_time' is not among the 'tools'", type: 'invalid_request_error', param: 'tool_choice', code: 'invalid_value' },
  });
  await assertNothingStarted(response);
});

test('tool_choice without tools is a 400, whichever choice it is, and nothing starts', async () => {
  for (const toolChoice of ['auto', 'none', 'required', { type: 'function', function: { name: 'get_weather' } }]) {
    for (const noTools of [{}, { tools: [] }]) {
      const response = await post('/v1/chat/completions', JSON.stringify({ model: 'model-a', messages, ...noTools, tool_choice: toolChoice }));
      assert.equal(response.status, 400, JSON.stringify(toolChoice));
      const body = (await response.json()) as { error: { message: string; type: string; param: string } };
      assert.deepEqual(body.error, {
        message: "tool_choice: 'tool_choice' is only allowed when 'tools' are specified",
        type: 'invalid_request_error',
        param: 'tool_choice',
        code: 'invalid_value',
      });
      await assertNothingStarted(response);
    }
  }
});

test('an Anthropic tool_choice naming a tool that is not in tools, or set without tools, is a 400 in Anthropic’s shape, and nothing starts', async () => {
  const anthropicTools = [{ name: 'get_weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }];
  const cases = [
    { tools: anthropicTools, tool_choice: { type: 'tool', name: 'get_time' }, message: "tool_choice: tool 'get_time' is not among the tools" },
    { tool_choice: { type: 'tool', name: 'get_weather' }, message: 'tool_choice: tool_choice may only be specified while providing tools' },
    { tool_choice: { type: 'any' }, message: 'tool_choice: tool_choice may only be specified while providing tools' },
  ];
  for (const { message, ...fields } of cases) {
    const response = await post('/v1/messages', JSON.stringify({ model: 'model-b', max_tokens: 20, messages, ...fields }));
    assert.equal(response.status, 400, message);
    assert.deepEqual(await response.json(), { type: 'error', error: { type: 'invalid_request_error', message } });
    await assertNothingStarted(response);
  }
});

// Last: these start workflows, and show the checks above would have seen them.
test('the same requests with valid UTF-8 and a tool_choice among the tools are answered, and their workflows are counted', async () => {
  const text = Buffer.from('naïve café ✓', 'utf8');
  const chat = await post('/v1/chat/completions', chatCompletionBytes(text));
  assert.equal(chat.status, 200, await chat.clone().text());
  const [received] = (await harness.control.receivedRequests('model-a')) as { messages: { content: string }[] }[];
  assert.equal(received?.messages[0]?.content, 'before naïve café ✓ after');

  const message = await post('/v1/messages', messagesBytes(text));
  assert.equal(message.status, 200, await message.clone().text());

  const choosing = await post('/v1/chat/completions', JSON.stringify({ model: 'model-a', messages, tools, tool_choice: { type: 'function', function: { name: 'get_weather' } } }));
  assert.equal(choosing.status, 200, await choosing.clone().text());
  const anthropicTools = [{ name: 'get_weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }];
  const choosingTool = await post('/v1/messages', JSON.stringify({ model: 'model-b', max_tokens: 20, messages, tools: anthropicTools, tool_choice: { type: 'tool', name: 'get_weather' } }));
  assert.equal(choosingTool.status, 200, await choosingTool.clone().text());

  assert.deepEqual(await harness.calls(), { 'model-a': 2, 'model-b': 2 });
  // Visibility catches up with the workflows a moment after they ran.
  for (let poll = 0; poll < 100 && (await requestWorkflows()) < 4; poll += 1) await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(await requestWorkflows(), 4);
});
