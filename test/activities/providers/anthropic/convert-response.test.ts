import assert from 'node:assert/strict';
import { test } from 'node:test';
import { convertResponse, mapStopReason } from '../../../../activities/providers/anthropic/convert-response';
import { MalformedResponseError } from '../../../../activities/providers/classify-http-failure';

const STOP_ROWS: [string | null, string][] = [
  ['end_turn', 'stop'],
  ['stop_sequence', 'stop'],
  ['max_tokens', 'length'],
  ['model_context_window_exceeded', 'length'],
  ['tool_use', 'tool_calls'],
  ['refusal', 'content_filter'],
  ['pause_turn', 'other'],
  [null, 'other'],
];

for (const [raw, unified] of STOP_ROWS) {
  test(`maps stop_reason ${String(raw)} to ${unified}`, () => {
    assert.deepEqual(mapStopReason(raw), { unified, raw });
  });
}

function message(content: unknown[], extra: Record<string, unknown> = {}) {
  return { content, stop_reason: 'end_turn', usage: { input_tokens: 10, output_tokens: 5 }, ...extra };
}

test('counts cached prompt tokens as input tokens', () => {
  const output = convertResponse(
    message([{ type: 'text', text: 'ok' }], {
      usage: { input_tokens: 10, output_tokens: 5, cache_creation_input_tokens: 100, cache_read_input_tokens: 1000 },
    }),
  );
  assert.deepEqual(output.usage, { inputTokens: 1_110, outputTokens: 5 });
});

test('joins text blocks, skips thinking silently and warns about unknown blocks', () => {
  const output = convertResponse(
    message([
      { type: 'thinking', thinking: 'hmm', signature: 'sig' },
      { type: 'text', text: 'Hello, ' },
      { type: 'server_tool_use', id: 'srv', name: 'web_search', input: {} },
      { type: 'text', text: 'world.' },
    ]),
  );
  assert.equal(output.text, 'Hello, world.');
  assert.deepEqual(output.warnings, ['ignored a content block of type "server_tool_use"']);
});

test('returns null text when the answer has only tool calls', () => {
  const output = convertResponse(
    message([{ type: 'tool_use', id: 'toolu_1', name: 'lookup', input: { q: 'x' } }], { stop_reason: 'tool_use' }),
  );
  assert.equal(output.text, null);
  assert.deepEqual(output.toolCalls, [{ id: 'toolu_1', name: 'lookup', arguments: '{"q":"x"}' }]);
});

test('removes a Markdown fence around a JSON answer when JSON was asked for', () => {
  const fenced = message([{ type: 'text', text: '```json\n{"answer":4}\n```' }]);
  assert.equal(convertResponse(fenced, [], { expectJson: true }).text, '{"answer":4}');
  assert.equal(convertResponse(fenced).text, '```json\n{"answer":4}\n```');
});

test('gives a refusal text even when Anthropic sends no explanation', () => {
  const output = convertResponse(message([], { stop_reason: 'refusal', stop_details: null }));
  assert.equal(typeof output.refusal, 'string');
  assert.equal(output.finishReason.unified, 'content_filter');
});

test('throws MalformedResponseError for bodies that are not a message', () => {
  for (const body of [undefined, 'text', {}, { content: 'x', usage: { input_tokens: 1, output_tokens: 1 } }, { content: [] }]) {
    assert.throws(() => convertResponse(body), MalformedResponseError, JSON.stringify(body));
  }
});
