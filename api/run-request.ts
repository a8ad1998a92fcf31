import { createHash, randomUUID } from 'node:crypto';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import { ApplicationFailure, CancelledFailure, TerminatedFailure, TimeoutFailure } from '@temporalio/common';
import type { CanonicalRequest } from '../common/request-schema';
import type { CanonicalResponse } from '../common/response-schema';
import { TASK_CLASS_ATTRIBUTE, TENANT_ATTRIBUTE } from '../common/search-attributes';
import type { llmRequestWorkflow } from '../workflows/llm-request-workflow';
import { HttpError } from './http-error';

export interface RequestRunnerOptions {
  client: Client;
  taskQueue: string;
  /** Start workflows eagerly on the worker that shares this process's connection. */
  eagerStart: boolean;
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

/**
 * Starts `llmRequestWorkflow` and waits for its result. With an idempotency
 * key, a retried call attaches to the first run (running or closed) instead of
 * starting a second one, so the request is never billed twice.
 */
export async function runRequest(
  options: RequestRunnerOptions,
  request: CanonicalRequest,
  workflowId: string,
  idempotent: boolean,
): Promise<CanonicalResponse> {
  let handle: WorkflowHandle<typeof llmRequestWorkflow>;
  try {
    handle = await options.client.workflow.start<typeof llmRequestWorkflow>('llmRequestWorkflow', {
      taskQueue: options.taskQueue,
      workflowId,
      args: [request],
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: idempotent ? 'REJECT_DUPLICATE' : 'ALLOW_DUPLICATE',
      typedSearchAttributes: [
        { key: TENANT_ATTRIBUTE, value: request.tenantId },
        { key: TASK_CLASS_ATTRIBUTE, value: request.tags.taskClass ?? 'default' },
      ],
      staticSummary: `${request.model} for ${request.tenantId}${request.tags.taskClass ? ` (${request.tags.taskClass})` : ''}`,
      requestEagerStart: options.eagerStart,
    });
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    handle = options.client.workflow.getHandle<typeof llmRequestWorkflow>(workflowId);
  }
  try {
    return await handle.result();
  } catch (error) {
    throw toHttpError(error);
  }
}

/** Workflow outcomes that are not an answer, as HTTP errors. */
function toHttpError(error: unknown): unknown {
  if (!(error instanceof WorkflowFailedError)) return error;
  const cause = error.cause;
  if (cause instanceof ApplicationFailure && cause.type === 'InvalidRequest') {
    return new HttpError(400, 'invalid_request_error', cause.message, { code: 'invalid_request' });
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
  return new HttpError(500, 'server_error', `the request failed: ${cause?.message ?? error.message}`);
}
