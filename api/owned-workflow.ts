import { WorkflowNotFoundError, type Client, type WorkflowHandle } from '@temporalio/client';
import type { QueryDefinition, Workflow } from '@temporalio/common';
import { HttpError } from '../dialects/http-error';
import { boundedTemporalCall } from '../client/temporal-unavailable';

/**
 * A tenant's workflow of one type (a batch, an agent run) by id, with its
 * status; a 404 when the id is malformed, unknown, of another type, or
 * another tenant's (the `Tenant` search attribute), so ids reveal nothing;
 * a 503 within `TEMPORAL_CALL_BOUND_MS` while Temporal cannot be reached.
 */
export async function ownedWorkflow<T extends Workflow>(
  client: Client,
  options: { id: string; idPattern: RegExp; type: string; tenantId: string; notFound: string; code: string },
): Promise<{ handle: WorkflowHandle<T>; status: string }> {
  const notFound = () => new HttpError(404, 'not_found_error', `${options.notFound}: ${options.id}`, { param: 'id', code: options.code });
  if (!options.idPattern.test(options.id)) throw notFound();
  const handle = client.workflow.getHandle<T>(options.id);
  try {
    const description = await boundedTemporalCall(client, () => handle.describe());
    const owner = (description.searchAttributes as Record<string, unknown[] | undefined>).Tenant?.[0];
    if (description.type !== options.type || owner !== options.tenantId) throw notFound();
    return { handle, status: description.status.name };
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) throw notFound();
    throw error;
  }
}

/**
 * The ids of a tenant's newest workflows of one type, for a list route's
 * `?limit=` (1–100, default 20). Continued-as-new runs are left out, so a
 * workflow of many runs is listed once. A 503 within `TEMPORAL_CALL_BOUND_MS`
 * while Temporal cannot be reached.
 */
export async function listOwnedIds(client: Client, options: { type: string; tenantId: string; limit: unknown }): Promise<string[]> {
  const limit = options.limit === undefined ? 20 : Number(options.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new HttpError(400, 'invalid_request_error', 'limit: an integer from 1 to 100', { param: 'limit' });
  const query = `WorkflowType = '${options.type}' AND Tenant = '${options.tenantId}' AND ExecutionStatus != 'ContinuedAsNew'`;
  return boundedTemporalCall(client, async () => {
    const ids: string[] = [];
    for await (const execution of client.workflow.list({ query })) {
      ids.push(execution.workflowId);
      if (ids.length >= limit) break;
    }
    return ids;
  });
}

/**
 * A job's own view (a batch object, an agent run): a completed workflow's
 * result, otherwise its query (a closed one is answered by replaying it).
 */
export function jobView<T>(handle: WorkflowHandle, status: string, query: QueryDefinition<T, []>): Promise<T> {
  return status === 'COMPLETED' ? (handle.result() as Promise<T>) : handle.query(query);
}
