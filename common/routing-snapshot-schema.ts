// Runs in the workflow sandbox: deterministic, no I/O.
import { z } from 'zod';
import {
  BUDGET_WHEN_LOW,
  CAPABILITIES,
  IMAGE_URL_MODES,
  PROVIDER_TYPES,
  RetrySettingsSchema,
  SENSITIVITY_ACTIONS,
  ScoreWeightsSchema,
  TimeoutSettingsSchema,
  type Capability,
} from './config-schema';
import { SENSITIVE_DATA_KINDS, type SensitiveDataCounts } from './sensitive-data-kinds';

/** The costly part of an assessment (tokenising and scanning the prompt), which the API passes on so the worker does not repeat it. */
export type PromptAssessment = Pick<RequestAssessment, 'promptTokens' | 'findings'>;

/** What the routing assessment learnt about one request (never its text). */
export const RequestAssessmentSchema = z.object({
  /** Estimated prompt tokens (o200k tokenizer, all messages and tools). */
  promptTokens: z.number().int().nonnegative(),
  /** Personal and secret data found, by kind (counts only). */
  findings: z.partialRecord(z.enum(SENSITIVE_DATA_KINDS), z.number().int().positive()),
  /** The request's tags with the tenant's defaults filled in. */
  tags: z.object({
    taskClass: z.string().optional(),
    sensitivity: z.string().optional(),
    criticality: z.string().optional(),
    latencyBudgetMs: z.number().optional(),
    costCeilingUsd: z.number().optional(),
    capabilities: z.array(z.enum(CAPABILITIES)).optional(),
    feature: z.string().optional(),
  }),
});
export type RequestAssessment = z.infer<typeof RequestAssessmentSchema>;

/** What the gateway has seen of a model lately (this worker's observations). */
export const ObservedModelSchema = z.object({
  successes: z.number().int().nonnegative(),
  failures: z.number().int().nonnegative(),
  /** Smoothed latency of successful calls; null before the first. */
  latencyMs: z.number().nonnegative().nullable(),
});
export type ObservedModel = z.infer<typeof ObservedModelSchema>;

/** A provider's shared circuit breaker as routing sees it. */
export const BreakerSnapshotSchema = z.object({
  mode: z.enum(['closed', 'open', 'half_open']),
  reason: z.string().nullable(),
  openUntil: z.number().nullable(),
});
export type BreakerSnapshot = z.infer<typeof BreakerSnapshotSchema>;

/** A budget the request counts against, and what it had left when the request started. */
export const BudgetSnapshotSchema = z.object({
  name: z.string(),
  /** The ledger of this period. */
  workflowId: z.string(),
  periodKey: z.string(),
  endsAt: z.number(),
  limitUsd: z.number(),
  availableUsd: z.number(),
  whenLow: z.enum(BUDGET_WHEN_LOW),
  /** Below this much left, the budget is low. */
  lowAtUsd: z.number(),
});
export type BudgetSnapshot = z.infer<typeof BudgetSnapshotSchema>;
/** What reserving and settling need of a budget. */
export type BudgetRef = Pick<BudgetSnapshot, 'name' | 'workflowId' | 'periodKey' | 'endsAt' | 'limitUsd'>;

/**
 * Every non-deterministic routing input, read by a (local) activity and so
 * recorded in history: replay routes exactly as the original run did.
 * Holds no secrets: providers are referenced by id. The policy fields are
 * optional so histories recorded before they existed still replay.
 */
export const RoutingSnapshotSchema = z.object({
  configVersion: z.string(),
  providers: z.record(
    z.string(),
    z.object({
      type: z.enum(PROVIDER_TYPES),
      retry: RetrySettingsSchema,
      timeouts: TimeoutSettingsSchema,
      /** What a caller's image URL becomes for this provider (absent in histories recorded before it existed: forwarded). */
      imageUrls: z.enum(IMAGE_URL_MODES).optional(),
    }),
  ),
  models: z.record(
    z.string(),
    z.object({
      provider: z.string(),
      upstreamModel: z.string(),
      fallbacks: z.array(z.string()),
      contextWindow: z.number().optional(),
      capabilities: z.array(z.enum(CAPABILITIES)).optional(),
      pricing: z.object({ inputPerMillionUsd: z.number(), outputPerMillionUsd: z.number() }).optional(),
      approvedFor: z.array(z.string()).optional(),
      selfHosted: z.boolean().optional(),
      openSource: z.boolean().optional(),
      quality: z.record(z.string(), z.number()).optional(),
      typicalLatencyMs: z.number().optional(),
    }),
  ),
  routes: z.record(z.string(), z.array(z.string())),
  defaultRoute: z.string(),
  fallbackMessage: z.string(),
  taskClasses: z.record(z.string(), z.array(z.string())).optional(),
  defaultTaskClass: z.string().optional(),
  criticality: z
    .object({
      default: z.string(),
      tiers: z.record(z.string(), z.object({ weights: ScoreWeightsSchema, openSourceLast: z.boolean() })),
    })
    .optional(),
  sensitivity: z
    .object({
      classes: z.array(z.string()),
      default: z.string(),
      actions: z.record(z.string(), z.enum(SENSITIVITY_ACTIONS)),
      detect: z.partialRecord(z.enum(SENSITIVE_DATA_KINDS), z.string()),
    })
    .optional(),
  observed: z.record(z.string(), ObservedModelSchema).optional(),
  /** Provider breakers by provider id; a provider without one is closed. */
  breakers: z.record(z.string(), BreakerSnapshotSchema).optional(),
  /** Pass rates measured by the latest eval runs, by model then task class (absent: none yet). */
  measuredQuality: z.record(z.string(), z.record(z.string(), z.number())).optional(),
  /** The response cache's settings (absent: off). */
  cache: z
    .object({
      ttlMs: z.number(),
      taskClassTtlMs: z.record(z.string(), z.number()),
      staleMs: z.number(),
      allowTemperature: z.boolean(),
      /** Sensitivity classes whose answers may be cached. */
      sensitivity: z.array(z.string()),
    })
    .optional(),
  /** Budgets this request counts against (absent: none). */
  budgets: z.array(BudgetSnapshotSchema).optional(),
  /** Provider calls as local activities (absent: regular). */
  providerCallsAs: z.enum(['regular', 'local']).optional(),
  /** This request's assessment; absent in snapshots taken without a request. */
  assessment: RequestAssessmentSchema.optional(),
});
export type RoutingSnapshot = z.infer<typeof RoutingSnapshotSchema>;

