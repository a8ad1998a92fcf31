// Runs in the workflow sandbox: deterministic, no I/O.
import { z } from 'zod';
import { FAILURE_TYPES } from './failure-types';
import { ToolCallSchema } from './request-schema';

export const UNIFIED_FINISH_REASONS = ['stop', 'length', 'tool_calls', 'content_filter', 'other'] as const;

/** Normalized finish reason plus the vendor's raw value. */
export const FinishReasonSchema = z.object({
  unified: z.enum(UNIFIED_FINISH_REASONS),
  raw: z.string().nullable(),
});
export type FinishReason = z.infer<typeof FinishReasonSchema>;

export const UsageSchema = z.object({
  inputTokens: z.number().int().nonnegative(),
  outputTokens: z.number().int().nonnegative(),
});
export type Usage = z.infer<typeof UsageSchema>;

/** What one provider adapter returns for one successful call. */
export const ModelOutputSchema = z.object({
  text: z.string().nullable(),
  toolCalls: z.array(ToolCallSchema),
  finishReason: FinishReasonSchema,
  refusal: z.string().nullable(),
  usage: UsageSchema,
  /** Settings the provider could not honour, never silently dropped. */
  warnings: z.array(z.string()),
  /** The model the provider says answered (its `model` field), when it says. */
  responseModel: z.string().max(200).optional(),
});
export type ModelOutput = z.infer<typeof ModelOutputSchema>;

/** One model's turn in the chain, as shown to callers and ops. */
export const AttemptSchema = z.object({
  /** 1-based place in the chain. */
  position: z.number().int().positive(),
  provider: z.string(),
  model: z.string(),
  outcome: z.enum(['success', 'failed', 'skipped']),
  failureType: z.enum(FAILURE_TYPES).optional(),
  message: z.string().optional(),
  /** Activity attempts Temporal made for this model (retries included). */
  tries: z.number().int().nonnegative(),
  durationMs: z.number().nonnegative(),
  /** Tokens the provider reported for this model's tries (billed even when the output was then refused). */
  usage: UsageSchema.optional(),
  /** `usage` at the model's configured prices (USD). */
  costUsd: z.number().nonnegative().optional(),
});
export type Attempt = z.infer<typeof AttemptSchema>;

/** What the response cache did: answered (`hit`), was asked and had nothing (`miss`), stood in for failed models (`stale`), or was not used (`bypass`). */
export const CACHE_STATES = ['hit', 'miss', 'stale', 'bypass'] as const;
export type CacheState = (typeof CACHE_STATES)[number];

/** An answer as the response cache keeps it. */
export interface CachedAnswer {
  output: ModelOutput;
  model: string;
  provider: string;
  /** Epoch ms the answer was stored. */
  storedAt: number;
}

export const OUTCOMES = ['success', 'fallback_answer'] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** The route decision as a caller sees it: why these models, in this order, and who was left out. */
export const RouteSummarySchema = z.object({
  resolvedFrom: z.string(),
  strategy: z.enum(['ordered', 'scored']),
  taskClass: z.string().optional(),
  criticality: z.string().optional(),
  sensitivity: z.string().optional(),
  promptTokens: z.number().optional(),
  /** Kinds of personal or secret data found (counts); never the data. */
  findings: z.record(z.string(), z.number()).optional(),
  /** Budgets the request counts against: what they had left and what routing did about it. */
  budgets: z
    .array(
      z.object({
        name: z.string(),
        availableUsd: z.number(),
        limitUsd: z.number(),
        action: z.enum(['ok', 'cheaper_first', 'refuse']),
      }),
    )
    .optional(),
  candidates: z.array(
    z.object({
      model: z.string(),
      provider: z.string(),
      score: z.number().optional(),
      estimatedCostUsd: z.number().optional(),
      redacted: z.boolean().optional(),
    }),
  ),
  rejected: z.array(z.object({ model: z.string(), reason: z.string() })),
});
export type RouteSummary = z.infer<typeof RouteSummarySchema>;

/** The gateway's one response shape: the workflow's result. */
export const CanonicalResponseSchema = z.object({
  requestId: z.string(),
  workflowId: z.string(),
  /** Configured model id that answered, or `fallback` for the deterministic answer. */
  model: z.string(),
  provider: z.string(),
  outcome: z.enum(OUTCOMES),
  text: z.string().nullable(),
  toolCalls: z.array(ToolCallSchema),
  finishReason: FinishReasonSchema,
  refusal: z.string().nullable(),
  usage: UsageSchema,
  /** What the request cost: every attempt's reported usage at its model's prices, failed attempts included (USD). */
  costUsd: z.number().nonnegative().optional(),
  /** Models that failed before the answer (0 when the first answered). */
  /** What the response cache did (absent: the cache is off). */
  cache: z.enum(CACHE_STATES).optional(),
  fallbacks: z.number().int().nonnegative(),
  attempts: z.array(AttemptSchema),
  configVersion: z.string(),
  /** The route decision (absent in responses of workflows recorded before it existed). */
  route: RouteSummarySchema.optional(),
  warnings: z.array(z.string()),
  /** ISO time the workflow created the response. */
  createdAt: z.string(),
});
export type CanonicalResponse = z.infer<typeof CanonicalResponseSchema>;
