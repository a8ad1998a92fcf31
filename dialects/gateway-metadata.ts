import type { CanonicalResponse } from '../common/response-schema';

/** The route story every dialect's response carries in its `gateway` block. */
export function gatewayMetadata(response: CanonicalResponse) {
  return {
    workflow_id: response.workflowId,
    provider: response.provider,
    outcome: response.outcome,
    fallbacks: response.fallbacks,
    cost_usd: response.costUsd ?? null,
    ...(response.cache === undefined ? {} : { cache: response.cache }),
    attempts: response.attempts,
    config_version: response.configVersion,
    route: response.route,
    warnings: response.warnings,
  };
}

/** `x-gateway-route`: the decision in one line, e.g. `chat (scored): model-c 0.71, model-a 0.55; rejected: model-b`. */
export function routeHeader(response: CanonicalResponse): string | undefined {
  const route = response.route;
  if (!route) return undefined;
  const chain = route.candidates.map((candidate) => (candidate.score === undefined ? candidate.model : `${candidate.model} ${candidate.score}`));
  const rejected = route.rejected.map((model) => model.model);
  const degraded = (route.budgets ?? []).filter((budget) => budget.action !== 'ok').map((budget) => `budget ${budget.name} low: ${budget.action.replace('_', ' ')}`);
  const line = `${route.resolvedFrom} (${route.strategy}): ${chain.join(', ')}${rejected.length > 0 ? `; rejected: ${rejected.join(', ')}` : ''}${degraded.length > 0 ? `; ${degraded.join('; ')}` : ''}`;
  // Header values are ASCII and bounded; the body's gateway.route has the whole story.
  return line.replace(/[^\x20-\x7e]/g, '?').slice(0, 512);
}
