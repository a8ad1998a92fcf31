import type { GatewayConfig } from '../common/config-schema';
import { own } from '../common/own';
import { costOfUsage } from '../common/pricing';
import type { CanonicalResponse } from '../common/response-schema';
import { metrics } from '../runtime/metrics';

/** The LLM routes, as metric labels. */
export type LlmRoute = 'chat_completions' | 'messages';

/**
 * Counts one answered request: its latency by the model that answered and
 * outcome, the models that failed before it (by failure type), and the tokens
 * and cost by tenant and model.
 */
export function recordAnswer(route: LlmRoute, tenantId: string, result: CanonicalResponse, seconds: number, config: GatewayConfig): void {
  metrics.requestDuration.observe({ route, model: result.model, outcome: result.outcome }, seconds);
  for (const attempt of result.attempts) {
    if (attempt.outcome === 'failed') {
      metrics.fallbacks.inc({ route, provider: attempt.provider, model: attempt.model, reason: attempt.failureType ?? 'unknown' });
    }
  }
  metrics.tokens.inc({ tenant: tenantId, model: result.model, direction: 'input' }, result.usage.inputTokens);
  metrics.tokens.inc({ tenant: tenantId, model: result.model, direction: 'output' }, result.usage.outputTokens);
  // Every attempt's cost under the model that incurred it: failover spend is visible per model.
  for (const attempt of result.attempts) {
    if (attempt.costUsd !== undefined && attempt.costUsd > 0) metrics.cost.inc({ tenant: tenantId, model: attempt.model }, attempt.costUsd);
  }
  if (result.costUsd === undefined) {
    // A workflow recorded before costs were: price the answer from the config.
    const cost = costOfUsage(result.usage, own(config.models, result.model)?.pricing);
    if (cost > 0) metrics.cost.inc({ tenant: tenantId, model: result.model }, cost);
  }
}

/** Counts a request that ended without an answer (refused by a provider, cancelled, interrupted). */
export function recordFailure(route: LlmRoute, seconds: number): void {
  metrics.requestDuration.observe({ route, model: 'none', outcome: 'error' }, seconds);
}
