import { z } from 'zod';
import { MessageSchema, OutputFormatSchema, ToolSchema } from './request-schema';

/** One check of a model's answer. */
export const EvalCheckSchema = z.discriminatedUnion('type', [
  /** The answer's text, trimmed, equals `value` (case-insensitive unless `caseSensitive`). */
  z.object({ type: z.literal('exact'), value: z.string(), caseSensitive: z.boolean().default(false) }).strict(),
  /** The answer's text matches `pattern` (JavaScript syntax, `flags` such as `i`). */
  z.object({ type: z.literal('regex'), pattern: z.string().min(1), flags: z.string().regex(/^[imsu]*$/).default('') }).strict(),
  /** The answer is JSON valid against `schema` (default: the case's own `output` schema). */
  z.object({ type: z.literal('json_schema'), schema: z.record(z.string(), z.unknown()).optional() }).strict(),
  /** The model calls tool `name`, its arguments matching `arguments` (a regex over the JSON) if given. */
  z.object({ type: z.literal('tool_call'), name: z.string().min(1), arguments: z.string().optional() }).strict(),
  /** The model refuses (`expected: true`) or answers (`false`). */
  z.object({ type: z.literal('refusal'), expected: z.boolean() }).strict(),
]);
export type EvalCheck = z.infer<typeof EvalCheckSchema>;

/** One line of an eval set (`evals/<task class>.jsonl`): an input in the gateway's canonical shape and its checks. */
export const EvalCaseSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,63}$/, 'ids are lowercase letters, digits, _ . or -'),
    messages: z.array(MessageSchema).min(1).max(64),
    tools: z.array(ToolSchema).max(16).optional(),
    output: OutputFormatSchema.optional(),
    maxTokens: z.number().int().positive().max(4_096).optional(),
    checks: z.array(EvalCheckSchema).min(1).max(8),
  })
  .strict();
export type EvalCase = z.infer<typeof EvalCaseSchema>;
export type EvalCaseInput = z.input<typeof EvalCaseSchema>;

/** What one model scored on one task class's set in one run. */
export interface ModelScore {
  model: string;
  taskClass: string;
  cases: number;
  passed: number;
  /** passed / cases, in [0, 1]: the quality term routing uses. */
  passRate: number;
  /** The pass rate of the run before this one, as the scores board kept it (absent on a model's first run). */
  previousPassRate?: number;
  /** Median latency of the answered cases. */
  latencyMsP50: number | null;
  costUsd: number;
  /** Cost over passing answers (null when none passed). */
  costPerPassUsd: number | null;
  /** Epoch ms the run started. */
  runAt: number;
  /** The eval workflow that measured it. */
  workflowId: string;
  /** Why cases failed, one line per failed case (the first few). */
  failures: string[];
}
