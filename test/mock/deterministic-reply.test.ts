import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deterministicReply, isContextTooLong, wordChunks, type MockRequest } from '../../mock/deterministic-reply';

function request(overrides: Partial<MockRequest> = {}): MockRequest {
  return {
    model: 'unit-model',
    lastUserText: 'hello there',
    lastTurn: 'user',
    toolResultText: '',
    tools: [],
    forcedToolName: undefined,
    output: { type: 'text' },
    maxTokens: undefined,
    promptChars: 11,
    ...overrides,
  };
}

test('word chunks keep every character, so joined chunks equal the text', () => {
  for (const text of ['[m] a b  c', '  leading and trailing  ', 'single', '']) {
    assert.equal(wordChunks(text).join(''), text);
  }
  assert.deepEqual(wordChunks('[m] a b'), ['[m] ', 'a ', 'b']);
});

test('a plain user turn is echoed behind the model name', () => {
  const reply = deterministicReply(request());
  assert.deepEqual(reply, {
    kind: 'text',
    text: '[unit-model] hello there',
    finish: 'stop',
    usage: { promptTokens: 3, completionTokens: 3 },
  });
});

test('a long user message is echoed only in part', () => {
  const reply = deterministicReply(request({ lastUserText: 'word '.repeat(100) }));
  assert.ok(reply.kind === 'text');
  assert.ok(reply.text.endsWith(' ...'));
  assert.ok(reply.text.length < 250);
});

test('an empty user message still gets a non-empty reply', () => {
  const reply = deterministicReply(request({ lastUserText: '' }));
  assert.ok(reply.kind === 'text');
  assert.match(reply.text, /^\[unit-model\] \S/);
});

test('max tokens shorter than the reply cuts it and finishes with length', () => {
  const reply = deterministicReply(request({ lastUserText: 'a b c d', maxTokens: 2 }));
  assert.deepEqual(reply, {
    kind: 'text',
    text: '[unit-model] a',
    finish: 'length',
    usage: { promptTokens: 3, completionTokens: 2 },
  });
});

test('max tokens at least as long as the reply changes nothing', () => {
  assert.equal(deterministicReply(request({ maxTokens: 3 })).kind, 'text');
  assert.deepEqual(deterministicReply(request({ maxTokens: 3 })), deterministicReply(request()));
});

test('tools on a user turn produce a call to the forced tool, else the first', () => {
  const tools = [
    { name: 'first', parameters: { type: 'object', properties: {} } },
    { name: 'second', parameters: { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] } },
  ];
  const first = deterministicReply(request({ tools }));
  assert.ok(first.kind === 'tool_call');
  assert.equal(first.toolName, 'first');
  assert.equal(first.argumentsJson, '{}');
  const forced = deterministicReply(request({ tools, forcedToolName: 'second' }));
  assert.ok(forced.kind === 'tool_call');
  assert.equal(forced.argumentsJson, '{"n":1}');
});

test('a tool result is quoted in a text reply even when tools are still offered', () => {
  const reply = deterministicReply(
    request({ lastTurn: 'tool_result', toolResultText: '42 degrees', tools: [{ name: 't', parameters: {} }] }),
  );
  assert.ok(reply.kind === 'text');
  assert.equal(reply.text, '[unit-model] The tool returned: 42 degrees');
});

test('REFUSE_ME in the user turn wins over tools and JSON output', () => {
  const reply = deterministicReply(
    request({ lastUserText: 'REFUSE_ME', tools: [{ name: 't', parameters: {} }], output: { type: 'json_object' } }),
  );
  assert.equal(reply.kind, 'refusal');
});

test('JSON output modes reply with JSON that max tokens does not cut', () => {
  const object = deterministicReply(request({ output: { type: 'json_object' }, maxTokens: 1 }));
  assert.ok(object.kind === 'text');
  assert.deepEqual(JSON.parse(object.text), { answer: '[unit-model] hello there' });
  const schema = deterministicReply(
    request({
      output: {
        type: 'json_schema',
        schema: { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] },
      },
    }),
  );
  assert.ok(schema.kind === 'text');
  assert.equal(schema.text, '{"ok":true}');
});

test('a prompt is too long only past 200,000 characters', () => {
  assert.equal(isContextTooLong(request({ promptChars: 200_000 })), false);
  assert.equal(isContextTooLong(request({ promptChars: 200_001 })), true);
});
