import { APIUserAbortError } from '@anthropic-ai/sdk';
import { z } from 'zod';
import type { ModelOutput } from '../../../common/response-schema';
import { MalformedResponseError } from '../classify-http-failure';
import type { StreamDelta } from '../model-adapter';
import { convertResponse, type AnthropicResponseOptions } from './convert-response';

// Lenient on provider output: read only what we use.
const TokenCountSchema = z.number().int().nonnegative().nullish();
const WireUsageSchema = z.object({
  input_tokens: TokenCountSchema,
  output_tokens: TokenCountSchema,
  cache_creation_input_tokens: TokenCountSchema,
  cache_read_input_tokens: TokenCountSchema,
});
type WireUsage = z.infer<typeof WireUsageSchema>;

const WireEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('message_start'), message: z.object({ usage: WireUsageSchema.nullish(), model: z.string().nullish() }) }),
  z.object({
    type: z.literal('content_block_start'),
    index: z.number().int().nonnegative(),
    content_block: z.object({
      type: z.string(),
      text: z.string().nullish(),
      id: z.string().nullish(),
      name: z.string().nullish(),
      input: z.unknown().optional(),
    }),
  }),
  z.object({
    type: z.literal('content_block_delta'),
    index: z.number().int().nonnegative(),
    delta: z.object({ type: z.string(), text: z.string().nullish(), partial_json: z.string().nullish() }),
  }),
  z.object({
    type: z.literal('message_delta'),
    delta: z.object({ stop_reason: z.string().nullish(), stop_details: z.unknown().optional() }),
    usage: WireUsageSchema.nullish(),
  }),
  z.object({ type: z.literal('message_stop') }),
  z.object({ type: z.literal('content_block_stop') }),
  z.object({ type: z.literal('ping') }),
]);

interface PartialBlock {
  type: string;
  text?: string;
  id?: string | null | undefined;
  name?: string | null | undefined;
  input?: unknown;
  /** input_json_delta pieces of a tool_use block, parsed when the stream ends. */
  inputJson?: string;
  /** The tool_use block's place among the answer's tool calls. */
  toolIndex?: number;
}

/**
 * Messages API stream events → `onDelta` calls and, once `message_stop`
 * arrived, the ModelOutput `convertResponse` gives for the same answer: the
 * events are folded back into a message body. A stream that stops before
 * `message_stop` (aborted, or cut cleanly) throws instead of resolving.
 */
export async function convertStream(
  events: AsyncIterable<unknown>,
  onDelta: (delta: StreamDelta) => void,
  signal: AbortSignal,
  requestWarnings: readonly string[] = [],
  options: AnthropicResponseOptions = {},
): Promise<ModelOutput> {
  const blocks = new Map<number, PartialBlock>();
  let toolCount = 0;
  let usage: WireUsage = {};
  let stopReason: string | null = null;
  let stopDetails: unknown = null;
  let model: string | undefined;
  let stopped = false;

  for await (const raw of events) {
    const parsed = WireEventSchema.safeParse(raw);
    if (!parsed.success) {
      // Event types added after this adapter was written carry nothing it reads.
      if (isUnknownEventType(raw)) continue;
      throw new MalformedResponseError(`stream event: ${parsed.error.issues[0]?.message ?? 'unreadable'}`);
    }
    const event = parsed.data;
    switch (event.type) {
      case 'message_start':
        usage = mergeUsage(usage, event.message.usage);
        model = event.message.model ?? undefined;
        break;
      case 'content_block_start': {
        const { type, text, id, name, input } = event.content_block;
        const block: PartialBlock = { type, text: text ?? '', id, name, input };
        if (type === 'tool_use') {
          block.toolIndex = toolCount++;
          block.inputJson = '';
          onDelta({
            type: 'tool_call',
            index: block.toolIndex,
            ...(id ? { id } : {}),
            ...(name ? { name } : {}),
            argumentsDelta: '',
          });
        }
        blocks.set(event.index, block);
        break;
      }
      case 'content_block_delta': {
        const block = blocks.get(event.index);
        if (!block) throw new MalformedResponseError(`stream event: a delta for block ${event.index} before its start`);
        const { text, partial_json: json } = event.delta;
        if (event.delta.type === 'text_delta' && typeof text === 'string') {
          block.text = (block.text ?? '') + text;
          if (text !== '') onDelta({ type: 'text', text });
        } else if (event.delta.type === 'input_json_delta' && typeof json === 'string' && block.toolIndex !== undefined) {
          block.inputJson = (block.inputJson ?? '') + json;
          onDelta({ type: 'tool_call', index: block.toolIndex, argumentsDelta: json });
        }
        break;
      }
      case 'message_delta':
        stopReason = event.delta.stop_reason ?? stopReason;
        stopDetails = event.delta.stop_details ?? stopDetails;
        usage = mergeUsage(usage, event.usage);
        break;
      case 'message_stop':
        stopped = true;
        break;
    }
  }

  // The SDK ends the iteration quietly when the signal aborts it.
  if (signal.aborted) throw new APIUserAbortError();
  if (!stopped) throw new MalformedResponseError('the stream ended before message_stop');

  const warnings = [...requestWarnings];
  if (usage.input_tokens == null || usage.output_tokens == null) {
    warnings.push('the provider reported no token usage; counted 0');
  }
  const content = [...blocks.entries()].sort(([left], [right]) => left - right).map(([, block]) => toWireBlock(block));
  const body = {
    model,
    content,
    stop_reason: stopReason,
    stop_details: stopDetails,
    usage: { ...usage, input_tokens: usage.input_tokens ?? 0, output_tokens: usage.output_tokens ?? 0 },
  };
  return convertResponse(body, warnings, options);
}

/** Later events repeat the counts so far; a null means "not reported here". */
function mergeUsage(current: WireUsage, next: WireUsage | null | undefined): WireUsage {
  if (!next) return current;
  const merged = { ...current };
  for (const key of Object.keys(WireUsageSchema.shape) as (keyof WireUsage)[]) {
    const value = next[key];
    if (value != null) merged[key] = value;
  }
  return merged;
}

function toWireBlock(block: PartialBlock): PartialBlock {
  if (block.type !== 'tool_use' || !block.inputJson) return block;
  try {
    return { ...block, input: JSON.parse(block.inputJson) as unknown };
  } catch {
    throw new MalformedResponseError(`tool call ${block.id ?? block.toolIndex} streamed arguments that are not JSON`);
  }
}

const KNOWN_EVENT_TYPES = new Set<string>(WireEventSchema.options.map((option) => option.shape.type.value));

function isUnknownEventType(raw: unknown): boolean {
  const type = (raw as { type?: unknown } | null)?.type;
  return typeof type === 'string' && !KNOWN_EVENT_TYPES.has(type);
}
