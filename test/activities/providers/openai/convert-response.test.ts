import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MalformedResponseError } from '../../../../activities/providers/classify-http-failure';
import { convertResponse, mapFinishReason } from '../../../../activities/providers/openai/convert-response';

const FINISH_ROWS: [string | null, boolean, string][] = [
  ['stop', false, 'stop'],
  ['length', false, 'length'],
  ['tool_calls', false, 'tool_calls'],
  ['function_call', false, 'tool_calls'],
  ['content_filter', false, 'content_filter'],
  ['stop', true, 'content_filter'],
  ['eos', false, 'other'],
  [null, false, 'other'],
];

for (const [raw, refused, unified] of FINISH_ROWS) {
  test(`maps finish_reason ${String(raw)}${refused ? ' with a refusal' : ''} to ${unified}`, () => {
    assert.deepEqual(mapFinishReason(raw, refused), { unified, raw });
  });
}

test('throws MalformedResponseError for bodies without a choice', () => {
  for (const body of [undefined, 'text', {}, { choices: [] }, { choices: [{}] }]) {
    assert.throws(() => convertResponse(body), MalformedResponseError, JSON.stringify(body));
  }
});

test('keeps request warnings and adds its own', () => {
  const output = convertResponse({ choices: [{ message: { content: 'ok' }, finish_reason: 'stop' }] }, ['from request']);
  assert.deepEqual(output.warnings, ['from request', 'the provider reported no token usage; counted 0']);
});

test('accepts tool calls without ids or with object arguments from lenient servers', () => {
  const output = convertResponse({
    choices: [
      {
        message: { content: null, tool_calls: [{ type: 'function', function: { name: 'lookup', arguments: { q: 'x' } } }] },
        finish_reason: 'tool_calls',
      },
    ],
    usage: { prompt_tokens: 3, completion_tokens: 4 },
  });
  assert.deepEqual(output.toolCalls, [{ id: 'call_0', name: 'lookup', arguments: '{"q":"x"}' }]);
  assert.equal(output.warnings.length, 1);
});

test('ignores tool calls of other types with a warning', () => {
  const output = convertResponse({
    choices: [{ message: { content: null, tool_calls: [{ id: 'c1', type: 'custom', custom: { name: 'x', input: 'y' } }] }, finish_reason: 'tool_calls' }],
    usage: { prompt_tokens: 1, completion_tokens: 1 },
  });
  assert.deepEqual(output.toolCalls, []);
  assert.match(output.warnings[0] ?? '', /custom/);
});
