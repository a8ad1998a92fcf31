import type { StreamDelta } from '../../activities/providers/model-adapter';
import { gatewayMetadata } from '../gateway-metadata';
import { anthropicErrorBody } from '../http-error';
import { answerAsDeltas, sseEvent, type StreamRenderer } from '../stream-renderer';
import { STOP_REASONS } from './convert-messages';

type OpenBlock = { kind: 'text'; index: number } | { kind: 'tool'; index: number; toolIndex: number };

/**
 * The Messages API's stream events: `message_start`, per content block
 * `content_block_start` / `content_block_delta` (`text_delta` or
 * `input_json_delta`) / `content_block_stop`, then `message_delta` with the
 * stop reason and usage (and the `gateway` block), and `message_stop`.
 */
export function createMessagesStream(options: { requestId: string }): StreamRenderer {
  let started = false;
  let nextBlock = 0;
  let open: OpenBlock | undefined;

  const start = (model: string): string => {
    if (started) return '';
    started = true;
    return sseEvent(
      {
        type: 'message_start',
        message: {
          id: `msg_${options.requestId}`,
          type: 'message',
          role: 'assistant',
          model,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          // Known only at the end; the final counts come in message_delta.
          usage: { input_tokens: 0, output_tokens: 0 },
        },
      },
      'message_start',
    );
  };

  const close = (): string => {
    if (open === undefined) return '';
    const text = sseEvent({ type: 'content_block_stop', index: open.index }, 'content_block_stop');
    open = undefined;
    return text;
  };

  const openBlock = (block: OpenBlock, contentBlock: Record<string, unknown>): string => {
    const text = close() + sseEvent({ type: 'content_block_start', index: block.index, content_block: contentBlock }, 'content_block_start');
    open = block;
    return text;
  };

  const blockDelta = (delta: Record<string, unknown>): string =>
    sseEvent({ type: 'content_block_delta', index: open?.index ?? 0, delta }, 'content_block_delta');

  const piece = (delta: StreamDelta): string => {
    let text = '';
    if (delta.type === 'text') {
      if (open?.kind !== 'text') text += openBlock({ kind: 'text', index: nextBlock++ }, { type: 'text', text: '' });
      return text + blockDelta({ type: 'text_delta', text: delta.text });
    }
    if (open?.kind !== 'tool' || open.toolIndex !== delta.index) {
      text += openBlock(
        { kind: 'tool', index: nextBlock++, toolIndex: delta.index },
        { type: 'tool_use', id: delta.id ?? `toolu_${options.requestId}_${delta.index}`, name: delta.name ?? '', input: {} },
      );
    }
    if (delta.argumentsDelta === '') return text;
    return text + blockDelta({ type: 'input_json_delta', partial_json: delta.argumentsDelta });
  };

  return {
    delta(delta, target) {
      return start(target.model) + piece(delta);
    },

    finish(result, streamed) {
      let text = start(result.model);
      if (!streamed) {
        // Anthropic has no refusal field: a refusal alone is the message's text, as in the unstreamed answer.
        const refusalOnly = !result.text && result.toolCalls.length === 0 && result.refusal !== null;
        text += answerAsDeltas(refusalOnly ? { text: result.refusal, toolCalls: [] } : result).map(piece).join('');
      }
      text += close();
      text += sseEvent(
        {
          type: 'message_delta',
          delta: { stop_reason: STOP_REASONS[result.finishReason.unified], stop_sequence: null },
          usage: { input_tokens: result.usage.inputTokens, output_tokens: result.usage.outputTokens },
          gateway: gatewayMetadata(result),
        },
        'message_delta',
      );
      return text + sseEvent({ type: 'message_stop' }, 'message_stop');
    },

    error(error) {
      return sseEvent(anthropicErrorBody(error), 'error');
    },
  };
}
