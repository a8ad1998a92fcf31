import type { CanonicalRequest } from '../../common/request-schema';
import type { ModelOutput } from '../../common/response-schema';

/** Everything an adapter needs for one call; built by the worker, never sent through Temporal. */
export interface AdapterCallOptions {
  /** The model's name at the provider. */
  upstreamModel: string;
  /** Aborts the HTTP call (activity cancellation, worker shutdown). */
  signal?: AbortSignal;
}

/**
 * One vendor's implementation of a model call. Adapters know nothing of
 * Temporal: they return a canonical `ModelOutput` or throw a `GatewayError`
 * classified onto the canonical failure types.
 */
export interface ModelAdapter {
  complete(request: CanonicalRequest, options: AdapterCallOptions): Promise<ModelOutput>;
}

/** What the registry passes to an adapter factory. */
export interface AdapterSettings {
  /** Provider id from config, used in error messages. */
  providerId: string;
  baseUrl: string;
  /** Resolved from the environment by the worker; undefined when the provider needs none. */
  apiKey: string | undefined;
  /** The SDK's own per-call timeout. */
  requestTimeoutMs: number;
}
