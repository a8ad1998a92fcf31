import { routingSnapshotOf } from '../services/build-routing-snapshot';
import { NO_ELIGIBLE_MODEL_MESSAGE } from '../common/failure-types';
import type { CanonicalRequest } from '../common/request-schema';
import type { RoutePlan } from '../common/routing-snapshot-schema';
import type { LoadedConfig } from '../runtime/load-config';
import { planRoute, type PlanOptions } from '../workflows/plan-route';
import { assessPrompt } from './assess-prompt';
import { HttpError } from '../dialects/http-error';

/**
 * The route the gateway would take for `request` under `loaded`, computed
 * here without calling any model: the same assessment and the same pure
 * `planRoute` the workflow runs. The workflow's own decision may still differ
 * where it depends on the worker's live observations (latency, success).
 * A large prompt is assessed off the event loop.
 */
export async function explainRoute(request: CanonicalRequest, loaded: LoadedConfig, options: PlanOptions = {}): Promise<RoutePlan & { configVersion: string }> {
  const { offloaded: _offloaded, ...assessment } = await assessPrompt(request, loaded.config);
  const snapshot = { ...routingSnapshotOf(loaded), assessment };
  return { ...planRoute(request, snapshot, options), configVersion: loaded.version };
}

/** Refuses, before anything starts, a request that policy refuses or that no model may serve. */
export function assertRoutable(plan: RoutePlan): void {
  if (plan.refused !== undefined) {
    throw new HttpError(400, 'invalid_request_error', plan.refused, { code: 'sensitive_data_refused' });
  }
  // Models that are only unavailable (open breakers) leave the request to the workflow's deterministic fallback.
  if (plan.candidates.length === 0 && !plan.rejected.some((model) => model.unavailable)) {
    const reasons = plan.rejected.map((model) => `${model.modelId}: ${model.reason}`).join('; ');
    throw new HttpError(400, 'invalid_request_error', `${NO_ELIGIBLE_MODEL_MESSAGE}${reasons ? ` (${reasons})` : ''}`, {
      code: 'no_eligible_model',
    });
  }
}
