import { takeRoutingSnapshot, type LiveRouting } from '../services/routing-snapshot';
import { NO_ELIGIBLE_MODEL_MESSAGE } from '../common/failure-types';
import type { CanonicalRequest } from '../common/request-schema';
import type { RoutePlan } from '../common/routing-snapshot-schema';
import type { LoadedConfig } from '../runtime/load-config';
import { planRoute, type PlanOptions } from '../workflows/plan-route';
import { assessPrompt } from '../services/prompt/assess-prompt';
import { HttpError } from '../dialects/http-error';
import { isRequestableModel, type ModelCatalog } from '../common/requestable-model';

/**
 * The route the gateway would take for `request` under `loaded`, computed
 * here without calling any model: the same snapshot (config, the shared
 * breakers, budgets and eval scores of `live`) and the same pure `planRoute`
 * the workflow runs. The workflow's own decision may still differ where its
 * inputs change in between (a breaker opening) or where it depends on a
 * worker's own call statistics, which the API has none of. A large prompt is
 * assessed off the event loop.
 */
export async function explainRoute(
  request: CanonicalRequest,
  loaded: LoadedConfig,
  live: LiveRouting,
  options: PlanOptions = {},
): Promise<RoutePlan & { configVersion: string }> {
  const { offloaded: _offloaded, ...assessment } = await assessPrompt(request, loaded.config);
  return { ...planRoute(request, takeRoutingSnapshot(loaded, live, request, assessment), options), configVersion: loaded.version };
}

/** A 404 in OpenAI's shape unless `model` names a model, route or task class of `config`, or is `auto`. */
export function assertRequestableModel(config: ModelCatalog, model: string): void {
  if (!isRequestableModel(config, model)) {
    throw new HttpError(404, 'not_found_error', `The model \`${model}\` does not exist`, { param: 'model', code: 'model_not_found' });
  }
}

/** Refuses, before anything starts, a request that policy refuses or that no model may serve. */
export function assertRoutable(plan: RoutePlan): void {
  if (plan.refused !== undefined) {
    throw new HttpError(400, 'invalid_request_error', plan.refused, { code: 'sensitive_data_refused' });
  }
  // Models that are only unavailable (open breakers) leave the request to the workflow's deterministic fallback.
  if (plan.candidates.length === 0 && !plan.rejected.some((model) => model.unavailable)) {
    const reasons = plan.rejected.map((model) => `${model.model}: ${model.reason}`).join('; ');
    throw new HttpError(400, 'invalid_request_error', `${NO_ELIGIBLE_MODEL_MESSAGE}${reasons ? ` (${reasons})` : ''}`, {
      code: 'no_eligible_model',
    });
  }
}
