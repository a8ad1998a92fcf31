import assert from 'node:assert/strict';
import type { Usage } from '../../../../common/response-schema';
import type { StreamContractSpec, WireStreamReplies } from '../adapter-stream-contract';
import type { SseEvent } from '../fixture-server';

/**
 * Chat Completions stream chunks in OpenAI's documented wire format
 * (https://platform.openai.com/docs/api-reference/chat-streaming), shared by
 * the OpenAI and OpenAI-compatible adapter tests: a role chunk, content or
 * tool-call pieces, a chunk with the finish reason, the usage chunk that
 * `include_usage` asks for (no choices), then `[DONE]`.
 */
export function chatCompletionChunks(
  deltas: Record<string, unknown>[],
  finishReason: string,
  usage: Usage | null,
): SseEvent[] {
  const chunk = (choices: unknown[], chunkUsage: unknown = null): SseEvent => ({
    data: JSON.stringify({
      id: 'chatcmpl-fixture',
      object: 'chat.completion.chunk',
      created: 1_760_000_000,
      model: 'fixture-model',
      system_fingerprint: null,
      choices,
      usage: chunkUsage,
    }),
  });
  const choice = (delta: Record<string, unknown>, finish: string | null = null) => ({
    index: 0,
    delta,
    logprobs: null,
    finish_reason: finish,
  });
  return [
    ...deltas.map((delta) => chunk([choice(delta)])),
    chunk([choice({}, finishReason)]),
    ...(usage === null
      ? []
      : [
          chunk([], {
            prompt_tokens: usage.inputTokens,
            completion_tokens: usage.outputTokens,
            total_tokens: usage.inputTokens + usage.outputTokens,
          }),
        ]),
    { data: '[DONE]' },
  ];
}

/** A streamed text answer; `usage: null` leaves the usage chunk out, as servers that ignore `stream_options` do. */
export function textChunks(pieces: string[], finishReason: string, usage: Usage | null): SseEvent[] {
  return chatCompletionChunks(
    [{ role: 'assistant', content: '', refusal: null }, ...pieces.map((content) => ({ content }))],
    finishReason,
    usage,
  );
}

export const OPENAI_STREAM_REPLIES: WireStreamReplies = {
  text: ({ pieces, finish, usage }) => textChunks(pieces, finish, usage),
  toolCall: ({ id, name, argumentPieces, usage }) =>
    chatCompletionChunks(
      [
        {
          role: 'assistant',
          content: null,
          refusal: null,
          tool_calls: [{ index: 0, id, type: 'function', function: { name, arguments: '' } }],
        },
        ...argumentPieces.map((piece) => ({ tool_calls: [{ index: 0, function: { arguments: piece } }] })),
      ],
      'tool_calls',
      usage,
    ),
  // OpenAI sends an error inside a stream as a data event with an `error` object.
  errorEvent: (kind) => ({
    data: JSON.stringify({
      error:
        kind === 'rateLimit'
          ? { message: 'Rate limit reached for requests', type: 'requests', param: null, code: 'rate_limit_exceeded' }
          : { message: 'The server had an error while processing your request.', type: 'server_error', param: null, code: null },
    }),
  }),
};

/** Both OpenAI dialects ask for streaming with usage. */
export const expectOpenAiStreamRequest: StreamContractSpec['expectStreamRequest'] = (body) => {
  assert.equal(body.stream, true);
  assert.deepEqual(body.stream_options, { include_usage: true });
};
