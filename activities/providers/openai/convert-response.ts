import { z } from 'zod';
import type { ToolCall } from '../../../common/request-schema';
import type { FinishReason, ModelOutput } from '../../../common/response-schema';
import { MalformedResponseError } from '../classify-http-failure';

// Lenient on provider output: read only what we use, tolerate what
// OpenAI-compatible servers leave out (ids, usage) or shape differently.
const WireToolCallSchema = z.object({
  id: z.string().nullish(),
  type: z.string().nullish(),
  function: z
    .object({
      name: z.string(),
      arguments: z.union([z.string(), z.record(z.string(), z.unknown())]).nullish(),
    })
    .nullish(),
});

const WireCompletionSchema = z.object({
  model: z.string().nullish(),
  choices: z
    .array(
      z.object({
        finish_reason: z.string().nullish(),
        message: z.object({
          content: z.string().nullish(),
          refusal: z.string().nullish(),
          tool_calls: z.array(WireToolCallSchema).nullish(),
        }),
      }),
    ),
  usage: z
    .object({
      prompt_tokens: z.number().int().nonnegative().nullish(),
      completion_tokens: z.number().int().nonnegative().nullish(),
    })
    .nullish(),
});

/**
 * A Chat Completions body → ModelOutput. Throws MalformedResponseError when
 * the body has no usable choice (the classifier makes that retryable).
 */
export function convertResponse(body: unknown, requestWarnings: readonly string[] = []): ModelOutput {
  const parsed = WireCompletionSchema.safeParse(body);
  if (!parsed.success) throw new MalformedResponseError(describeIssue(parsed.error));
  const warnings = [...requestWarnings];
  const { choices, usage } = parsed.data;
  const choice = choices[0];
  if (!choice) throw new MalformedResponseError('choices: empty');
  const { message } = choice;

  const toolCalls: ToolCall[] = [];
  (message.tool_calls ?? []).forEach((call, index) => {
    if (!call.function || (call.type && call.type !== 'function')) {
      warnings.push(`ignored a tool call of type "${call.type ?? 'unknown'}"`);
      return;
    }
    const { name, arguments: args } = call.function;
    if (!call.id) warnings.push(`tool call "${name}" had no id; used call_${index}`);
    toolCalls.push({
      id: call.id || `call_${index}`,
      name,
      arguments: typeof args === 'string' ? args : JSON.stringify(args ?? {}),
    });
  });

  const refusal = message.refusal ?? null;
  const inputTokens = usage?.prompt_tokens;
  const outputTokens = usage?.completion_tokens;
  if (inputTokens == null || outputTokens == null) warnings.push('the provider reported no token usage; counted 0');

  return {
    text: message.content ?? null,
    toolCalls,
    finishReason: mapFinishReason(choice.finish_reason ?? null, refusal !== null),
    refusal,
    usage: { inputTokens: inputTokens ?? 0, outputTokens: outputTokens ?? 0 },
    warnings,
    ...(parsed.data.model ? { responseModel: parsed.data.model } : {}),
  };
}

/**
 * OpenAI reports a refusal with finish_reason `stop` and a `refusal` text;
 * it is normalized to `content_filter` so every vendor's refusal looks alike.
 */
export function mapFinishReason(raw: string | null, refused: boolean): FinishReason {
  if (refused) return { unified: 'content_filter', raw };
  switch (raw) {
    case 'stop':
      return { unified: 'stop', raw };
    case 'length':
      return { unified: 'length', raw };
    case 'tool_calls':
    case 'function_call':
      return { unified: 'tool_calls', raw };
    case 'content_filter':
      return { unified: 'content_filter', raw };
    default:
      return { unified: 'other', raw };
  }
}

function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'unreadable body';
  const path = issue.path.length > 0 ? issue.path.join('.') : 'body';
  return `${path}: ${issue.message}`;
}
