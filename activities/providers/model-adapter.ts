import type { CanonicalRequest } from '../../common/request-schema';
import type { ModelOutput } from '../../common/response-schema';

/** Everything an adapter needs for one call; built by the worker, never sent through Temporal. */
export interface AdapterCallOptions {
  /** The model's name at the provider. */
  upstreamModel: string;
  /** Aborts the HTTP call (activity cancellation, worker shutdown). */
  signal?: AbortSignal;
}

/** One piece of an answer as it streams in. */
export type StreamDelta =
  | { type: 'text'; text: string }
  | {
      type: 'tool_call';
      /** The call's place among the answer's tool calls (0-based), the same across its pieces. */
      index: number;
      /** Sent with the call's first piece. */
      id?: string;
      /** Sent with the call's first piece. */
      name?: string;
      /** The next piece of the arguments' JSON text; may be empty. */
      argumentsDelta: string;
    };

/** Options of a streaming call: `onDelta` receives each piece in order as it arrives. */
export type AdapterStreamOptions = AdapterCallOptions & { onDelta(delta: StreamDelta): void };

/**
 * One vendor's implementation of a model call. Adapters know nothing of
 * Temporal: they return a canonical `ModelOutput` or throw a `GatewayError`
 * classified onto the canonical failure types.
 */
export interface ModelAdapter {
  complete(request: CanonicalRequest, options: AdapterCallOptions): Promise<ModelOutput>;
  /**
   * The same call with streaming on. Resolves with the `ModelOutput` that
   * `complete()` gives for the same answer, only once the vendor said the
   * answer is finished: a stream that ends early throws ProviderUnavailable.
   */
  stream(request: CanonicalRequest, options: AdapterStreamOptions): Promise<ModelOutput>;
}

/** What the registry passes to an adapter factory. */
export interface AdapterSettings {
  /** Provider id from config, used in error messages. */
  providerId: string;
  baseUrl: string;
  /** Resolved from the environment by the worker; undefined when the provider needs none. */
  apiKey: string | undefined;
  /** The SDK's own per-call timeout; for streams, the longest wait for the first chunk and between chunks. */
  requestTimeoutMs: number;
  /** The longest a whole stream may take. @default 10 × requestTimeoutMs */
  streamTimeoutMs?: number;
}
