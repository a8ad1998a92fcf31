// Runs in the workflow sandbox: deterministic, no I/O.
import { z } from 'zod';
import { CAPABILITIES } from './config-schema';
import { JsonSchemaDocumentSchema } from './json-schema-limits';

/** Upper bounds on every input, so no request can exhaust memory or history. */
export const REQUEST_LIMITS = {
  maxMessages: 512,
  maxMessageChars: 400_000,
  maxTools: 128,
  maxOutputTokens: 128_000,
  maxStopSequences: 4,
  maxTimeoutMs: 15 * 60_000,
} as const;

export const ToolCallSchema = z.object({
  id: z.string().min(1),
  name: z.string().min(1),
  /** JSON-encoded arguments, exactly as the model produced them. */
  arguments: z.string(),
});
export type ToolCall = z.infer<typeof ToolCallSchema>;

const TextPartSchema = z.object({ type: z.literal('text'), text: z.string().max(REQUEST_LIMITS.maxMessageChars) });
const ImagePartSchema = z.object({ type: z.literal('image_url'), url: z.string().max(REQUEST_LIMITS.maxMessageChars) });
export const ContentPartSchema = z.discriminatedUnion('type', [TextPartSchema, ImagePartSchema]);
export type ContentPart = z.infer<typeof ContentPartSchema>;

const ContentSchema = z.union([z.string().max(REQUEST_LIMITS.maxMessageChars), z.array(ContentPartSchema).max(64)]);

export const MessageSchema = z.discriminatedUnion('role', [
  z.object({ role: z.literal('system'), content: z.string().max(REQUEST_LIMITS.maxMessageChars) }),
  z.object({ role: z.literal('user'), content: ContentSchema }),
  z.object({
    role: z.literal('assistant'),
    content: z.string().max(REQUEST_LIMITS.maxMessageChars).nullable(),
    toolCalls: z.array(ToolCallSchema).max(REQUEST_LIMITS.maxTools).optional(),
  }),
  z.object({ role: z.literal('tool'), toolCallId: z.string().min(1), content: z.string().max(REQUEST_LIMITS.maxMessageChars) }),
]);
export type Message = z.infer<typeof MessageSchema>;

export const ToolSchema = z.object({
  name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, 'tool names are 1-64 letters, digits, _ or -'),
  description: z.string().max(4_000).optional(),
  /** JSON Schema of the tool's arguments. */
  parameters: z.record(z.string(), z.unknown()),
});
export type Tool = z.infer<typeof ToolSchema>;

export const ToolChoiceSchema = z.union([
  z.enum(['auto', 'none', 'required']),
  z.object({ name: z.string().min(1) }),
]);
export type ToolChoice = z.infer<typeof ToolChoiceSchema>;

export const OutputFormatSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text') }),
  z.object({ type: z.literal('json_object') }),
  z.object({
    type: z.literal('json_schema'),
    name: z.string().min(1).max(64),
    schema: JsonSchemaDocumentSchema,
    strict: z.boolean().optional(),
  }),
]);
export type OutputFormat = z.infer<typeof OutputFormatSchema>;

export const SamplingSchema = z.object({
  temperature: z.number().min(0).max(2).optional(),
  topP: z.number().min(0).max(1).optional(),
  maxTokens: z.number().int().positive().max(REQUEST_LIMITS.maxOutputTokens).optional(),
  stop: z.array(z.string().min(1)).max(REQUEST_LIMITS.maxStopSequences).optional(),
  seed: z.number().int().optional(),
});
export type Sampling = z.infer<typeof SamplingSchema>;

/** Routing tags: what the request is, not which vendor it wants. */
export const PolicyTagsSchema = z.object({
  taskClass: z.string().min(1).max(64).optional(),
  sensitivity: z.string().min(1).max(64).optional(),
  criticality: z.string().min(1).max(64).optional(),
  /** Models whose observed latency is over this are skipped. */
  latencyBudgetMs: z.number().int().positive().max(REQUEST_LIMITS.maxTimeoutMs).optional(),
  /** Models whose worst-case cost for this request is over this (USD) are skipped. */
  costCeilingUsd: z.number().positive().max(1_000).optional(),
  /** Capabilities the caller needs beyond what the request itself implies (tools, output format, images, streaming). */
  capabilities: z.array(z.enum(CAPABILITIES)).max(CAPABILITIES.length).optional(),
  /** A business feature, for budgets and spend reports. */
  feature: z.string().min(1).max(64).optional(),
  /** `bypass`: neither read nor write the response cache; `allow`: cache even with temperature above 0. */
  cache: z.enum(['bypass', 'allow']).optional(),
});
export type PolicyTags = z.infer<typeof PolicyTagsSchema>;

/** The gateway's one request shape; every API dialect converts to it. */
export const CanonicalRequestSchema = z.object({
  requestId: z.string().min(1).max(200),
  tenantId: z.string().min(1).max(128),
  /** A configured model id or a route name (for example `default`). */
  model: z.string().min(1).max(200),
  messages: z.array(MessageSchema).min(1).max(REQUEST_LIMITS.maxMessages),
  tools: z.array(ToolSchema).max(REQUEST_LIMITS.maxTools).optional(),
  toolChoice: ToolChoiceSchema.optional(),
  output: OutputFormatSchema.optional(),
  sampling: SamplingSchema.default({}),
  tags: PolicyTagsSchema.default({}),
  /** Caller's end-user id, passed through to providers that take one. */
  user: z.string().max(256).optional(),
  /** Overall deadline for the whole chain, fallbacks included. */
  timeoutMs: z.number().int().positive().max(REQUEST_LIMITS.maxTimeoutMs).optional(),
});
export type CanonicalRequest = z.infer<typeof CanonicalRequestSchema>;
export type CanonicalRequestInput = z.input<typeof CanonicalRequestSchema>;
