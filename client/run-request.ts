import { createHash, randomUUID } from 'node:crypto';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import { ApplicationFailure, CancelledFailure, TerminatedFailure, TimeoutFailure } from '@temporalio/common';
import type { CanonicalRequest } from '../common/request-schema';
import { NO_ELIGIBLE_MODEL_MESSAGE } from '../common/failure-types';
import type { CanonicalResponse } from '../common/response-schema';
import { FEATURE_ATTRIBUTE, TASK_CLASS_ATTRIBUTE, TENANT_ATTRIBUTE } from '../common/search-attributes';
import type { DeliveryOptions, llmRequestWorkflow } from '../workflows/llm-request-workflow';
import type { StreamListener, StreamRelay } from '../services/stream-relay';
import { HttpError } from '../dialects/http-error';
import { boundedTemporalCall, cancelLateStart } from './temporal-unavailable';

export interface RequestRunnerOptions {
  client: Client;
  taskQueue: string;
  /** Start workflows eagerly on the worker that shares this process's connection. */
  eagerStart: boolean;
  /** This process's streaming activity worker; without it `stream: true` is refused. */
  streaming?: StreamingOptions;
  /** Where a start that landed after its 503 is reported. @default a JSON line on stderr */
  log?: (line: Record<string, unknown>) => void;
}

/** Where streamed tokens travel: this process's own task queue and its in-memory relay. */
export interface StreamingOptions {
  taskQueue: string;
  relay: StreamRelay;
}

/** A new request id, or the workflow id a tenant's idempotency key maps to. */
export function workflowIdFor(tenantId: string, idempotencyKey: string | undefined): { requestId: string; workflowId: string } {
  if (idempotencyKey) {
    const digest = createHash('sha256').update(`${tenantId}\n${idempotencyKey}`).digest('hex').slice(0, 32);
    return { requestId: digest, workflowId: `llm-${tenantId}-idem-${digest}` };
  }
  const requestId = randomUUID();
  return { requestId, workflowId: `llm-${tenantId}-${requestId}` };
}

/** What a retried call must match to reuse an idempotency key. */
export interface IdempotencyCheck {
  /** sha256 of the request body the key was first used with. */
  bodySha256: string;
}

export type RequestHandle = WorkflowHandle<typeof llmRequestWorkflow>;

/**
 * Starts `llmRequestWorkflow`. With an idempotency key, a retried call
 * attaches to the first run (running or closed) instead of starting a second
 * one, so the request is never billed twice; the same key with another body
 * is refused. When Temporal cannot be reached the start gives up within
 * `TEMPORAL_CALL_BOUND_MS` with a 503: nothing was started (a start that
 * lands later anyway is cancelled, unless a key lets the retry attach to it).
 */
export async function startRequest(
  options: RequestRunnerOptions,
  request: CanonicalRequest,
  workflowId: string,
  idempotency: IdempotencyCheck | undefined,
  delivery?: DeliveryOptions,
): Promise<RequestHandle> {
  const { client } = options;
  const start = () =>
    client.workflow.start<typeof llmRequestWorkflow>('llmRequestWorkflow', {
      taskQueue: options.taskQueue,
      workflowId,
      args: delivery ? [request, delivery] : [request],
      workflowIdConflictPolicy: 'FAIL',
      workflowIdReusePolicy: idempotency ? 'REJECT_DUPLICATE' : 'ALLOW_DUPLICATE',
      memo: idempotency ? { bodySha256: idempotency.bodySha256 } : undefined,
      typedSearchAttributes: [
        { key: TENANT_ATTRIBUTE, value: request.tenantId },
        { key: TASK_CLASS_ATTRIBUTE, value: request.tags.taskClass ?? 'default' },
        { key: FEATURE_ATTRIBUTE, value: request.tags.feature ?? 'none' },
      ],
      staticSummary: `${request.model} for ${request.tenantId}${request.tags.taskClass ? ` (${request.tags.taskClass})` : ''}`,
      requestEagerStart: options.eagerStart,
    });
  try {
    return await boundedTemporalCall(client, start, {
      what: 'the gateway cannot reach Temporal and did not start the request',
      onLate: idempotency ? undefined : (pending) => cancelLateStart(client, workflowId, pending, options.log),
    });
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError) || !idempotency) throw error;
    const handle = client.workflow.getHandle<typeof llmRequestWorkflow>(workflowId);
    const { memo } = await boundedTemporalCall(client, () => handle.describe());
    if (memo?.bodySha256 !== idempotency.bodySha256) {
      throw new HttpError(422, 'invalid_request_error', 'Idempotency-Key was already used with a different request body or routing headers', {
        param: 'Idempotency-Key',
        code: 'idempotency_key_reused',
      });
    }
    return handle;
  }
}

/**
 * Starts a streamed request: `listener` is registered before the workflow
 * starts (so no piece can be missed) and the workflow is told to stream on
 * this process's queue. Call `detach()` once the answer is in. A request
 * that already has a listener in this process (an idempotent retry of a
 * running stream) streams nothing here; its answer comes with the result.
 */
export async function startStreamedRequest(
  options: RequestRunnerOptions,
  streaming: StreamingOptions,
  request: CanonicalRequest,
  workflowId: string,
  idempotency: IdempotencyCheck | undefined,
  listener: StreamListener,
  delivery: Omit<DeliveryOptions, 'streamTaskQueue'> = {},
): Promise<{ handle: RequestHandle; detach(): void }> {
  const registration = streaming.relay.listen(workflowId, listener);
  const detach = (): void => registration?.close();
  try {
    const handle = await startRequest(options, request, workflowId, idempotency, { ...delivery, streamTaskQueue: streaming.taskQueue });
    return { handle, detach };
  } catch (error) {
    detach();
    throw error;
  }
}

/** Waits for a request's answer; outcomes that are not an answer become HTTP errors. */
export async function awaitResponse(handle: RequestHandle): Promise<CanonicalResponse> {
  try {
    return await handle.result();
  } catch (error) {
    throw toHttpError(error);
  }
}

/** Workflow outcomes that are not an answer, as HTTP errors. */
export function toHttpError(error: unknown): unknown {
  if (!(error instanceof WorkflowFailedError)) return error;
  const cause = error.cause;
  if (cause instanceof ApplicationFailure && cause.type === 'InvalidRequest') {
    // The workflow's routing can leave no model where the API's check could not know (latency it observed).
    const code = cause.message.startsWith(NO_ELIGIBLE_MODEL_MESSAGE) ? 'no_eligible_model' : 'invalid_request';
    return new HttpError(400, 'invalid_request_error', cause.message, { code });
  }
  if (cause instanceof ApplicationFailure && cause.type === 'BudgetExceeded') {
    return new HttpError(429, 'budget_exceeded', cause.message, { code: 'budget_exceeded' });
  }
  if (cause instanceof ApplicationFailure && cause.type === 'StreamInterrupted') {
    return new HttpError(502, 'server_error', cause.message, { code: 'stream_interrupted' });
  }
  if (cause instanceof CancelledFailure) {
    return new HttpError(409, 'invalid_request_error', 'the request was cancelled', { code: 'request_cancelled' });
  }
  if (cause instanceof TerminatedFailure) {
    return new HttpError(500, 'server_error', 'the request was terminated by an operator', { code: 'request_terminated' });
  }
  if (cause instanceof TimeoutFailure) {
    return new HttpError(504, 'server_error', 'the request timed out', { code: 'request_timeout' });
  }
  // Anything else is unexpected: its text is for the log, not the caller (the error middleware answers with an error id).
  return error;
}
