import { z } from 'zod';
import type { ToolCall } from '../../../common/request-schema';
import type { FinishReason, ModelOutput } from '../../../common/response-schema';
import { MalformedResponseError } from '../classify-http-failure';

// Lenient on provider output: read only what we use.
const WireBlockSchema = z.object({
  type: z.string(),
  text: z.string().nullish(),
  id: z.string().nullish(),
  name: z.string().nullish(),
  input: z.unknown().optional(),
});

const WireMessageSchema = z.object({
  model: z.string().nullish(),
  content: z.array(WireBlockSchema),
  stop_reason: z.string().nullish(),
  stop_details: z.object({ explanation: z.string().nullish() }).nullish(),
  usage: z.object({
    input_tokens: z.number().int().nonnegative(),
    output_tokens: z.number().int().nonnegative(),
    cache_creation_input_tokens: z.number().int().nonnegative().nullish(),
    cache_read_input_tokens: z.number().int().nonnegative().nullish(),
  }),
});

/** Blocks that carry no answer of their own (reasoning), dropped without a warning. */
const SILENT_BLOCK_TYPES = new Set(['thinking', 'redacted_thinking']);

export interface AnthropicResponseOptions {
  /** JSON output was asked for: a Markdown fence around it is removed. */
  expectJson?: boolean;
}

/**
 * A Messages API body → ModelOutput. Throws MalformedResponseError when the
 * body is not a message (the classifier makes that retryable).
 */
export function convertResponse(
  body: unknown,
  requestWarnings: readonly string[] = [],
  options: AnthropicResponseOptions = {},
): ModelOutput {
  const parsed = WireMessageSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new MalformedResponseError(issue ? `${issue.path.join('.') || 'body'}: ${issue.message}` : 'unreadable body');
  }
  const warnings = [...requestWarnings];
  const message = parsed.data;

  const texts: string[] = [];
  const toolCalls: ToolCall[] = [];
  for (const block of message.content) {
    if (block.type === 'text' && typeof block.text === 'string') {
      texts.push(block.text);
    } else if (block.type === 'tool_use' && block.id && block.name) {
      toolCalls.push({ id: block.id, name: block.name, arguments: JSON.stringify(block.input ?? {}) });
    } else if (!SILENT_BLOCK_TYPES.has(block.type)) {
      warnings.push(`ignored a content block of type "${block.type}"`);
    }
  }

  let text = texts.length > 0 ? texts.join('') : null;
  if (text !== null && options.expectJson) {
    const unfenced = stripJsonFence(text);
    if (unfenced !== text) warnings.push('removed a Markdown code fence around the JSON answer');
    text = unfenced;
  }

  const rawStop = message.stop_reason ?? null;
  const refusal = rawStop === 'refusal' ? (message.stop_details?.explanation ?? text ?? 'The model declined to answer.') : null;
  const { usage } = message;

  return {
    text,
    toolCalls,
    finishReason: mapStopReason(rawStop),
    refusal,
    usage: {
      // Anthropic counts cached prompt tokens apart; all of them are input.
      inputTokens:
        usage.input_tokens + (usage.cache_creation_input_tokens ?? 0) + (usage.cache_read_input_tokens ?? 0),
      outputTokens: usage.output_tokens,
    },
    warnings,
    ...(message.model ? { responseModel: message.model } : {}),
  };
}

export function mapStopReason(raw: string | null): FinishReason {
  switch (raw) {
    case 'end_turn':
    case 'stop_sequence':
      return { unified: 'stop', raw };
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return { unified: 'length', raw };
    case 'tool_use':
      return { unified: 'tool_calls', raw };
    case 'refusal':
      return { unified: 'content_filter', raw };
    default: // pause_turn, null, anything newer
      return { unified: 'other', raw };
  }
}

const JSON_FENCE = /^\s*```(?:json)?\s*\n([\s\S]*?)\n?```\s*$/i;

function stripJsonFence(text: string): string {
  const fenced = JSON_FENCE.exec(text);
  return fenced?.[1] !== undefined ? fenced[1] : text;
}
