import assert from 'node:assert/strict';
import { createAnthropicAdapter } from '../../../../activities/providers/anthropic/anthropic-adapter';
import type { Usage } from '../../../../common/response-schema';
import { runAdapterContract, type ErrorKind, type WireReplies } from '../adapter-contract';
import type { WireStreamReplies } from '../adapter-stream-contract';
import type { SseEvent } from '../fixture-server';

const API_KEY = 'sk-ant-fake-key-01';

/** A Messages API reply in Anthropic's documented wire format. */
function message(content: unknown[], stopReason: string, usage: Usage, extra: Record<string, unknown> = {}) {
  return {
    id: 'msg_fixture',
    type: 'message',
    role: 'assistant',
    model: 'fixture-model',
    content,
    stop_reason: stopReason,
    stop_sequence: null,
    stop_details: null,
    container: null,
    usage: {
      input_tokens: usage.inputTokens,
      output_tokens: usage.outputTokens,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
    },
    ...extra,
  };
}

const replies: WireReplies = {
  text: ({ text, finish, usage }) =>
    message([{ type: 'text', text, citations: null }], finish === 'stop' ? 'end_turn' : 'max_tokens', usage),
  toolCall: ({ id, name, input, usage }) =>
    message(
      [
        { type: 'text', text: 'Let me look that up.', citations: null },
        { type: 'tool_use', id, name, input },
      ],
      'tool_use',
      usage,
    ),
  refusal: ({ explanation, usage }) =>
    message([], 'refusal', usage, { stop_details: { type: 'refusal', category: 'general_harms', explanation } }),
};

/**
 * A Messages API stream in Anthropic's documented wire format
 * (https://docs.anthropic.com/en/api/messages-streaming): `message_start`
 * with the input usage, one start/deltas/stop run per content block, a
 * `ping`, `message_delta` with the stop reason and the final output usage,
 * then `message_stop`.
 */
