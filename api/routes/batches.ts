import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { Router } from 'express';
import { z } from 'zod';
import { TENANT_ATTRIBUTE } from '../../common/search-attributes';
import type { ConfigStore } from '../../services/config-store';
import { batchQuery, batchWorkflow, cancelBatchUpdate, type BatchInput, type BatchObject } from '../../workflows/batch/batch-workflow';
import { HttpError } from '../../dialects/http-error';
import { jobView, listOwnedIds, ownedWorkflow } from '../owned-workflow';
import { parseBody } from '../../dialects/parse-body';
import { boundedTemporalCall, cancelLateStart } from '../../client/temporal-unavailable';
import { BATCH_ENDPOINTS, filesOf } from './files';

const CreateBatchSchema = z
  .object({
    input_file_id: z.string().min(1).max(64),
    endpoint: z.enum(BATCH_ENDPOINTS),
    completion_window: z.literal('24h'),
    metadata: z.record(z.string().max(64), z.string().max(512)).nullable().optional(),
  })
  .strict();

/**
 * OpenAI's Batch API: `POST /v1/batches`, `GET /v1/batches/:id`,
 * `GET /v1/batches`, `POST /v1/batches/:id/cancel`. Each batch is a
 * `batchWorkflow` (its id is the batch id); a tenant sees only its own.
 */
export function batchesRouter(store: ConfigStore, client: Client, taskQueue: string): Router {
  const router = Router();

  router.post('/v1/batches', async (request, response) => {
    const tenantId = response.locals.tenantId as string;
    const body = parseBody(CreateBatchSchema, request.body);
    const file = filesOf(store).get(tenantId, body.input_file_id);
    if (!file || file.purpose !== 'batch') {
      throw new HttpError(404, 'not_found_error', `No such File object: ${body.input_file_id}`, { param: 'input_file_id', code: 'file_not_found' });
    }
    const batchId = `batch_${randomUUID().replace(/-/g, '')}`;
    const { batch } = store.loaded.config;
    const createdAt = Math.floor(Date.now() / 1000);
    const input: BatchInput = {
      batchId,
      tenantId,
      inputFileId: file.id,
      endpoint: body.endpoint,
      completionWindow: body.completion_window,
      metadata: body.metadata ?? null,
      createdAt,
      expiresAt: createdAt + batch.expireAfterSeconds,
      concurrency: batch.concurrency,
      pageSize: batch.pageSize,
      ratePerProvider: batch.ratePerProvider,
    };
    // Unreachable Temporal: a 503 and no batch (one that starts after all is cancelled: the retry makes another).
    await boundedTemporalCall(
      client,
      () =>
        client.workflow.start(batchWorkflow, {
          taskQueue,
          workflowId: batchId,
          args: [input],
          typedSearchAttributes: [{ key: TENANT_ATTRIBUTE, value: tenantId }],
          staticSummary: `batch of ${file.filename} for ${tenantId}`,
        }),
      { what: 'the gateway cannot reach Temporal and did not create the batch', onLate: (pending) => cancelLateStart(client, batchId, pending) },
    );
    // Temporal took the batch: the caller gets it even if Temporal cannot be read back just now.
    response.json(await describeBatch(client, batchId, tenantId).catch(() => acceptedBatch(input)));
  });

  router.get('/v1/batches', async (request, response) => {
    const tenantId = response.locals.tenantId as string;
    const ids = await listOwnedIds(client, { type: 'batchWorkflow', tenantId, limit: request.query.limit });
    const data = await Promise.all(ids.map((id) => describeBatch(client, id, tenantId)));
    response.json({ object: 'list', data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: false });
  });

  router.get('/v1/batches/:id', async (request, response) => {
    response.json(await describeBatch(client, request.params.id ?? '', response.locals.tenantId as string));
  });

  router.post('/v1/batches/:id/cancel', async (request, response) => {
    const tenantId = response.locals.tenantId as string;
    const batch = await describeBatch(client, request.params.id ?? '', tenantId);
    if (batch.status !== 'in_progress' && batch.status !== 'validating') {
      throw new HttpError(409, 'invalid_request_error', `batch ${batch.id} is ${batch.status}; only a running batch can be cancelled`, { code: 'batch_not_cancellable' });
    }
    response.json(await client.workflow.getHandle(batch.id).executeUpdate(cancelBatchUpdate));
  });
  return router;
}

/** A batch Temporal took but that cannot be read back now, as the workflow describes a new one. */
function acceptedBatch(input: BatchInput): BatchObject {
  return {
    id: input.batchId,
    object: 'batch',
    endpoint: input.endpoint,
    errors: null,
    input_file_id: input.inputFileId,
    completion_window: input.completionWindow,
    status: 'validating',
    output_file_id: null,
    error_file_id: null,
    created_at: input.createdAt,
    in_progress_at: null,
    expires_at: input.expiresAt ?? input.createdAt + 86_400,
    finalizing_at: null,
    completed_at: null,
    failed_at: null,
    expired_at: null,
    cancelling_at: null,
    cancelled_at: null,
    request_counts: { total: 0, completed: 0, failed: 0 },
    metadata: input.metadata,
  };
}

/** A tenant's batch as it stands: the running workflow's query, or its result; 404 for anyone else's. */
async function describeBatch(client: Client, batchId: string, tenantId: string): Promise<BatchObject> {
  const { handle, status } = await ownedWorkflow<typeof batchWorkflow>(client, {
    id: batchId,
    idPattern: /^batch_[a-f0-9]{32}$/,
    type: 'batchWorkflow',
    tenantId,
    notFound: 'No such Batch object',
    code: 'batch_not_found',
  });
  return jobView(handle, status, batchQuery);
}
