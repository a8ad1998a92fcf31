import { createHash } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { DEFAULT_TASK_QUEUE } from '../common/constants';
import { CanonicalRequestSchema, type CanonicalRequestInput } from '../common/request-schema';
import type { CanonicalResponse } from '../common/response-schema';
import type { StreamDelta } from '../activities/providers/model-adapter';
import { awaitResponse, startRequest, startStreamedRequest, workflowIdFor, type StreamingOptions } from './run-request';
import { answerAsDeltas } from '../dialects/stream-renderer';
import { connectTemporal } from './connect-temporal';

export interface GatewayClientOptions {
  /** A Temporal client connected to the gateway's namespace. */
  client: Client;
  /** The tenant every request of this client is billed to. */
  tenantId: string;
  /** @default 'switchyard' */
  taskQueue?: string;
  /**
   * This process's streaming worker (`createStreamWorker` from
   * `worker/create-stream-worker`, running), needed by `stream()`: the model
   * is called in the process that receives the tokens, so it needs the
   * gateway config and the provider keys, like an API process.
   */
  streaming?: StreamingOptions;
}

export type { StreamDelta };

/** A request as a backend service writes it: the canonical request without ids. */
export type GatewayRequest = Omit<CanonicalRequestInput, 'requestId' | 'tenantId'>;

export interface StartOptions {
  /** Same key → same request: a retried start attaches to the first run and is never billed twice. */
  idempotencyKey?: string;
}

/** Where a started request stands. */
export type RequestStatus = 'running' | 'completed' | 'failed' | 'cancelled' | 'terminated' | 'timed_out' | 'unknown';

/**
 * Typed client for backend services that start gateway workflows directly
 * through Temporal instead of over HTTP: same canonical types, same routing,
 * fallback and idempotency as the HTTP API.
 */
export class GatewayClient {
  private readonly client: Client;
  private readonly tenantId: string;
  private readonly taskQueue: string;
  private readonly streaming: StreamingOptions | undefined;
  /** Set when `connect` made the connection: `close()` closes it. */
  private closeConnection: (() => Promise<void>) | undefined;

  constructor(options: GatewayClientOptions) {
    this.client = options.client;
    this.tenantId = options.tenantId;
    this.taskQueue = options.taskQueue ?? DEFAULT_TASK_QUEUE;
    this.streaming = options.streaming;
  }

  /**
   * Connects as every Temporal application does (`@temporalio/envconfig`: the
   * profile in `TEMPORAL_CONFIG_FILE` or `~/.config/temporalio/temporal.toml`
   * and the `TEMPORAL_*` variables of `env`: address, namespace, TLS client
   * certificate and key, server CA and name, API key) with the gateway's
   * data converter, so the same settings reach a local server, a
   * self-hosted cluster with mTLS and Temporal Cloud. `close()` closes the
   * connection.
   */
  static async connect(options: Omit<GatewayClientOptions, 'client'> & { env?: NodeJS.ProcessEnv }): Promise<GatewayClient> {
    const { env, ...rest } = options;
    const { client, close } = await connectTemporal(env);
    const gateway = new GatewayClient({ ...rest, client });
    gateway.closeConnection = close;
    return gateway;
  }

  /** Closes the connection `connect` made (a client passed in stays open: it is the caller's). */
  async close(): Promise<void> {
    await this.closeConnection?.();
    this.closeConnection = undefined;
  }

  /** Starts a request and returns its id (the workflow id) without waiting. */
  async start(request: GatewayRequest, options: StartOptions = {}): Promise<{ id: string }> {
    const { canonical, workflowId, idempotency } = this.prepare(request, options);
    await startRequest(this.runner(), canonical, workflowId, idempotency);
    return { id: workflowId };
  }

  /**
   * Streams a request: `onDelta` receives each piece of the answer as the
   * model produces it, and the promise resolves with the whole response. A
   * model failing before its first piece is replaced by the next one
   * unnoticed; a failure after it rejects with `stream_interrupted`. When
   * nothing was streamed (the deterministic fallback answered, or the key
   * named a finished request), the whole answer arrives as pieces at the end.
   */
  async stream(
    request: GatewayRequest,
    onDelta: (delta: StreamDelta, model: string) => void,
    options: StartOptions = {},
  ): Promise<CanonicalResponse> {
    if (!this.streaming) throw new Error('stream() needs the `streaming` option: a running stream worker in this process');
    const { canonical, workflowId, idempotency } = this.prepare(request, options);
    let streamed = false;
    const { handle, detach } = await startStreamedRequest(this.runner(), this.streaming, canonical, workflowId, idempotency, {
      onDelta(delta, target) {
        streamed = true;
        onDelta(delta, target.model);
      },
    });
    try {
      const response = await awaitResponse(handle);
      if (!streamed) for (const delta of answerAsDeltas(response)) onDelta(delta, response.model);
      return response;
    } finally {
      detach();
    }
  }

  /** Waits for a started request's answer. */
  result(id: string): Promise<CanonicalResponse> {
    return awaitResponse(this.client.workflow.getHandle(id));
  }

  /** Starts a request and waits for its answer. */
  async complete(request: GatewayRequest, options: StartOptions = {}): Promise<CanonicalResponse> {
    const { id } = await this.start(request, options);
    return this.result(id);
  }

  async status(id: string): Promise<RequestStatus> {
    const { status } = await this.client.workflow.getHandle(id).describe();
    const name = status.name.toLowerCase();
    return name === 'continued_as_new' ? 'running' : ((name as RequestStatus) ?? 'unknown');
  }

  /** Cancels a running request (its workflow). */
  async cancel(id: string): Promise<void> {
    await this.client.workflow.getHandle(id).cancel();
  }

  private runner() {
    return { client: this.client, taskQueue: this.taskQueue, eagerStart: false };
  }

  /** Validates the request and derives its ids and idempotency check. */
  private prepare(request: GatewayRequest, options: StartOptions) {
    const { requestId, workflowId } = workflowIdFor(this.tenantId, options.idempotencyKey);
    const canonical = CanonicalRequestSchema.parse({ ...request, requestId, tenantId: this.tenantId });
    const idempotency =
      options.idempotencyKey === undefined
        ? undefined
        : { bodySha256: createHash('sha256').update(JSON.stringify(canonical)).digest('hex') };
    return { canonical, workflowId, idempotency };
  }
}
