import { createHash } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { DEFAULT_TASK_QUEUE } from '../common/constants';
import { CanonicalRequestSchema, type CanonicalRequestInput } from '../common/request-schema';
import type { CanonicalResponse } from '../common/response-schema';
import { awaitResponse, startRequest, workflowIdFor } from '../api/run-request';

export interface GatewayClientOptions {
  /** A Temporal client connected to the gateway's namespace. */
  client: Client;
  /** The tenant every request of this client is billed to. */
  tenantId: string;
  /** @default 'switchyard' */
  taskQueue?: string;
}

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

  constructor(options: GatewayClientOptions) {
    this.client = options.client;
    this.tenantId = options.tenantId;
    this.taskQueue = options.taskQueue ?? DEFAULT_TASK_QUEUE;
  }

  /** Starts a request and returns its id (the workflow id) without waiting. */
  async start(request: GatewayRequest, options: StartOptions = {}): Promise<{ id: string }> {
    const { requestId, workflowId } = workflowIdFor(this.tenantId, options.idempotencyKey);
    const canonical = CanonicalRequestSchema.parse({ ...request, requestId, tenantId: this.tenantId });
    const idempotency =
      options.idempotencyKey === undefined
        ? undefined
        : { bodySha256: createHash('sha256').update(JSON.stringify(canonical)).digest('hex') };
    await startRequest({ client: this.client, taskQueue: this.taskQueue, eagerStart: false }, canonical, workflowId, idempotency);
    return { id: workflowId };
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
}
