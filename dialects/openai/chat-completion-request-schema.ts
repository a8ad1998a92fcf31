import { z } from 'zod';
import { callerJsonSchemaProblem } from '../../services/json-schema-validators';
import { JsonSchemaDocumentSchema, jsonSchemaLimitProblem } from '../../common/json-schema-limits';
import { REQUEST_LIMITS } from '../../common/request-schema';

const text = z.string().max(REQUEST_LIMITS.maxMessageChars);
const TextPart = z.object({ type: z.literal('text'), text }).strict();
const ImagePart = z
  .object({
    type: z.literal('image_url'),
    image_url: z.object({ url: text, detail: z.enum(['auto', 'low', 'high']).optional() }).strict(),
  })
  .strict();

const ToolCall = z
  .object({
    id: z.string().min(1),
    type: z.literal('function'),
    function: z.object({ name: z.string().min(1), arguments: z.string() }).strict(),
  })
  .strict();

const name = z.string().max(64).optional();

const Message = z.discriminatedUnion('role', [
  z.object({ role: z.literal('system'), content: z.union([text, z.array(TextPart)]), name }).strict(),
  z.object({ role: z.literal('developer'), content: z.union([text, z.array(TextPart)]), name }).strict(),
  z.object({ role: z.literal('user'), content: z.union([text, z.array(z.discriminatedUnion('type', [TextPart, ImagePart])).max(64)]), name }).strict(),
  z
    .object({
      role: z.literal('assistant'),
      content: z.union([text, z.array(TextPart)]).nullable().optional(),
      tool_calls: z.array(ToolCall).max(REQUEST_LIMITS.maxTools).optional(),
      refusal: z.string().nullable().optional(),
      name,
    })
    .strict(),
  z.object({ role: z.literal('tool'), tool_call_id: z.string().min(1), content: z.union([text, z.array(TextPart)]) }).strict(),
]);

const Tool = z
  .object({
    type: z.literal('function'),
    function: z
      .object({
        name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, 'function names are 1-64 letters, digits, _ or -'),
        description: z.string().max(4_000).optional(),
        parameters: z.record(z.string(), z.unknown()).optional(),
        strict: z.boolean().nullable().optional(),
      })
      .strict(),
  })
  .strict();

const ToolChoice = z.union([
  z.enum(['auto', 'none', 'required']),
  z.object({ type: z.literal('function'), function: z.object({ name: z.string().min(1) }).strict() }).strict(),
]);

const ResponseFormat = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text') }).strict(),
  z.object({ type: z.literal('json_object') }).strict(),
  z
    .object({
      type: z.literal('json_schema'),
      json_schema: z
        .object({
          name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/),
          description: z.string().optional(),
          // Compiled here too: a schema the worker cannot run (a backreference in a pattern) is refused before anything starts.
          schema: JsonSchemaDocumentSchema.superRefine((schema, context) => {
            // A schema past the limits already has its issue; it is never compiled.
            if (jsonSchemaLimitProblem(schema) !== undefined) return;
            const problem = callerJsonSchemaProblem(schema);
            if (problem !== undefined) context.addIssue({ code: 'custom', message: problem });
          }).optional(),
          strict: z.boolean().nullable().optional(),
        })
        .strict(),
    })
    .strict(),
]);

/**
 * `POST /v1/chat/completions` body, as the official OpenAI clients send it.
 * Strict: a field the gateway does not implement is refused with a 400 that
 * names it, never silently dropped.
 */
export const ChatCompletionRequestSchema = z
  .object({
    model: z.string().min(1).max(200),
    messages: z.array(Message).min(1).max(REQUEST_LIMITS.maxMessages),
    tools: z.array(Tool).max(REQUEST_LIMITS.maxTools).optional(),
    tool_choice: ToolChoice.optional(),
    parallel_tool_calls: z.boolean().optional(),
    response_format: ResponseFormat.optional(),
    temperature: z.number().min(0).max(2).nullable().optional(),
    top_p: z.number().min(0).max(1).nullable().optional(),
    max_tokens: z.number().int().positive().max(REQUEST_LIMITS.maxOutputTokens).nullable().optional(),
    max_completion_tokens: z.number().int().positive().max(REQUEST_LIMITS.maxOutputTokens).nullable().optional(),
    stop: z.union([z.string().min(1), z.array(z.string().min(1)).max(REQUEST_LIMITS.maxStopSequences)]).nullable().optional(),
    seed: z.number().int().nullable().optional(),
    user: z.string().max(256).optional(),
    metadata: z.record(z.string().max(64), z.string().max(512)).nullable().optional(),
    n: z.literal(1, { message: 'the gateway returns one choice: n must be 1' }).nullable().optional(),
    stream: z.boolean().nullable().optional(),
    stream_options: z.object({ include_usage: z.boolean().optional() }).strict().nullable().optional(),
  })
  .strict()
  .superRefine((body, context) => {
    const problem = toolChoiceProblem(body.tool_choice, body.tools);
    if (problem !== undefined) context.addIssue({ code: 'custom', path: ['tool_choice'], message: problem });
  });
export type ChatCompletionRequest = z.infer<typeof ChatCompletionRequestSchema>;

/**
 * Why `tool_choice` cannot be honoured, as OpenAI refuses it: set without
 * `tools`, or naming a function `tools` does not declare.
 */
function toolChoiceProblem(
  choice: z.infer<typeof ToolChoice> | undefined,
  tools: readonly z.infer<typeof Tool>[] | undefined,
): string | undefined {
  if (choice === undefined) return undefined;
  if (tools === undefined || tools.length === 0) return "'tool_choice' is only allowed when 'tools' are specified";
  if (typeof choice === 'string') return undefined;
  const name = choice.function.name;
  return tools.some((tool) => tool.function.name === name) ? undefined : `function '${name}' is not among the 'tools'`;
}
