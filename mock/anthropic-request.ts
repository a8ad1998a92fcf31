import { z } from 'zod';
import type { MockRequest, MockTool } from './deterministic-reply';
import { messageText } from './message-text';
import { firstIssue } from './request-edge';

const BlockSchema = z.looseObject({ type: z.string() });

/**
 * The parts of a Messages request the mock reads. Like the real API it
 * requires `max_tokens`; fields it does not use pass through unchecked.
 */
const MessagesRequestSchema = z.looseObject({
  model: z.string().min(1),
  max_tokens: z.number().int().min(1),
  messages: z
    .array(z.looseObject({ role: z.enum(['user', 'assistant']), content: z.union([z.string(), z.array(BlockSchema)]) }))
    .min(1),
  system: z.union([z.string(), z.array(BlockSchema)]).optional(),
  stream: z.boolean().optional(),
  tools: z.array(z.looseObject({ name: z.string().min(1), input_schema: z.unknown().optional() })).optional(),
  tool_choice: z.looseObject({ type: z.enum(['auto', 'any', 'tool', 'none']), name: z.string().optional() }).optional(),
  output_config: z
    .looseObject({ format: z.looseObject({ type: z.literal('json_schema'), schema: z.unknown() }).nullish() })
    .nullish(),
});

type Content = string | Array<z.infer<typeof BlockSchema>>;

/** A parsed Messages request: the neutral request plus whether to stream. */
export interface ParsedMessages {
  request: MockRequest;
  stream: boolean;
}

export type MessagesParse = { ok: true; parsed: ParsedMessages } | { ok: false; param: string; message: string };

/** The tool_result blocks of a user message (`toolResults: true`), or everything else in it. */
function selectToolResults(content: Content, toolResults: boolean): Content {
  if (typeof content === 'string') return toolResults ? '' : content;
  return content.filter((block) => (block.type === 'tool_result') === toolResults);
}

/** Reads a Messages body into the neutral request the reply is computed from. */
export function parseMessagesRequest(body: unknown): MessagesParse {
  const result = MessagesRequestSchema.safeParse(body);
  if (!result.success) {
    const issue = firstIssue(result.error);
    const message = issue.missing ? `${issue.param}: Field required` : `${issue.param}: ${issue.detail}`;
    return { ok: false, param: issue.param, message };
  }
  const input = result.data;

  const last = input.messages.at(-1);
  const lastUser = [...input.messages].reverse().find((message) => message.role === 'user');
  // Anthropic sends tool results inside a user message, as tool_result blocks.
  const endsWithToolResult =
    last?.role === 'user' &&
    typeof last.content !== 'string' &&
    last.content.some((block) => block.type === 'tool_result');
  const lastTurn = last?.role !== 'user' ? 'other' : endsWithToolResult ? 'tool_result' : 'user';
  // Server tools (web search and the like) have no input_schema; the mock only calls client tools.
  const tools: MockTool[] =
    input.tool_choice?.type === 'none'
      ? []
      : (input.tools ?? []).flatMap((tool) =>
          tool.input_schema === undefined ? [] : [{ name: tool.name, parameters: tool.input_schema }],
        );
  const schema = input.output_config?.format?.schema;
  const systemChars = messageText(input.system ?? '').length;

  return {
    ok: true,
    parsed: {
      request: {
        model: input.model,
        lastUserText: lastUser === undefined ? '' : messageText(selectToolResults(lastUser.content, false)),
        lastTurn,
        toolResultText:
          last !== undefined && endsWithToolResult ? messageText(selectToolResults(last.content, true)) : '',
        tools,
        forcedToolName: input.tool_choice?.type === 'tool' ? input.tool_choice.name : undefined,
        output: schema === undefined ? { type: 'text' } : { type: 'json_schema', schema },
        maxTokens: input.max_tokens,
        promptChars: input.messages.reduce((sum, message) => sum + messageText(message.content).length, systemChars),
      },
      stream: input.stream === true,
    },
  };
}
