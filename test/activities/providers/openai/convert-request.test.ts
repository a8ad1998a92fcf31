import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OPENAI_DIALECT, convertRequest } from '../../../../activities/providers/openai/convert-request';
import { OPENAI_COMPATIBLE_DIALECT } from '../../../../activities/providers/openai-compatible/openai-compatible-adapter';
import { CanonicalRequestSchema, type CanonicalRequestInput } from '../../../../common/request-schema';

function request(input: Partial<CanonicalRequestInput>) {
  return CanonicalRequestSchema.parse({
    requestId: 'req-1',
    tenantId: 'tenant-1',
    model: 'route',
    messages: [{ role: 'user', content: 'Hi' }],
    ...input,
  });
}

test('sends user text and image parts as content parts', () => {
  const { params } = convertRequest(
    request({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is in this picture?' },
            { type: 'image_url', url: 'https://example.com/cat.png' },
          ],
        },
      ],
    }),
    'gpt-test',
  );
  assert.deepEqual(params.messages, [
    {
      role: 'user',
      content: [
        { type: 'text', text: 'What is in this picture?' },
        { type: 'image_url', image_url: { url: 'https://example.com/cat.png' } },
      ],
    },
  ]);
});

test('sends an assistant turn without content or tool calls as empty text', () => {
  const { params } = convertRequest(
    request({ messages: [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: null }, { role: 'user', content: 'Hello?' }] }),
    'gpt-test',
  );
  assert.deepEqual(params.messages[1], { role: 'assistant', content: '' });
});

test('names a forced tool as a function tool choice', () => {
  const { params, warnings } = convertRequest(
    request({ tools: [{ name: 'lookup', parameters: { type: 'object' } }], toolChoice: { name: 'lookup' } }),
    'gpt-test',
  );
  assert.deepEqual(params.tool_choice, { type: 'function', function: { name: 'lookup' } });
  assert.deepEqual(params.tools, [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object' } } }]);
  assert.deepEqual(warnings, []);
});

test('drops a tool choice without tools and says so', () => {
  const { params, warnings } = convertRequest(request({ toolChoice: 'required' }), 'gpt-test');
  assert.equal(params.tool_choice, undefined);
  assert.equal(params.tools, undefined);
  assert.equal(warnings.length, 1);
});

test('asks for a JSON object with response_format json_object', () => {
  const { params } = convertRequest(request({ output: { type: 'json_object' } }), 'gpt-test');
  assert.deepEqual(params.response_format, { type: 'json_object' });
});

test('sends no response_format for text output', () => {
  const { params } = convertRequest(request({ output: { type: 'text' } }), 'gpt-test');
  assert.equal(params.response_format, undefined);
});

test('sends the token limit in the field of the dialect', () => {
  const limited = request({ sampling: { maxTokens: 64 } });
  const openai = convertRequest(limited, 'gpt-test', OPENAI_DIALECT).params;
  const compatible = convertRequest(limited, 'llama', OPENAI_COMPATIBLE_DIALECT).params;
  assert.equal(openai.max_completion_tokens, 64);
  assert.equal(openai.max_tokens, undefined);
  assert.equal(compatible.max_tokens, 64);
  assert.equal(compatible.max_completion_tokens, undefined);
});

test('sends only the settings the request has', () => {
  const { params } = convertRequest(request({}), 'gpt-test');
  assert.deepEqual(Object.keys(params).sort(), ['messages', 'model']);
});
