import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ANTHROPIC_DEFAULT_MAX_TOKENS, convertRequest } from '../../../../activities/providers/anthropic/convert-request';
import { CanonicalRequestSchema, type CanonicalRequestInput } from '../../../../common/request-schema';

function request(input: Partial<CanonicalRequestInput>) {
  return CanonicalRequestSchema.parse({
    requestId: 'req-1',
    tenantId: 'tenant-1',
    model: 'route',
    messages: [{ role: 'user', content: 'Hi' }],
    sampling: { maxTokens: 256 },
    ...input,
  });
}

test('collects every system message into the system prompt, warning about late ones', () => {
  const { params, warnings } = convertRequest(
    request({
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hi' },
        { role: 'system', content: 'Answer in French.' },
        { role: 'user', content: 'Hello?' },
      ],
    }),
    'claude-test',
  );
  assert.equal(params.system, 'Be brief.\n\nAnswer in French.');
  // The two user turns merge: Anthropic wants alternating roles.
  assert.deepEqual(params.messages, [
    {
      role: 'user',
      content: [
        { type: 'text', text: 'Hi' },
        { type: 'text', text: 'Hello?' },
      ],
    },
  ]);
  assert.deepEqual(warnings, ['messages[2] (system) was moved into the system prompt']);
});

test('puts all results of one assistant turn into the single next user turn', () => {
  const { params, warnings } = convertRequest(
    request({
      messages: [
        { role: 'user', content: 'Weather in Paris and Rome?' },
        {
          role: 'assistant',
          content: 'Checking both.',
          toolCalls: [
            { id: 'a', name: 'weather', arguments: '{"city":"Paris"}' },
            { id: 'b', name: 'weather', arguments: '{"city":"Rome"}' },
          ],
        },
        { role: 'tool', toolCallId: 'a', content: '18' },
        { role: 'tool', toolCallId: 'b', content: '24' },
        { role: 'user', content: 'Which is warmer?' },
      ],
    }),
    'claude-test',
  );
  assert.deepEqual(params.messages, [
    { role: 'user', content: 'Weather in Paris and Rome?' },
    {
      role: 'assistant',
      content: [
        { type: 'text', text: 'Checking both.' },
        { type: 'tool_use', id: 'a', name: 'weather', input: { city: 'Paris' } },
        { type: 'tool_use', id: 'b', name: 'weather', input: { city: 'Rome' } },
      ],
    },
    {
      role: 'user',
      content: [
        { type: 'tool_result', tool_use_id: 'a', content: '18' },
        { type: 'tool_result', tool_use_id: 'b', content: '24' },
        { type: 'text', text: 'Which is warmer?' },
      ],
    },
  ]);
  assert.deepEqual(warnings, []);
});

test('sends {} for tool arguments that are not a JSON object, with a warning', () => {
  const { params, warnings } = convertRequest(
    request({
      messages: [
        { role: 'user', content: 'Go' },
        {
          role: 'assistant',
          content: null,
          toolCalls: [
            { id: 'a', name: 'run', arguments: '{not json' },
            { id: 'b', name: 'run', arguments: '[1,2]' },
            { id: 'c', name: 'run', arguments: '' },
          ],
        },
      ],
    }),
    'claude-test',
  );
  const assistant = params.messages[1];
  assert.ok(assistant && Array.isArray(assistant.content));
  assert.deepEqual(
    assistant.content.map((block) => (block.type === 'tool_use' ? block.input : undefined)),
    [{}, {}, {}],
  );
  assert.equal(warnings.length, 2);
});

test('sends data-URL images as base64 and web images by URL, dropping others with a warning', () => {
  const { params, warnings } = convertRequest(
    request({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'image_url', url: 'data:image/png;base64,iVBORw0KGgo=' },
            { type: 'image_url', url: 'https://example.com/cat.jpg' },
            { type: 'image_url', url: 'data:image/bmp;base64,Qk0=' },
            { type: 'text', text: 'Compare.' },
          ],
        },
      ],
    }),
    'claude-test',
  );
  assert.deepEqual(params.messages[0]?.content, [
    { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
    { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
    { type: 'text', text: 'Compare.' },
  ]);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0] ?? '', /image/);
});

const TOOL_CHOICE_ROWS = [
  ['auto', { type: 'auto' }],
  ['none', { type: 'none' }],
  ['required', { type: 'any' }],
  [{ name: 'lookup' }, { type: 'tool', name: 'lookup' }],
] as const;

for (const [choice, expected] of TOOL_CHOICE_ROWS) {
  test(`maps tool choice ${JSON.stringify(choice)} to ${JSON.stringify(expected)}`, () => {
    const { params } = convertRequest(
      request({ tools: [{ name: 'lookup', parameters: { properties: {} } }], toolChoice: choice }),
      'claude-test',
    );
    assert.deepEqual(params.tool_choice, expected);
    assert.deepEqual(params.tools, [{ name: 'lookup', input_schema: { properties: {}, type: 'object' } }]);
  });
}

test('sends the default max_tokens when the request has none, with a warning', () => {
  const { params, warnings } = convertRequest(request({ sampling: {} }), 'claude-test');
  assert.equal(params.max_tokens, ANTHROPIC_DEFAULT_MAX_TOKENS);
  assert.equal(warnings.length, 1);
});

test('asks for a JSON object by instruction after the caller system prompt', () => {
  const { params, warnings } = convertRequest(
    request({ messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi' }], output: { type: 'json_object' } }),
    'claude-test',
  );
  assert.match(String(params.system), /^Be brief\.\n\nRespond with one JSON object/);
  assert.equal(warnings.length, 1);
});

test('sends only the settings the request has', () => {
  const { params, warnings } = convertRequest(request({}), 'claude-test');
  assert.deepEqual(Object.keys(params).sort(), ['max_tokens', 'messages', 'model']);
  assert.deepEqual(warnings, []);
});
