import { z } from 'zod';
import type { MockRequest, MockTool } from './deterministic-reply';
import { messageText } from './message-text';
import { firstIssue } from './request-edge';

/**
 * The parts of a Chat Completions request the mock reads. Lenient like the
 * real API about fields it does not use; strict about the ones it needs.
 */
const ChatCompletionRequestSchema = z.looseObject({
  model: z.string().min(1),
  messages: z.array(z.looseObject({ role: z.string().min(1), content: z.unknown().optional() })).min(1),
  stream: z.boolean().nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().nullish() }).nullish(),
  max_tokens: z.number().int().min(1).nullish(),
  max_completion_tokens: z.number().int().min(1).nullish(),
  tools: z
    .array(
      z.looseObject({
        type: z.string(),
        function: z.looseObject({ name: z.string().min(1), parameters: z.unknown().optional() }).optional(),
      }),
    )
    .nullish(),
  tool_choice: z.unknown().optional(),
  response_format: z
    .looseObject({
      type: z.enum(['text', 'json_object', 'json_schema']),
      json_schema: z.looseObject({ name: z.string().optional(), schema: z.unknown().optional() }).optional(),
    })
    .nullish(),
});

/** A parsed Chat Completions request: the neutral request plus how to stream it. */
export interface ParsedChatCompletion {
  request: MockRequest;
  stream: boolean;
  includeUsage: boolean;
}

export type ChatCompletionParse =
  { ok: true; parsed: ParsedChatCompletion } | { ok: false; param: string; message: string };

/** Reads a Chat Completions body into the neutral request the reply is computed from. */
export function parseChatCompletionRequest(body: unknown): ChatCompletionParse {
  const result = ChatCompletionRequestSchema.safeParse(body);
  if (!result.success) {
    const issue = firstIssue(result.error);
    const message = issue.missing
      ? `Missing required parameter: '${issue.param}'.`
      : `Invalid '${issue.param}': ${issue.detail}.`;
    return { ok: false, param: issue.param, message };
  }
  const input = result.data;

  const last = input.messages.at(-1);
  const lastUser = [...input.messages].reverse().find((message) => message.role === 'user');
  const lastTurn =
    last?.role === 'user' ? 'user' : last?.role === 'tool' || last?.role === 'function' ? 'tool_result' : 'other';
  const choice = input.tool_choice;
  const tools: MockTool[] =
    choice === 'none'
      ? []
      : (input.tools ?? []).flatMap((tool) =>
          tool.type === 'function' && tool.function !== undefined
            ? [{ name: tool.function.name, parameters: tool.function.parameters ?? {} }]
            : [],
        );
  const format = input.response_format;

  return {
    ok: true,
    parsed: {
      request: {
        model: input.model,
        lastUserText: messageText(lastUser?.content),
        lastTurn,
        toolResultText: lastTurn === 'tool_result' ? messageText(last?.content) : '',
        tools,
        forcedToolName: forcedToolName(choice),
        output:
          format?.type === 'json_schema'
            ? { type: 'json_schema', schema: format.json_schema?.schema ?? {} }
            : format?.type === 'json_object'
              ? { type: 'json_object' }
              : { type: 'text' },
        maxTokens: input.max_completion_tokens ?? input.max_tokens ?? undefined,
        promptChars: input.messages.reduce((sum, message) => sum + messageText(message.content).length, 0),
      },
      stream: input.stream === true,
      includeUsage: input.stream_options?.include_usage === true,
    },
  };
}

/** The function named by `tool_choice: {type: "function", function: {name}}`, if any. */
function forcedToolName(choice: unknown): string | undefined {
  const parsed = z.object({ function: z.object({ name: z.string() }) }).safeParse(choice);
  return parsed.success ? parsed.data.function.name : undefined;
}
