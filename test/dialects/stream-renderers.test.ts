import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMessagesStream } from '../../dialects/anthropic/messages-stream';
import { HttpError } from '../../dialects/http-error';
import { createChatCompletionStream } from '../../dialects/openai/chat-completion-stream';
import type { CanonicalResponse } from '../../common/response-schema';

const TARGET = { model: 'model-x', provider: 'p', upstreamModel: 'x' };

function result(overrides: Partial<CanonicalResponse> = {}): CanonicalResponse {
  return {
    requestId: 'r1',
    workflowId: 'llm-t-r1',
    model: 'model-x',
    provider: 'p',
    outcome: 'success',
    text: 'Hello',
    toolCalls: [],
    finishReason: { unified: 'stop', raw: 'stop' },
    refusal: null,
    usage: { inputTokens: 3, outputTokens: 2 },
    fallbacks: 0,
    attempts: [],
    configVersion: 'sha256:x',
    warnings: [],
    createdAt: new Date(0).toISOString(),
    ...overrides,
  };
}

/** SSE text → [event name, parsed data] pairs. */
function parse(text: string): [string | undefined, unknown][] {
  return text
    .split('\n\n')
    .filter((block) => block !== '')
    .map((block) => {
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1] ?? '';
      return [event, data === '[DONE]' ? '[DONE]' : (JSON.parse(data) as unknown)];
    });
}

test('OpenAI: a role chunk first, one chunk per piece, finish, usage, [DONE]', () => {
  const stream = createChatCompletionStream({ requestId: 'r1', includeUsage: true });
  const text = stream.delta({ type: 'text', text: 'Hel' }, TARGET) + stream.delta({ type: 'text', text: 'lo' }, TARGET) + stream.finish(result(), true);
  const events = parse(text).map(([, data]) => data as { choices?: { delta: Record<string, unknown>; finish_reason: string | null }[]; usage?: unknown });
  assert.deepEqual(events[0]?.choices?.[0]?.delta, { role: 'assistant', content: '', refusal: null });
  assert.deepEqual(events[1]?.choices?.[0]?.delta, { content: 'Hel' });
  assert.deepEqual(events[2]?.choices?.[0]?.delta, { content: 'lo' });
  assert.equal(events[3]?.choices?.[0]?.finish_reason, 'stop');
  assert.equal(events[3]?.usage, null);
  assert.deepEqual(events[4]?.choices, []);
  assert.deepEqual(events[4]?.usage, { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 });
  assert.equal(events[5], '[DONE]');
  assert.equal(events.length, 6);
});

test('OpenAI: an answer that was not streamed is sent whole at the end, tool calls included', () => {
  const stream = createChatCompletionStream({ requestId: 'r1', includeUsage: false });
  const call = { id: 'call_1', name: 'f', arguments: '{"a":1}' };
  const events = parse(stream.finish(result({ text: null, toolCalls: [call], finishReason: { unified: 'tool_calls', raw: 'tool_calls' } }), false));
  const chunks = events.map(([, data]) => data as { choices: { delta: Record<string, unknown>; finish_reason: string | null }[] });
  assert.deepEqual(chunks[1]?.choices[0]?.delta, {
    tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }],
  });
  assert.equal(chunks[2]?.choices[0]?.finish_reason, 'tool_calls');
  assert.equal(events.at(-1)?.[1], '[DONE]');
});

test('OpenAI: an error ends the stream with an error object and no [DONE]', () => {
  const stream = createChatCompletionStream({ requestId: 'r1', includeUsage: false });
  const events = parse(stream.error(new HttpError(502, 'server_error', 'broke', { code: 'stream_interrupted' })));
  assert.deepEqual(events, [[undefined, { error: { message: 'broke', type: 'server_error', param: null, code: 'stream_interrupted' } }]]);
});

test('Anthropic: text then a tool call become two content blocks, each started and stopped', () => {
  const stream = createMessagesStream({ requestId: 'r1' });
  const text =
    stream.delta({ type: 'text', text: 'Let me check.' }, TARGET) +
    stream.delta({ type: 'tool_call', index: 0, id: 'toolu_1', name: 'f', argumentsDelta: '' }, TARGET) +
    stream.delta({ type: 'tool_call', index: 0, argumentsDelta: '{"a":' }, TARGET) +
    stream.delta({ type: 'tool_call', index: 0, argumentsDelta: '1}' }, TARGET) +
    stream.finish(result({ finishReason: { unified: 'tool_calls', raw: 'tool_use' } }), true);
  const events = parse(text);
  assert.deepEqual(
    events.map(([name]) => name),
    [
      'message_start',
      'content_block_start',
      'content_block_delta',
      'content_block_stop',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ],
  );
  assert.deepEqual(events[4]?.[1], {
    type: 'content_block_start',
    index: 1,
    content_block: { type: 'tool_use', id: 'toolu_1', name: 'f', input: {} },
  });
  assert.deepEqual(events[6]?.[1], { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '1}' } });
  const delta = events[8]?.[1] as { delta: { stop_reason: string }; usage: { output_tokens: number } };
  assert.equal(delta.delta.stop_reason, 'tool_use');
  assert.equal(delta.usage.output_tokens, 2);
});

test('Anthropic: an error is a named error event', () => {
  const stream = createMessagesStream({ requestId: 'r1' });
  assert.deepEqual(parse(stream.error(new HttpError(502, 'server_error', 'broke'))), [
    ['error', { type: 'error', error: { type: 'api_error', message: 'broke' } }],
  ]);
});
