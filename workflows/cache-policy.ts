// Runs in the workflow sandbox: deterministic, no I/O.
import { own } from '../common/own';
import type { CanonicalRequest } from '../common/request-schema';
import type { RoutePlan, RoutingSnapshot } from '../common/routing-snapshot-schema';

/** Whether a request may read and write the response cache, and for how long its answer counts. */
export type CacheUse = { use: true; ttlMs: number; staleMs: number } | { use: false; reason: string };

/**
 * The cache policy, pure: off unless the config turns it on; the caller may
 * bypass it; a request sampled above temperature 0 (unset counts as the
 * providers' default of 1) is not cached unless the config or the caller
 * allows it; nor is a request of a sensitivity class the policy keeps out.
 */
export function cacheUse(request: Pick<CanonicalRequest, 'sampling' | 'tags'>, plan: RoutePlan, snapshot: RoutingSnapshot): CacheUse {
  const settings = snapshot.cache;
  if (settings === undefined) return { use: false, reason: 'cache off' };
  if (request.tags.cache === 'bypass') return { use: false, reason: 'the caller bypassed the cache' };
  const temperature = request.sampling.temperature ?? 1;
  if (temperature > 0 && !settings.allowTemperature && request.tags.cache !== 'allow') {
    return { use: false, reason: `temperature ${temperature} is above 0 (send x-gateway-cache: allow to cache anyway)` };
  }
  if (plan.sensitivity !== undefined && !settings.sensitivity.includes(plan.sensitivity)) {
    return { use: false, reason: `${plan.sensitivity} requests are not cached` };
  }
  const ttlMs = (plan.taskClass === undefined ? undefined : own(settings.taskClassTtlMs, plan.taskClass)) ?? settings.ttlMs;
  return { use: true, ttlMs, staleMs: settings.staleMs };
}
