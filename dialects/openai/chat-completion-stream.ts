import type { StreamDelta } from '../../activities/providers/model-adapter';
import { gatewayMetadata } from '../gateway-metadata';
import { openAiErrorBody } from '../http-error';
import { answerAsDeltas, sseEvent, type StreamRenderer } from '../stream-renderer';
import { FINISH_REASONS, toOpenAiUsage } from './convert-chat-completion';

/**
 * `chat.completion.chunk` events as OpenAI sends them: a first chunk with
 * the role, one chunk per piece, a last chunk with the finish reason (and
 * the `gateway` block), a usage chunk when `stream_options.include_usage`
 * asked for it, then `[DONE]`.
 */
export function createChatCompletionStream(options: { requestId: string; includeUsage: boolean }): StreamRenderer {
  const id = `chatcmpl-${options.requestId}`;
  const created = Math.floor(Date.now() / 1000);
  let model = '';
  let started = false;

  const envelope = (fields: Record<string, unknown>) =>
    sseEvent({ id, object: 'chat.completion.chunk', created, model, system_fingerprint: null, ...fields });
  const chunk = (delta: Record<string, unknown>, finishReason: string | null = null, extra: Record<string, unknown> = {}) =>
    envelope({ choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }], ...(options.includeUsage ? { usage: null } : {}), ...extra });

  const start = (modelId: string): string => {
    if (started) return '';
    started = true;
    model = modelId;
    return chunk({ role: 'assistant', content: '', refusal: null });
  };

  const piece = (delta: StreamDelta): string => {
    if (delta.type === 'text') return chunk({ content: delta.text });
    return chunk({
      tool_calls: [
        {
          index: delta.index,
          ...(delta.id === undefined ? {} : { id: delta.id, type: 'function' }),
          function: { ...(delta.name === undefined ? {} : { name: delta.name }), arguments: delta.argumentsDelta },
        },
      ],
    });
  };

  return {
    delta(delta, target) {
      return start(target.model) + piece(delta);
    },

    finish(result, streamed) {
      let text = start(result.model);
      if (!streamed) text += answerAsDeltas(result).map(piece).join('');
      if (result.refusal !== null) text += chunk({ refusal: result.refusal });
      text += chunk({}, FINISH_REASONS[result.finishReason.unified], { gateway: gatewayMetadata(result) });
      if (options.includeUsage) {
        text += envelope({ choices: [], usage: toOpenAiUsage(result.usage) });
      }
      return `${text}data: [DONE]\n\n`;
    },

    error(error) {
      return sseEvent(openAiErrorBody(error));
    },
  };
}
