import { Router } from 'express';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { TENANT_ATTRIBUTE } from '../../common/search-attributes';
import { HttpError } from '../../dialects/http-error';
import { toRequestStatus, type RequestState } from '../../dialects/gateway-resources';
import { toHttpError, type RequestHandle } from '../../client/run-request';
import type { llmRequestWorkflow } from '../../workflows/llm-request-workflow';
import { progressQuery } from '../../workflows/progress-query';
import { boundedTemporalCall, withinBound } from '../../client/temporal-unavailable';

/** How long `GET /v1/requests/:id` waits for a worker to answer the progress query. */
const PROGRESS_QUERY_DEADLINE_MS = 3_000;

const STATUSES: Record<string, string> = {
  RUNNING: 'running',
  COMPLETED: 'completed',
  FAILED: 'failed',
  CANCELLED: 'cancelled',
  TERMINATED: 'failed',
  TIMED_OUT: 'failed',
  CONTINUED_AS_NEW: 'running',
};

/** Status (and, once finished, the result or error) of one request, as the API shows it. */
export async function requestStatusBody(handle: RequestHandle) {
  const description = await boundedTemporalCall(handle.client, () => handle.describe());
  const status = STATUSES[description.status.name] ?? 'unknown';
  const state: RequestState = { id: handle.workflowId, status, startTime: description.startTime, closeTime: description.closeTime };
  if (status === 'running') {
    // Answered by a worker; with none up (or Temporal gone), the status still answers (progress null) within the deadline.
    state.progress = await withinBound(
      handle.client.withDeadline(Date.now() + PROGRESS_QUERY_DEADLINE_MS, () => handle.query(progressQuery)),
      PROGRESS_QUERY_DEADLINE_MS,
    ).catch(() => null);
  }
  if (status === 'completed') state.result = await handle.result();
  if (status === 'failed') {
    const error = await handle.result().then(
      () => undefined,
      (failure: unknown) => toHttpError(failure),
    );
    state.error = error instanceof HttpError ? { message: error.message, type: error.type, code: error.options.code ?? null } : { message: 'failed' };
  }
  return toRequestStatus(state);
}

/**
 * The status of a request Temporal took but that cannot be read back now
 * (Temporal went away just after): it runs, and `GET /v1/requests/:id` tells more later.
 */
export function acceptedStatusBody(workflowId: string) {
  return toRequestStatus({ id: workflowId, status: 'running', startTime: new Date(), progress: null });
}

/**
 * `GET /v1/requests/:id` (status and result) and `DELETE /v1/requests/:id`
 * (cancel). A tenant sees only its own requests: any other id is a 404.
 * Either is a 503 within `TEMPORAL_CALL_BOUND_MS` while Temporal cannot be reached.
 */
export function requestsRouter(client: Client): Router {
  const router = Router();

  async function ownHandle(id: string, tenantId: string): Promise<RequestHandle> {
    const notFound = new HttpError(404, 'not_found_error', `no request with id ${id}`, { param: 'id', code: 'request_not_found' });
    if (!/^llm-[A-Za-z0-9_-]+$/.test(id) || id.length > 300) throw notFound;
    const handle = client.workflow.getHandle<typeof llmRequestWorkflow>(id);
    try {
      const description = await boundedTemporalCall(client, () => handle.describe());
      if (description.type !== 'llmRequestWorkflow' || description.typedSearchAttributes.get(TENANT_ATTRIBUTE) !== tenantId) {
        throw notFound;
      }
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) throw notFound;
      throw error;
    }
    return handle;
  }

  router.get('/v1/requests/:id', async (request, response) => {
    const handle = await ownHandle(request.params.id, response.locals.tenantId as string);
    response.json(await requestStatusBody(handle));
  });

  router.delete('/v1/requests/:id', async (request, response) => {
    const handle = await ownHandle(request.params.id, response.locals.tenantId as string);
    const { status } = await boundedTemporalCall(client, () => handle.describe());
    if (status.name !== 'RUNNING') {
      throw new HttpError(409, 'invalid_request_error', `request ${handle.workflowId} has already finished`, { code: 'request_finished' });
    }
    // Asking twice is harmless, so a cancel Temporal may not have received is a 503 to retry.
    await boundedTemporalCall(client, () => handle.cancel());
    response.status(202).json({ id: handle.workflowId, object: 'gateway.request', status: 'cancelling' });
  });

  return router;
}
