// Zod-free, so workflow code may import it.
// The canonical response built from its parts: by the workflow when a request
// ends, and by the streaming activity when a streamed answer is complete (so
// the caller's stream ends without waiting for the workflow's bookkeeping).
import { costOfUsage, roundUsd, type Pricing } from './pricing';
import type { Attempt, CacheState, CanonicalResponse, ModelOutput, Outcome, RouteSummary, Usage } from './response-schema';

/**
 * The request's fallbacks: every attempt that moved it on to the next model,
 * failed or skipped (breaker open, over budget). The one definition of the
 * response's `fallbacks`, the `FallbackCount` search attribute and the UI's headline.
 */
export function fallbackCount(attempts: readonly Attempt[]): number {
  // A hedge cancelled because the model before it answered is skipped without a failure: no fallback.
  return attempts.filter((attempt) => attempt.outcome !== 'success' && attempt.failureType !== undefined).length;
}

/** Every attempt's cost, failed ones included (USD). */
export function totalCost(attempts: readonly Attempt[]): number {
  return roundUsd(attempts.reduce((sum, attempt) => sum + (attempt.costUsd ?? 0), 0));
}

/**
 * What a streaming call is given so that it can end the caller's stream
 * itself once its answer is complete: the response's parts the chain decided
 * before the call (no workflow id or time: the activity knows both), the
 * attempts before this one, this attempt's position, and its model's prices.
 */
export type StreamAnswerContext = Pick<ResponseContext, 'requestId' | 'configVersion' | 'route'> & {
  cache?: CacheState;
  attempts: Attempt[];
  position: number;
  pricing?: Pricing;
};

/** The attempt that answered, priced: as the workflow records it and as a stream's last chunk shows it. */
export function answeredAttempt(
  position: number,
  target: { provider: string; model: string },
  result: { output: ModelOutput; tries: number; billedUsage?: Usage },
  durationMs: number,
  pricing: Pricing | undefined,
): Attempt {
  const usage = result.billedUsage ?? result.output.usage;
  return { position, provider: target.provider, model: target.model, outcome: 'success', tries: result.tries, durationMs, usage, costUsd: costOfUsage(usage, pricing) };
}

/** What a response says besides the answer: where the request stands. */
export interface ResponseContext {
  requestId: string;
  workflowId: string;
  configVersion: string;
  route: RouteSummary;
  cache: CacheState | undefined;
  createdAt: Date;
}

export function buildResponse(
  context: ResponseContext,
  answer: { output: ModelOutput; model: string; provider: string; outcome: Outcome; attempts: Attempt[] },
): CanonicalResponse {
  const { output, attempts } = answer;
  return {
    requestId: context.requestId,
    workflowId: context.workflowId,
    model: answer.model,
    provider: answer.provider,
    outcome: answer.outcome,
    text: output.text,
    toolCalls: output.toolCalls,
    finishReason: output.finishReason,
    refusal: output.refusal,
    usage: output.usage,
    costUsd: totalCost(attempts),
    ...(context.cache === undefined ? {} : { cache: context.cache }),
    fallbacks: fallbackCount(attempts),
    attempts,
    configVersion: context.configVersion,
    route: context.route,
    warnings: output.warnings,
    createdAt: context.createdAt.toISOString(),
  };
}
