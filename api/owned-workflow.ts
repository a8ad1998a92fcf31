import { WorkflowNotFoundError, type Client, type WorkflowHandle } from '@temporalio/client';
import type { Workflow } from '@temporalio/common';
import { HttpError } from './http-error';

/**
 * A tenant's workflow of one type (a batch, an agent run) by id, with its
 * status; a 404 when the id is malformed, unknown, of another type, or
 * another tenant's (the `Tenant` search attribute), so ids reveal nothing.
 */
export async function ownedWorkflow<T extends Workflow>(
  client: Client,
  options: { id: string; idPattern: RegExp; type: string; tenantId: string; notFound: string; code: string },
): Promise<{ handle: WorkflowHandle<T>; status: string }> {
  const notFound = () => new HttpError(404, 'not_found_error', `${options.notFound}: ${options.id}`, { param: 'id', code: options.code });
  if (!options.idPattern.test(options.id)) throw notFound();
  const handle = client.workflow.getHandle<T>(options.id);
  try {
    const description = await handle.describe();
    const owner = (description.searchAttributes as Record<string, unknown[] | undefined>).Tenant?.[0];
    if (description.type !== options.type || owner !== options.tenantId) throw notFound();
    return { handle, status: description.status.name };
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) throw notFound();
    throw error;
  }
}
