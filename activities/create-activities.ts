import { activityInfo, CancelledFailure, Context } from '@temporalio/activity';
import { GatewayError } from '../common/failure-types';
import type { CanonicalRequest } from '../common/request-schema';
import type { ModelOutput } from '../common/response-schema';
import type { CallModelInput, RoutingSnapshot } from '../common/routing-snapshot-schema';
import type { LoadedConfig } from '../worker/load-config';
import { buildRoutingSnapshot } from './build-routing-snapshot';
import type { ModelAdapter } from './providers/model-adapter';
import { toApplicationFailure } from './to-application-failure';
import { validateOutput } from './validate-output';

/** What `callModel` returns: the model's output and how many tries Temporal needed. */
export interface CallModelResult {
  output: ModelOutput;
  tries: number;
}

export interface ActivityDependencies {
  config: LoadedConfig;
  /** One adapter per configured provider id, built once per worker. */
  adapters: ReadonlyMap<string, ModelAdapter>;
}

/**
 * Builds the activities with their dependencies (config, adapters), so tests
 * and the worker wire them the same way and nothing reads globals.
 */
export function createActivities({ config, adapters }: ActivityDependencies) {
  const snapshot = buildRoutingSnapshot(config);

  return {
    /** Routing inputs for one request; a local activity, so recorded in history. */
    async getRoutingSnapshot(): Promise<RoutingSnapshot> {
      return snapshot;
    },

    /** Calls one model once; Temporal's retry policy decides about the next try. */
    async callModel(request: CanonicalRequest, target: CallModelInput): Promise<CallModelResult> {
      const context = Context.current();
      const { attempt } = activityInfo();
      const provider = config.config.providers[target.providerId];
      const adapter = adapters.get(target.providerId);
      if (!provider || !adapter) {
        const error = new GatewayError('AccessDenied', `provider "${target.providerId}" is not configured on this worker`, {
          provider: target.providerId,
        });
        throw toApplicationFailure(error, 0, attempt);
      }
      // Heartbeats let Temporal notice a crashed worker long before the call's own timeout.
      context.heartbeat({ attempt });
      const beat = setInterval(() => context.heartbeat({ attempt }), Math.max(provider.timeouts.heartbeatMs / 3, 100));
      try {
        const output = await adapter.complete(request, {
          upstreamModel: target.upstreamModel,
          signal: context.cancellationSignal,
        });
        validateOutput(output, request.output, target.providerId);
        return { output, tries: attempt };
      } catch (error) {
        // A cancelled or shut-down activity is not the provider's failure.
        if (context.cancellationSignal.aborted) throw new CancelledFailure('provider call cancelled');
        throw toApplicationFailure(error, provider.retry.maxRetryAfterMs, attempt);
      } finally {
        clearInterval(beat);
      }
    },
  };
}

export type GatewayActivities = ReturnType<typeof createActivities>;
