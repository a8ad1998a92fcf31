// Runs in the workflow sandbox: deterministic, no I/O.
import { AUTO_ROUTE } from '../common/constants';
import type { CanonicalRequest } from '../common/request-schema';
import type { RejectedModel, RouteCandidate, RoutePlan, RoutingSnapshot } from '../common/routing-snapshot-schema';

/**
 * Orders the models to try for a request: a pure function of the request and
 * the routing snapshot, so the workflow replays it exactly.
 *
 * - a configured model id: that model, then its configured fallbacks;
 * - a route name: the route's chain in order;
 * - `auto`: the default route.
 *
 * A model appears once; later duplicates are listed as rejected.
 */
export function planRoute(request: Pick<CanonicalRequest, 'model'>, snapshot: RoutingSnapshot): RoutePlan {
  const requested = request.model;
  const rejected: RejectedModel[] = [];
  let resolvedFrom: string;
  let chain: { modelId: string; reason: string }[];

  const directModel = snapshot.models[requested];
  if (directModel) {
    resolvedFrom = requested;
    chain = [
      { modelId: requested, reason: 'requested model' },
      ...directModel.fallbacks.map((modelId, index) => ({ modelId, reason: `fallback ${index + 1} of ${requested}` })),
    ];
  } else {
    resolvedFrom = requested === AUTO_ROUTE ? snapshot.defaultRoute : requested;
    const route = snapshot.routes[resolvedFrom] ?? [];
    chain = route.map((modelId, index) => ({ modelId, reason: `route ${resolvedFrom} #${index + 1}` }));
  }

  const seen = new Set<string>();
  const candidates: RouteCandidate[] = [];
  for (const { modelId, reason } of chain) {
    const model = snapshot.models[modelId];
    if (seen.has(modelId)) {
      rejected.push({ modelId, reason: 'already in the chain' });
      continue;
    }
    seen.add(modelId);
    if (!model || !snapshot.providers[model.provider]) {
      rejected.push({ modelId, reason: 'not configured' });
      continue;
    }
    candidates.push({ modelId, providerId: model.provider, upstreamModel: model.upstreamModel, reason });
  }
  return { resolvedFrom, candidates, rejected };
}