/** The parts of a candidate's score, each in [0, 1]. */
export interface ScoreParts {
  quality: number;
  cost: number;
  latency: number;
  success: number;
  fit: number;
}

/** One model the chain will try, with why it is there. */
export interface RouteCandidate {
  model: string;
  provider: string;
  upstreamModel: string;
  reason: string;
  /** Weighted score (scored routes only), rounded for display. */
  score?: number;
  parts?: ScoreParts;
  /** Where the quality part came from: the latest eval run, or the config's prior. */
  qualityFrom?: 'eval' | 'config';
  /** Worst-case cost of this request on this model, USD; undefined when the model has no prices. */
  estimatedCostUsd?: number;
  /** Detected personal data is redacted before this model receives the prompt. */
  redact?: boolean;
}

export interface PlanBudget {
  name: string;
  availableUsd: number;
  limitUsd: number;
  /** `ok`: plenty left; `cheaper_first`: low, cheapest worst case first; `refuse`: low, requests it cannot cover are refused. */
  action: 'ok' | 'cheaper_first' | 'refuse';
}

export interface RejectedModel {
  model: string;
  reason: string;
  /**
   * The request may go to this model, but the model cannot take it now (its
   * provider's breaker is open): not the caller's fault. A plan whose every
   * model is out, one at least for this, answers the deterministic fallback.
   */
  unavailable?: true;
}

/** The route decision: ordered candidates and what was left out, with reasons. */
export interface RoutePlan {
  /** What the caller asked for, resolved: a model id, a route or a task class. */
  resolvedFrom: string;
  /** `ordered`: a model's fallbacks or a named route, in config order; `scored`: a task class, best score first. */
  strategy: 'ordered' | 'scored';
  taskClass?: string;
  criticality?: string;
  /** The request's sensitivity class after detection raised it. */
  sensitivity?: string;
  promptTokens?: number;
  findings?: SensitiveDataCounts;
  /** Capabilities every candidate must have. */
  required?: Capability[];
  /** Set when the sensitivity policy refuses the request outright. */
  refused?: string;
  /** The budgets the request counts against and what routing did about them. */
  budgets?: PlanBudget[];
  /** Set when a budget with `whenLow: refuse` cannot cover the request: a 429 `budget_exceeded`. */
  budgetExceeded?: string;
  candidates: RouteCandidate[];
  rejected: RejectedModel[];
}

/** What `callModel` receives: the request plus a reference to the model (never a key). */
export interface CallModelInput {
  model: string;
  provider: string;
  upstreamModel: string;
  /** Redact detected personal data before sending (a model that is not self-hosted, under a `redact` class). */
  redact?: boolean;
  /**
   * Another model follows in the chain and the provider's `retry.failover` is
   * `at-once`: a 5xx, a 429 or a timeout moves on instead of being retried.
   */
  failoverAtOnce?: true;
  /**
   * The workflow hedges this call after this long (the provider's
   * `timeouts.hedgeAfterMs`): still without an answer then, the call tells
   * the provider's breaker it timed out, while it goes on until it answers
   * or the workflow cancels it.
   */
  hedgeAfterMs?: number;
  /**
   * The budgets this priced attempt reserved its worst case in. A try that
   * follows one lost with its worker (which may have been billed) reserves
   * the worst case again before it calls, under `<reservationId>/try-<n>`.
   */
  budget?: AttemptBudget;
}

export interface AttemptBudget {
  budgets: BudgetRef[];
  /** The attempt's reservation: `<workflow id>/<run id>/<position>`. */
  reservationId: string;
  worstCaseUsd: number;
  leaseMs: number;
}
