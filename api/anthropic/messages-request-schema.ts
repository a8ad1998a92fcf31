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
    tools: z
      .array(
        z
          .object({
            name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/),
            description: z.string().max(4_000).optional(),
            input_schema: z.record(z.string(), z.unknown()),
            cache_control: cacheControl,
          })
          .strict(),
      )
      .max(REQUEST_LIMITS.maxTools)
      .optional(),
    tool_choice: z
      .discriminatedUnion('type', [
        z.object({ type: z.literal('auto'), disable_parallel_tool_use: z.boolean().optional() }).strict(),
        z.object({ type: z.literal('any'), disable_parallel_tool_use: z.boolean().optional() }).strict(),
        z.object({ type: z.literal('none') }).strict(),
        z.object({ type: z.literal('tool'), name: z.string().min(1), disable_parallel_tool_use: z.boolean().optional() }).strict(),
      ])
      .optional(),
    temperature: z.number().min(0).max(1).optional(),
    top_p: z.number().min(0).max(1).optional(),
    stop_sequences: z.array(z.string().min(1)).max(REQUEST_LIMITS.maxStopSequences).optional(),
    metadata: z.object({ user_id: z.string().max(256).nullable().optional() }).strict().optional(),
    stream: z.boolean().optional(),
  })
  .strict();
export type MessagesRequest = z.infer<typeof MessagesRequestSchema>;
