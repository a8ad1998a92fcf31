import assert from 'node:assert/strict';
import type { Usage } from '../../../../common/response-schema';
import type { AdapterContractSpec, WireReplies } from '../adapter-contract';

/**
 * Chat Completions replies in OpenAI's documented wire format
 * (https://platform.openai.com/docs/api-reference/chat/object), shared by the
 * OpenAI and OpenAI-compatible adapter tests.
 */
export function chatCompletion(message: Record<string, unknown>, finishReason: string, usage: Usage | null) {
  return {
    id: 'chatcmpl-fixture',
    object: 'chat.completion',
    created: 1_760_000_000,
    model: 'fixture-model',
    choices: [{ index: 0, message: { role: 'assistant', refusal: null, ...message }, logprobs: null, finish_reason: finishReason }],
    ...(usage === null
      ? {}
      : {
          usage: {
            prompt_tokens: usage.inputTokens,
            completion_tokens: usage.outputTokens,
            total_tokens: usage.inputTokens + usage.outputTokens,
          },
        }),
  };
}

export const OPENAI_WIRE_REPLIES: WireReplies = {
  text: ({ text, finish, usage }) => chatCompletion({ content: text }, finish, usage),
  toolCall: ({ id, name, input, usage }) =>
    chatCompletion(
      { content: null, tool_calls: [{ id, type: 'function', function: { name, arguments: JSON.stringify(input) } }] },
      'tool_calls',
      usage,
    ),
  refusal: ({ explanation, usage }) => chatCompletion({ content: null, refusal: explanation }, 'stop', usage),
};

export const OPENAI_RAW_FINISH_REASONS = { stop: 'stop', length: 'length', toolCalls: 'tool_calls', refusal: 'stop' };

/** `{error: {message, type, param, code}}` as OpenAI sends it. */
export function openAiErrorBody(message: string, type: string, code: string | number | null) {
  return { error: { message, type, param: null, code } };
}

const WEATHER_FUNCTION = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Current weather for a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

/** Outgoing Chat Completions requests, as both OpenAI dialects must send them. */
export function openAiRequestExpectations(
  tokenLimitField: 'max_completion_tokens' | 'max_tokens',
): AdapterContractSpec['expectRequest'] {
  const otherTokenField = tokenLimitField === 'max_tokens' ? 'max_completion_tokens' : 'max_tokens';
  return {
    plainText(body, output) {
      assert.deepEqual(body.messages, [{ role: 'user', content: 'Say hello.' }]);
      assert.equal(body.stream, undefined);
      assert.deepEqual(output.warnings, []);
    },
    systemPrompt(body) {
      assert.deepEqual(body.messages, [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: 'Say hello.' },
      ]);
    },
    multiTurn(body) {
      assert.deepEqual(body.messages, [
        { role: 'user', content: 'What is 2+2?' },
        { role: 'assistant', content: '4.' },
        { role: 'user', content: 'And times 3?' },
      ]);
    },
    toolCall(body) {
      assert.deepEqual(body.tools, [WEATHER_FUNCTION]);
      assert.equal(body.tool_choice, 'auto');
    },
    toolResult(body) {
      assert.deepEqual(body.messages, [
        { role: 'user', content: 'Weather in Paris?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }],
        },
        { role: 'tool', tool_call_id: 'call_1', content: '{"temperature":18}' },
      ]);
    },
    lengthStop(body) {
      assert.equal(body[tokenLimitField], 5);
      assert.equal(body[otherTokenField], undefined);
    },
    sampling(body, output) {
      assert.equal(body.temperature, 0.2);
      assert.equal(body.top_p, 0.9);
      assert.deepEqual(body.stop, ['END']);
      assert.equal(body.seed, 7);
      assert.equal(body[tokenLimitField], 100);
      assert.equal(body.user, 'end-user-42');
      assert.deepEqual(output.warnings, []);
    },
    jsonSchema(body, output) {
      assert.deepEqual(body.response_format, {
        type: 'json_schema',
        json_schema: {
          name: 'answer',
          schema: { type: 'object', properties: { answer: { type: 'number' } }, required: ['answer'] },
          strict: true,
        },
      });
      assert.deepEqual(output.warnings, []);
    },
  };
}
