import type { GatewayConfig } from '../common/config-schema';
import { own } from '../common/own';
import type { CanonicalResponse } from '../common/response-schema';
import { metrics } from '../worker/metrics';

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
      metrics.fallbacks.inc({ provider: attempt.provider, model: attempt.model, reason: attempt.failureType ?? 'unknown' });
    }
  }
  metrics.tokens.inc({ tenant: tenantId, model: result.model, direction: 'input' }, result.usage.inputTokens);
  metrics.tokens.inc({ tenant: tenantId, model: result.model, direction: 'output' }, result.usage.outputTokens);
  const pricing = own(config.models, result.model)?.pricing;
  if (pricing) {
    const cost = (result.usage.inputTokens * pricing.inputPerMillionUsd + result.usage.outputTokens * pricing.outputPerMillionUsd) / 1e6;
    metrics.cost.inc({ tenant: tenantId, model: result.model }, cost);
  }
}

/** Counts a request that ended without an answer (refused by a provider, cancelled, interrupted). */
export function recordFailure(route: LlmRoute, seconds: number): void {
  metrics.requestDuration.observe({ route, model: 'none', outcome: 'error' }, seconds);
}
