import type { StreamDelta } from '../activities/providers/model-adapter';
import type { CanonicalResponse } from '../common/response-schema';
import type { CallModelInput } from '../common/routing-snapshot-schema';
import type { HttpError } from './http-error';

/**
 * One dialect's server-sent events for one streamed request. Each method
 * returns the SSE text to write (possibly several events, possibly none).
 */
export interface StreamRenderer {
  /** A piece of the answer as the model produced it. */
  delta(delta: StreamDelta, target: CallModelInput): string;
  /**
   * The end of a successful stream. When no piece was streamed (the
   * deterministic fallback answered, or an idempotent retry attached to a
   * finished request), the whole answer is sent here first.
   */
  finish(result: CanonicalResponse, streamed: boolean): string;
  /** The end of a failed stream: an explicit error event, never a clean close. */
  error(error: HttpError): string;
}

/** One SSE event; `event` names it in dialects that name events. */
export function sseEvent(data: unknown, event?: string): string {
  return `${event === undefined ? '' : `event: ${event}\n`}data: ${JSON.stringify(data)}\n\n`;
}

/** A finished answer as the pieces a stream would have carried: its text, then each tool call whole. */
export function answerAsDeltas(result: Pick<CanonicalResponse, 'text' | 'toolCalls'>): StreamDelta[] {
  return [
    ...(result.text ? [{ type: 'text' as const, text: result.text }] : []),
    ...result.toolCalls.map((call, index) => ({
      type: 'tool_call' as const,
      index,
      id: call.id,
      name: call.name,
      argumentsDelta: call.arguments,
    })),
  ];
}
