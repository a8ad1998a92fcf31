import { APIUserAbortError } from 'openai';
import { z } from 'zod';
import type { ModelOutput } from '../../../common/response-schema';
import { MalformedResponseError } from '../classify-http-failure';
import type { StreamDelta } from '../model-adapter';
import { convertResponse } from './convert-response';

// Lenient on provider output: read only what we use.
const WireChunkSchema = z.object({
  choices: z
    .array(
      z.object({
        index: z.number().int().nullish(),
        finish_reason: z.string().nullish(),
        delta: z
          .object({
            content: z.string().nullish(),
            refusal: z.string().nullish(),
            tool_calls: z
              .array(
                z.object({
                  index: z.number().int().nonnegative(),
                  id: z.string().nullish(),
                  type: z.string().nullish(),
                  function: z.object({ name: z.string().nullish(), arguments: z.string().nullish() }).nullish(),
                }),
              )
              .nullish(),
          })
          .nullish(),
      }),
    )
    .nullish(),
  usage: z.unknown().optional(),
  model: z.string().nullish(),
});

interface PartialToolCall {
  id: string | undefined;
  type: string | undefined;
  name: string;
  arguments: string;
}

/**
 * Chat Completions stream chunks → `onDelta` calls and, once the stream has
 * ended, the ModelOutput `convertResponse` gives for the same answer: the
 * chunks are folded back into a completion body. A stream that stops before
 * a finish reason (aborted, or cut cleanly) throws instead of resolving.
 */
export async function convertStream(
  chunks: AsyncIterable<unknown>,
  onDelta: (delta: StreamDelta) => void,
  signal: AbortSignal,
  requestWarnings: readonly string[] = [],
): Promise<ModelOutput> {
  let content: string | null = null;
  let refusal: string | null = null;
  let finishReason: string | undefined;
  let usage: unknown;
  let model: string | undefined;
  const toolCalls = new Map<number, PartialToolCall>();

  for await (const raw of chunks) {
    const parsed = WireChunkSchema.safeParse(raw);
    if (!parsed.success) throw new MalformedResponseError(`stream chunk: ${parsed.error.issues[0]?.message ?? 'unreadable'}`);
    const chunk = parsed.data;
    // With include_usage, the last chunk carries usage and no choices.
    if (chunk.usage != null) usage = chunk.usage;
    if (chunk.model) model = chunk.model;
    const choice = chunk.choices?.find((candidate) => (candidate.index ?? 0) === 0);
    if (!choice) continue;
    const delta = choice.delta;
    if (typeof delta?.content === 'string') {
      content = (content ?? '') + delta.content;
      if (delta.content !== '') onDelta({ type: 'text', text: delta.content });
    }
    if (typeof delta?.refusal === 'string') refusal = (refusal ?? '') + delta.refusal;
    for (const piece of delta?.tool_calls ?? []) {
      const call = toolCalls.get(piece.index) ?? { id: undefined, type: undefined, name: '', arguments: '' };
      toolCalls.set(piece.index, call);
      const name = piece.function?.name ?? undefined;
      const argumentsDelta = piece.function?.arguments ?? '';
      if (piece.id) call.id = piece.id;
      if (piece.type) call.type = piece.type;
      if (name) call.name = name;
      call.arguments += argumentsDelta;
      if (!piece.id && !name && argumentsDelta === '') continue;
      onDelta({
        type: 'tool_call',
        index: piece.index,
        ...(piece.id ? { id: piece.id } : {}),
        ...(name ? { name } : {}),
        argumentsDelta,
      });
    }
    if (choice.finish_reason) finishReason = choice.finish_reason;
  }

  // The SDK ends the iteration quietly when the signal aborts it.
  if (signal.aborted) throw new APIUserAbortError();
  if (finishReason === undefined) throw new MalformedResponseError('the stream ended before a finish reason');

  const orderedCalls = [...toolCalls.entries()].sort(([left], [right]) => left - right).map(([, call]) => call);
  const body = {
    choices: [
      {
        finish_reason: finishReason,
        message: {
          content,
          refusal,
          tool_calls: orderedCalls.map((call) => ({
            id: call.id ?? null,
            type: call.type ?? 'function',
            function: { name: call.name, arguments: call.arguments },
          })),
        },
      },
    ],
    usage,
    model,
  };
  return convertResponse(body, requestWarnings);
}
