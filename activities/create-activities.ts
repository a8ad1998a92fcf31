import type { CanonicalRequest } from '../common/request-schema';
import type { CallModelInput, RoutingSnapshot } from '../common/routing-snapshot-schema';
import { assessRequest } from './assess-request';
import { routingSnapshotOf } from './build-routing-snapshot';
import { callProvider, type ActivityDependencies, type CallModelResult } from './call-provider';

export type { ActivityDependencies, CallModelResult } from './call-provider';

/**
 * Builds the activities with their dependencies (config, adapters), so tests
 * and the worker wire them the same way and nothing reads globals.
 */
export function createActivities(dependencies: ActivityDependencies) {
  return {
    /**
     * Routing inputs for one request: the config in force, what this worker
     * observed of each model, and the request's assessment (tokens, detected
     * data, tags with tenant defaults). A local activity, so recorded in
     * history: replay routes exactly as the first run did.
     */
    async getRoutingSnapshot(request?: CanonicalRequest): Promise<RoutingSnapshot> {
      const { loaded } = dependencies.store.current;
      const { breakers, stats } = dependencies;
      return {
        ...routingSnapshotOf(loaded),
        // Health the breakers saw across every worker; this worker's own figures when there are none.
        observed: breakers ? { ...stats?.snapshot(), ...breakers.health() } : (stats?.snapshot() ?? {}),
        breakers: breakers?.snapshot() ?? {},
        ...(request === undefined ? {} : { assessment: assessRequest(request, loaded.config) }),
      };
    },

    /** Calls one model once; Temporal's retry policy decides about the next try. */
    async callModel(request: CanonicalRequest, target: CallModelInput): Promise<CallModelResult> {
      return callProvider(dependencies, request, target, {
        call: (adapter, sent, signal) => adapter.complete(sent, { upstreamModel: target.upstreamModel, signal }),
      });
    },
  };
}

export type GatewayActivities = ReturnType<typeof createActivities>;
