import { activityInfo, type ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import { GatewayError } from '../common/failure-types';
import type { CanonicalRequest } from '../common/request-schema';
import type { ModelOutput } from '../common/response-schema';
import type { CallModelInput } from '../common/routing-snapshot-schema';
import type { LoadedConfig } from '../worker/load-config';
import type { ModelAdapter } from './providers/model-adapter';
import { toApplicationFailure } from './to-application-failure';
import { validateOutput } from './validate-output';

/** What `callModel` and `streamModel` return: the model's output and how many tries Temporal needed. */
export interface CallModelResult {
  output: ModelOutput;
  tries: number;
}

export interface ActivityDependencies {
  config: LoadedConfig;
  /** One adapter per configured provider id, built once per process. */
  adapters: ReadonlyMap<string, ModelAdapter>;
}

export interface ProviderCallOptions {
  /** Makes the call through the model's adapter. */
  call(adapter: ModelAdapter, signal: AbortSignal): Promise<ModelOutput>;
  /** Extra heartbeat details (progress shown in the UI). */
  progress?(): Record<string, unknown>;
  /** Last word on a failure before Temporal sees it (a stream that already reached the caller). */
  reviseFailure?(failure: ApplicationFailure): ApplicationFailure;
}

/**
 * One try of one model inside a provider activity: find the adapter, keep the
 * activity heartbeating, make the call, validate the output and turn any
 * failure into the `ApplicationFailure` Temporal's retry policy acts on.
 */
export async function callProvider(
  { config, adapters }: ActivityDependencies,
  request: CanonicalRequest,
  target: CallModelInput,
  options: ProviderCallOptions,
): Promise<CallModelResult> {
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
  const beat = (): void => context.heartbeat({ attempt, ...options.progress?.() });
  beat();
  const timer = setInterval(beat, Math.max(provider.timeouts.heartbeatMs / 3, 100));
  try {
    const output = await options.call(adapter, context.cancellationSignal);
    validateOutput(output, request.output, target.providerId);
    return { output, tries: attempt };
  } catch (error) {
    // A cancelled or shut-down activity is not the provider's failure.
    if (context.cancellationSignal.aborted) throw new CancelledFailure('provider call cancelled');
    const failure = toApplicationFailure(error, provider.retry.maxRetryAfterMs, attempt);
    throw options.reviseFailure ? options.reviseFailure(failure) : failure;
  } finally {
    clearInterval(timer);
  }
}
