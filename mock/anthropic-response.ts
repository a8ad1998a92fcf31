import { randomUUID } from 'node:crypto';
import type { SseEvent } from './deliver-reply';
import { wordChunks, type MockReply } from './deterministic-reply';

/** Tool inputs stream in pieces of this many characters, like a model emitting tokens. */
const INPUT_PIECE_CHARS = 8;

type StopReason = 'end_turn' | 'max_tokens' | 'tool_use' | 'refusal';

function stopReason(reply: MockReply): StopReason {
  if (reply.kind === 'tool_call') return 'tool_use';
  if (reply.kind === 'refusal') return 'refusal';
  return reply.finish === 'length' ? 'max_tokens' : 'end_turn';
}

function stopDetails(reply: MockReply): Record<string, unknown> | null {
  return reply.kind === 'refusal' ? { type: 'refusal', category: null, explanation: null } : null;
}

function newIds(): { messageId: string; toolUseId: string } {
  const hex = randomUUID().replaceAll('-', '');
  return { messageId: `msg_mock${hex.slice(0, 24)}`, toolUseId: `toolu_mock${hex.slice(24)}` };
}

function usageBody(inputTokens: number, outputTokens: number): Record<string, unknown> {
  return {
    input_tokens: inputTokens,
    output_tokens: outputTokens,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
    service_tier: 'standard',
  };
}

/** A non-streaming `message` object for `reply`. */
export function messageBody(model: string, reply: MockReply): Record<string, unknown> {
  const { messageId, toolUseId } = newIds();
  const content =
    reply.kind === 'tool_call'
      ? [{ type: 'tool_use', id: toolUseId, name: reply.toolName, input: JSON.parse(reply.argumentsJson) as unknown }]
      : [{ type: 'text', text: reply.text }];
  return {
    id: messageId,
    type: 'message',
    role: 'assistant',
    model,
    content,
    stop_reason: stopReason(reply),
    stop_sequence: null,
    stop_details: stopDetails(reply),
    usage: usageBody(reply.usage.promptTokens, reply.usage.completionTokens),
  };
}

/**
 * The SSE events of a streamed message, in the order Anthropic sends them:
 * `message_start`, `content_block_start`, `ping`, one `content_block_delta`
 * per word (`text_delta`) or input piece (`input_json_delta`),
 * `content_block_stop`, `message_delta` with the stop reason and usage,
 * `message_stop`.
 */
export function messageEvents(model: string, reply: MockReply): SseEvent[] {
  const { messageId, toolUseId } = newIds();
  const event = (type: string, payload: Record<string, unknown>): SseEvent => ({
    event: type,
    data: JSON.stringify({ type, ...payload }),
  });

  const events: SseEvent[] = [
    event('message_start', {
      message: {
        id: messageId,
        type: 'message',
        role: 'assistant',
        model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        stop_details: null,
        usage: usageBody(reply.usage.promptTokens, 1),
      },
    }),
  ];
  if (reply.kind === 'tool_call') {
    events.push(
      event('content_block_start', {
        index: 0,
        content_block: { type: 'tool_use', id: toolUseId, name: reply.toolName, input: {} },
      }),
      event('ping', {}),
    );
    for (let start = 0; start < reply.argumentsJson.length; start += INPUT_PIECE_CHARS) {
      const partial = reply.argumentsJson.slice(start, start + INPUT_PIECE_CHARS);
      events.push(
        event('content_block_delta', { index: 0, delta: { type: 'input_json_delta', partial_json: partial } }),
      );
    }
  } else {
    events.push(
      event('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
      event('ping', {}),
    );
    for (const word of wordChunks(reply.text)) {
      events.push(event('content_block_delta', { index: 0, delta: { type: 'text_delta', text: word } }));
    }
  }
  events.push(
    event('content_block_stop', { index: 0 }),
    event('message_delta', {
      delta: { stop_reason: stopReason(reply), stop_sequence: null, stop_details: stopDetails(reply) },
      usage: { output_tokens: reply.usage.completionTokens },
    }),
    event('message_stop', {}),
  );
  return events;
}
