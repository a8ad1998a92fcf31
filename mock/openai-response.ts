import { randomUUID } from 'node:crypto';
import type { SseEvent } from './deliver-reply';
import { wordChunks, type MockReply } from './deterministic-reply';

/** Tool-call arguments stream in pieces of this many characters, like a model emitting tokens. */
const ARGUMENT_PIECE_CHARS = 8;

/** Ids and timestamps shared by a completion and all chunks of its stream. */
interface CompletionIdentity {
  id: string;
  created: number;
  model: string;
  toolCallId: string;
}

function newIdentity(model: string): CompletionIdentity {
  const hex = randomUUID().replaceAll('-', '');
  return {
    id: `chatcmpl-mock${hex.slice(0, 24)}`,
    created: Math.floor(Date.now() / 1000),
    model,
    toolCallId: `call_mock${hex.slice(24)}`,
  };
}

function finishReason(reply: MockReply): 'stop' | 'length' | 'tool_calls' {
  if (reply.kind === 'tool_call') return 'tool_calls';
  return reply.kind === 'text' ? reply.finish : 'stop';
}

function usageBody(reply: MockReply): Record<string, unknown> {
  const { promptTokens, completionTokens } = reply.usage;
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0 },
  };
}

/** A non-streaming `chat.completion` object for `reply`. */
export function chatCompletionBody(model: string, reply: MockReply): Record<string, unknown> {
  const identity = newIdentity(model);
  const message: Record<string, unknown> = {
    role: 'assistant',
    content: reply.kind === 'text' ? reply.text : null,
    refusal: reply.kind === 'refusal' ? reply.text : null,
    annotations: [],
  };
  if (reply.kind === 'tool_call') {
    message.tool_calls = [
      {
        id: identity.toolCallId,
        type: 'function',
        function: { name: reply.toolName, arguments: reply.argumentsJson },
      },
    ];
  }
  return {
    id: identity.id,
    object: 'chat.completion',
    created: identity.created,
    model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: finishReason(reply) }],
    usage: usageBody(reply),
    service_tier: 'default',
    system_fingerprint: null,
  };
}

/**
 * The SSE events of a streamed completion, as OpenAI sends them: a role
 * chunk, one chunk per word (or per argument piece of a tool call), a chunk
 * with `finish_reason`, a usage chunk with empty `choices` when
 * `stream_options.include_usage` is set, then `[DONE]`.
 */
export function chatCompletionEvents(model: string, reply: MockReply, includeUsage: boolean): SseEvent[] {
  const identity = newIdentity(model);
  const envelope = (fields: Record<string, unknown>): SseEvent => ({
    data: JSON.stringify({ id: identity.id, object: 'chat.completion.chunk', created: identity.created, model, system_fingerprint: null, ...fields }),
  });
  const chunk = (delta: Record<string, unknown>, finish: string | null = null): SseEvent =>
    envelope({ choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], ...(includeUsage ? { usage: null } : {}) });

  const events = [chunk({ role: 'assistant', content: reply.kind === 'text' ? '' : null, refusal: null })];
  if (reply.kind === 'text') {
    for (const word of wordChunks(reply.text)) events.push(chunk({ content: word }));
  } else if (reply.kind === 'refusal') {
    for (const word of wordChunks(reply.text)) events.push(chunk({ refusal: word }));
  } else {
    events.push(
      chunk({
        tool_calls: [
          { index: 0, id: identity.toolCallId, type: 'function', function: { name: reply.toolName, arguments: '' } },
        ],
      }),
    );
    for (let start = 0; start < reply.argumentsJson.length; start += ARGUMENT_PIECE_CHARS) {
      const piece = reply.argumentsJson.slice(start, start + ARGUMENT_PIECE_CHARS);
      events.push(chunk({ tool_calls: [{ index: 0, function: { arguments: piece } }] }));
    }
  }
  events.push(chunk({}, finishReason(reply)));

  if (includeUsage) {
    events.push(envelope({ choices: [], usage: usageBody(reply) }));
  }
  events.push({ data: '[DONE]' });
  return events;
}
