import type { CanonicalRequest } from '../common/request-schema';
import type { CallModelInput, RoutingSnapshot } from '../common/routing-snapshot-schema';
import { buildRoutingSnapshot } from './build-routing-snapshot';
import { callProvider, type ActivityDependencies, type CallModelResult } from './call-provider';

export type { ActivityDependencies, CallModelResult } from './call-provider';

/**
 * Builds the activities with their dependencies (config, adapters), so tests
 * and the worker wire them the same way and nothing reads globals.
 */
export function createActivities(dependencies: ActivityDependencies) {
  const snapshot = buildRoutingSnapshot(dependencies.config);

  return {
    /** Routing inputs for one request; a local activity, so recorded in history. */
    async getRoutingSnapshot(): Promise<RoutingSnapshot> {
      return snapshot;
    },

    /** Calls one model once; Temporal's retry policy decides about the next try. */
    async callModel(request: CanonicalRequest, target: CallModelInput): Promise<CallModelResult> {
      return callProvider(dependencies, request, target, {
        call: (adapter, signal) => adapter.complete(request, { upstreamModel: target.upstreamModel, signal }),
      });
    },
  };
}

export type GatewayActivities = ReturnType<typeof createActivities>;
