import { z } from 'zod';
import { REQUEST_LIMITS } from '../../common/request-schema';

const text = z.string().max(REQUEST_LIMITS.maxMessageChars);
const cacheControl = z.object({ type: z.literal('ephemeral') }).passthrough().nullable().optional();
const TextBlock = z.object({ type: z.literal('text'), text, cache_control: cacheControl }).strict();
const ImageBlock = z
  .object({
    type: z.literal('image'),
    source: z.discriminatedUnion('type', [
      z.object({ type: z.literal('base64'), media_type: z.string(), data: text }).strict(),
      z.object({ type: z.literal('url'), url: text }).strict(),
    ]),
    cache_control: cacheControl,
  })
  .strict();
const ToolUseBlock = z
  .object({ type: z.literal('tool_use'), id: z.string().min(1), name: z.string().min(1), input: z.unknown(), cache_control: cacheControl })
  .strict();
const ToolResultBlock = z
  .object({
    type: z.literal('tool_result'),
    tool_use_id: z.string().min(1),
    content: z.union([text, z.array(TextBlock)]).optional(),
    is_error: z.boolean().optional(),
    cache_control: cacheControl,
  })
  .strict();

const Tool = z
  .object({
    name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/),
    description: z.string().max(4_000).optional(),
    input_schema: z.record(z.string(), z.unknown()),
    cache_control: cacheControl,
  })
  .strict();

const ToolChoice = z.discriminatedUnion('type', [
  z.object({ type: z.literal('auto'), disable_parallel_tool_use: z.boolean().optional() }).strict(),
  z.object({ type: z.literal('any'), disable_parallel_tool_use: z.boolean().optional() }).strict(),
  z.object({ type: z.literal('none') }).strict(),
  z.object({ type: z.literal('tool'), name: z.string().min(1), disable_parallel_tool_use: z.boolean().optional() }).strict(),
]);

const Message = z.discriminatedUnion('role', [
  z.object({ role: z.literal('user'), content: z.union([text, z.array(z.discriminatedUnion('type', [TextBlock, ImageBlock, ToolResultBlock])).max(256)]) }).strict(),
  z.object({ role: z.literal('assistant'), content: z.union([text, z.array(z.discriminatedUnion('type', [TextBlock, ToolUseBlock])).max(256)]) }).strict(),
]);

/**
 * `POST /v1/messages` body, as the official `@anthropic-ai/sdk` sends it.
 * Strict: an unimplemented field is refused with a 400 that names it.
 */
export const MessagesRequestSchema = z
  .object({
    model: z.string().min(1).max(200),
    max_tokens: z.number().int().positive().max(REQUEST_LIMITS.maxOutputTokens),
    messages: z.array(Message).min(1).max(REQUEST_LIMITS.maxMessages),
    system: z.union([text, z.array(TextBlock)]).optional(),
    tools: z.array(Tool).max(REQUEST_LIMITS.maxTools).optional(),
    tool_choice: ToolChoice.optional(),
    temperature: z.number().min(0).max(1).optional(),
    top_p: z.number().min(0).max(1).optional(),
    stop_sequences: z.array(z.string().min(1)).max(REQUEST_LIMITS.maxStopSequences).optional(),
    metadata: z.object({ user_id: z.string().max(256).nullable().optional() }).strict().optional(),
    stream: z.boolean().optional(),
  })
  .strict()
  .superRefine((body, context) => {
    const problem = toolChoiceProblem(body.tool_choice, body.tools);
    if (problem !== undefined) context.addIssue({ code: 'custom', path: ['tool_choice'], message: problem });
  });
export type MessagesRequest = z.infer<typeof MessagesRequestSchema>;

/**
 * Why `tool_choice` cannot be honoured, as Anthropic refuses it: set without
 * `tools`, or `{type: 'tool'}` naming a tool `tools` does not declare.
 */
function toolChoiceProblem(choice: z.infer<typeof ToolChoice> | undefined, tools: readonly z.infer<typeof Tool>[] | undefined): string | undefined {
  if (choice === undefined) return undefined;
  if (tools === undefined || tools.length === 0) return 'tool_choice may only be specified while providing tools';
  if (choice.type !== 'tool') return undefined;
  const name = choice.name;
  return tools.some((tool) => tool.name === name) ? undefined : `tool '${name}' is not among the tools`;
}
