// Runs in the workflow sandbox: deterministic, no I/O.
// How workflows reach the metrics: sink calls (a request's end, a breaker's
// transition), which the worker running the workflow turns into series —
// never on replay, so each is counted once.
import { isCancellation, proxySinks, workflowInfo, type Sinks } from '@temporalio/workflow';
import { ApplicationFailure } from '@temporalio/common';
import type { FailureType } from '../common/failure-types';
import type { CanonicalRequest } from '../common/request-schema';
import type { Attempt, CacheState, CanonicalResponse } from '../common/response-schema';

/** How a request came in: the `entry` label of the request series. */
export type RequestEntry = 'chat' | 'messages' | 'async' | 'batch' | 'agent' | 'client' | 'eval';

/** How a request ended, for its metrics: an answer, the deterministic answer, or why there was none. */
export type EndedOutcome = 'success' | 'fallback_answer' | 'invalid_request' | 'budget_exceeded' | 'cancelled' | 'error';

/** One request's end, as the worker's telemetry records it. Every field is a bounded label or a number. */
export interface RequestEnded {
  entry: RequestEntry;
  tenant: string;
  feature: string;
  /** The output format asked for: `text`, `json_object` or `json_schema`. */
  format: string;
  outcome: EndedOutcome;
  /** The model that answered (`fallback` for the deterministic answer), `none` without an answer. */
  model: string;
  /** From the workflow's start to its end (workflow time). */
  durationMs: number;
  cache?: CacheState;
  attempts: Attempt[];
}

/** A breaker's change of state. */
export interface BreakerChanged {
  /** The provider id the breaker guards. */
  provider: string;
  from: string;
  to: string;
}

export interface TelemetrySinks extends Sinks {
  telemetry: {
    requestEnded(ended: RequestEnded): void;
    breakerChanged(change: BreakerChanged): void;
  };
}

const { telemetry } = proxySinks<TelemetrySinks>();

/**
 * Reports how `request` ended — with `response`, or with `error` — to the
 * worker's telemetry. Sinks are not called on replay: a request is counted
 * once, by the worker that completes it, whatever started it.
 */
export function reportRequestEnded(
  request: CanonicalRequest,
  entry: RequestEntry | undefined,
  attempts: Attempt[],
  end: { response: CanonicalResponse } | { error: unknown },
): void {
  const response = 'response' in end ? end.response : undefined;
  telemetry.requestEnded({
    entry: entry ?? 'client',
    tenant: request.tenantId,
    feature: request.tags.feature ?? 'none',
    format: request.output?.type ?? 'text',
    outcome: response ? response.outcome : failedOutcome('error' in end ? end.error : undefined),
    model: response?.model ?? 'none',
    durationMs: Math.max(0, Date.now() - workflowInfo().startTime.getTime()),
    ...(response?.cache ? { cache: response.cache } : {}),
    attempts: response?.attempts ?? attempts,
  });
}

/** What one eval case's model call came to, as telemetry needs it. */
export interface EvalCaseCall {
  /** The output format the case asked for: `text`, `json_object` or `json_schema`. */
  format: string;
  latencyMs: number;
  costUsd: number;
  /** The tokens the provider billed (absent when it billed none, and in results recorded before 2026-12-03). */
  usage?: { inputTokens: number; outputTokens: number };
  /** Why there was no acceptable answer (`InvalidOutput`, or the provider's failure when the case could not run); absent when the model answered. */
  failureType?: FailureType;
}

/**
 * Reports one eval case's model call to the worker's telemetry, once (sinks
 * are not called on replay), under the `eval` entry and the `evals` tenant,
 * with the task class as its feature: an eval run's calls, tokens and spend
 * are counted like any request's.
 */
export function reportEvalCaseEnded(taskClass: string, target: { model: string; provider: string }, call: EvalCaseCall): void {
  const answered = call.failureType === undefined;
  telemetry.requestEnded({
    entry: 'eval',
    tenant: 'evals',
    feature: taskClass,
    format: call.format,
    outcome: answered ? 'success' : 'error',
    model: answered ? target.model : 'none',
    durationMs: call.latencyMs,
    attempts: [
      {
        position: 1,
        provider: target.provider,
        model: target.model,
        outcome: answered ? 'success' : 'failed',
        ...(call.failureType ? { failureType: call.failureType } : {}),
        tries: 1,
        durationMs: call.latencyMs,
        ...(call.usage ? { usage: call.usage } : {}),
        ...(call.costUsd > 0 ? { costUsd: call.costUsd } : {}),
      },
    ],
  });
}

function failedOutcome(error: unknown): EndedOutcome {
  if (isCancellation(error)) return 'cancelled';
  if (error instanceof ApplicationFailure && error.type === 'InvalidRequest') return 'invalid_request';
  if (error instanceof ApplicationFailure && error.type === 'BudgetExceeded') return 'budget_exceeded';
  return 'error';
}

/** Reports a breaker's transition to the worker's telemetry (once: sinks are not called on replay). */
export function reportBreakerChange(change: BreakerChanged): void {
  telemetry.breakerChanged(change);
}