function messageEvents(
  blocks: { start: Record<string, unknown>; deltas: Record<string, unknown>[] }[],
  stopReason: string,
  usage: Usage,
): SseEvent[] {
  const event = (data: Record<string, unknown>): SseEvent => ({ event: String(data.type), data: JSON.stringify(data) });
  return [
    event({
      type: 'message_start',
      message: {
        ...message([], '', usage),
        stop_reason: null,
        usage: { input_tokens: usage.inputTokens, output_tokens: 1, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
      },
    }),
    event({ type: 'ping' }),
    ...blocks.flatMap(({ start, deltas }, index) => [
      event({ type: 'content_block_start', index, content_block: start }),
      ...deltas.map((delta) => event({ type: 'content_block_delta', index, delta })),
      event({ type: 'content_block_stop', index }),
    ]),
    event({
      type: 'message_delta',
      delta: { stop_reason: stopReason, stop_sequence: null, stop_details: null },
      usage: { output_tokens: usage.outputTokens },
    }),
    event({ type: 'message_stop' }),
  ];
}

const textBlock = (pieces: string[]) => ({
  start: { type: 'text', text: '', citations: null },
  deltas: pieces.map((text) => ({ type: 'text_delta', text })),
});

const streamReplies: WireStreamReplies = {
  text: ({ pieces, finish, usage }) => messageEvents([textBlock(pieces)], finish === 'stop' ? 'end_turn' : 'max_tokens', usage),
  toolCall: ({ id, name, argumentPieces, usage }) =>
    messageEvents(
      [
        textBlock(['Let me look ', 'that up.']),
        {
          start: { type: 'tool_use', id, name, input: {} },
          deltas: argumentPieces.map((partial_json) => ({ type: 'input_json_delta', partial_json })),
        },
      ],
      'tool_use',
      usage,
    ),
  errorEvent: (kind) => ({ event: 'error', data: JSON.stringify(errorBody(kind === 'rateLimit' ? 'rateLimit' : 'overloaded')) }),
};

/** `{type: 'error', error: {type, message}}` as Anthropic sends it. */
function errorBody(kind: ErrorKind): unknown {
  const [type, text] = (
    {
      invalid: ['invalid_request_error', 'messages.0.content: Input should be a valid list'],
      contextTooLong: ['invalid_request_error', 'prompt is too long: 215000 tokens > 200000 maximum'],
      auth: ['authentication_error', 'invalid x-api-key'],
      notFound: ['not_found_error', 'model: contract-model'],
      rateLimit: ['rate_limit_error', 'This request would exceed the rate limit for your organization of 50 requests per minute.'],
      server: ['api_error', 'Internal server error'],
      overloaded: ['overloaded_error', 'Overloaded'],
    } as const
  )[kind];
  return { type: 'error', error: { type, message: text }, request_id: 'req_fixture' };
}

const WEATHER_TOOL = {
  name: 'get_weather',
  description: 'Current weather for a city',
  input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

runAdapterContract({
  name: 'Anthropic',
  createAdapter: createAnthropicAdapter,
  apiKey: API_KEY,
  baseUrlFor: (origin) => origin,
  requestPath: '/v1/messages',
  assertHeaders(headers) {
    // SDK 1.x sends the key as a bearer token; older ones used x-api-key.
    assert.ok(headers.authorization === `Bearer ${API_KEY}` || headers['x-api-key'] === API_KEY);
    assert.ok(headers['anthropic-version'], 'anthropic-version header');
  },
  replies,
  streamReplies,
  expectStreamRequest(body) {
    assert.equal(body.stream, true);
  },
  errorBody,
  rawFinishReasons: { stop: 'end_turn', length: 'max_tokens', toolCalls: 'tool_use', refusal: 'refusal' },
  expectRequest: {
    plainText(body, output) {
      assert.deepEqual(body.messages, [{ role: 'user', content: 'Say hello.' }]);
      assert.equal(body.system, undefined);
      // Anthropic requires max_tokens: a default is sent, and said so.
      assert.equal(body.max_tokens, 4096);
      assert.equal(output.warnings.length, 1);
      assert.match(output.warnings[0] ?? '', /maxTokens/);
    },
    systemPrompt(body) {
      assert.equal(body.system, 'You are terse.');
      assert.deepEqual(body.messages, [{ role: 'user', content: 'Say hello.' }]);
    },
    multiTurn(body) {
      assert.deepEqual(body.messages, [
        { role: 'user', content: 'What is 2+2?' },
        { role: 'assistant', content: '4.' },
        { role: 'user', content: 'And times 3?' },
      ]);
    },
    toolCall(body, output) {
      assert.deepEqual(body.tools, [WEATHER_TOOL]);
      assert.deepEqual(body.tool_choice, { type: 'auto' });
      assert.equal(output.text, 'Let me look that up.');
    },
    toolResult(body) {
      assert.deepEqual(body.messages, [
        { role: 'user', content: 'Weather in Paris?' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'call_1', name: 'get_weather', input: { city: 'Paris' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_1', content: '{"temperature":18}' }] },
      ]);
    },
    lengthStop(body) {
      assert.equal(body.max_tokens, 5);
    },
    sampling(body, output) {
      assert.deepEqual(body.stop_sequences, ['END']);
      assert.equal(body.max_tokens, 100);
      assert.deepEqual(body.metadata, { user_id: 'end-user-42' });
      // API version 2026-10-21 rejects sampling parameters: never sent, always reported.
      for (const field of ['temperature', 'top_p', 'top_k', 'seed']) assert.equal(body[field], undefined, field);
      assert.equal(output.warnings.length, 3);
      assert.match(output.warnings.join('\n'), /temperature[\s\S]*topP[\s\S]*seed/);
    },
    jsonSchema(body, output) {
      assert.equal(body.response_format, undefined);
      assert.match(String(body.system), /JSON Schema "answer"/);
      assert.ok(String(body.system).includes('{"type":"object","properties":{"answer":{"type":"number"}},"required":["answer"]}'));
      assert.ok(output.warnings.some((warning) => /json_schema output is requested by a system-prompt instruction/.test(warning)));
    },
  },
});
