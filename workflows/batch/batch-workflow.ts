// Runs in the workflow sandbox: deterministic, no I/O.
import {
  ApplicationFailure,
  ChildWorkflowFailure,
  continueAsNew,
  defineQuery,
  defineUpdate,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  startChild,
} from '@temporalio/workflow';
import type { GatewayActivities } from '../../activities/create-activities';
import type { BatchItem, BatchItemResult } from '../../activities/batch/batch-activities';
import { BATCH_EXPIRED_MESSAGE, BATCH_FILE_HEARTBEAT_TIMEOUT_MS } from '../../common/constants';
import { FEATURE_ATTRIBUTE, TASK_CLASS_ATTRIBUTE, TENANT_ATTRIBUTE } from '../../common/search-attributes';
import { llmRequestWorkflow } from '../llm-request-workflow';

export type BatchStatus = 'validating' | 'failed' | 'in_progress' | 'finalizing' | 'completed' | 'expired' | 'cancelling' | 'cancelled';

/** What a batch started with (OpenAI's `POST /v1/batches` fields plus the gateway's). */
export interface BatchInput {
  batchId: string;
  tenantId: string;
  inputFileId: string;
  endpoint: string;
  completionWindow: string;
  metadata: Record<string, string> | null;
  /** Epoch seconds. */
  createdAt: number;
  /** Epoch seconds: items not started by then are not run (written to the error file as `batch_expired`). Default: a day after `createdAt`. */
  expiresAt?: number;
  concurrency: number;
  pageSize: number;
  /** Most item starts per second towards each provider (the route's first choice). */
  ratePerProvider?: Record<string, number>;
  /** Carried over continue-as-new. */
  progress?: BatchProgress;
}

export interface BatchProgress {
  total: number;
  /** The next page to run. */
  page: number;
  completed: number;
  failed: number;
  status: BatchStatus;
  inProgressAt: number | null;
  cancellingAt: number | null;
  /** When the completion window ran out (epoch seconds), if it did. */
  expiredAt?: number | null;
  errors: { code: string; message: string }[];
}

/** A batch as OpenAI's Batch API describes it. */
export interface BatchObject {
  id: string;
  object: 'batch';
  endpoint: string;
  errors: { object: 'list'; data: { code: string; message: string; line: null; param: null }[] } | null;
  input_file_id: string;
  completion_window: string;
  status: BatchStatus;
  output_file_id: string | null;
  error_file_id: string | null;
  created_at: number;
  in_progress_at: number | null;
  expires_at: number;
  finalizing_at: number | null;
  completed_at: number | null;
  failed_at: number | null;
  expired_at: number | null;
  cancelling_at: number | null;
  cancelled_at: number | null;
  request_counts: { total: number; completed: number; failed: number };
  metadata: Record<string, string> | null;
}

export const batchQuery = defineQuery<BatchObject>('batch');
export const cancelBatchUpdate = defineUpdate<BatchObject, []>('cancel');

const { openBatch, readBatchPage, writeBatchPage, expireBatchRest, finalizeBatch } = proxyActivities<GatewayActivities>({
  startToCloseTimeout: 5 * 60_000,
  heartbeatTimeout: BATCH_FILE_HEARTBEAT_TIMEOUT_MS,
  retry: { initialInterval: 1_000, maximumInterval: 30_000, nonRetryableErrorTypes: ['InvalidRequest'] },
});

/**
 * One batch: its input read a page at a time, every request of the page run
 * as its own request workflow (a child: the full routing, fallback and
 * durability of a single request; the child's id is the batch's id and the
 * line, so an item never runs twice), a few at a time, the page's results
 * written out, then the next page in a new run (continue-as-new), so a
 * batch of any size keeps a history of one page. Cancelling stops new items and
 * lets running ones finish; the output has every item that finished. Once the
 * completion window has passed (`expiresAt`), no item starts: running ones
 * finish, the rest go to the error file as `batch_expired`, and the batch ends
 * `expired`.
 */
export async function batchWorkflow(input: BatchInput): Promise<BatchObject> {
  const now = () => Math.floor(Date.now() / 1000);
  const progress: BatchProgress = input.progress ?? {
    total: 0,
    page: 0,
    completed: 0,
    failed: 0,
    status: 'validating',
    inProgressAt: null,
    cancellingAt: null,
    errors: [],
  };
  let finished: { outputFileId: string | null; errorFileId: string | null; at: number } | undefined;
  const view = (): BatchObject => describe(input, progress, finished);
  setHandler(batchQuery, view);
  setHandler(cancelBatchUpdate, () => {
    if (progress.status === 'in_progress' || progress.status === 'validating') {
      progress.status = 'cancelling';
      progress.cancellingAt = now();
    }
    return view();
  });

  if (input.progress === undefined) {
    try {
      progress.total = (await openBatch(input.tenantId, input.inputFileId)).total;
    } catch (error) {
      progress.status = 'failed';
      progress.errors.push({ code: 'invalid_input_file', message: innermostMessage(error) });
      finished = { outputFileId: null, errorFileId: null, at: now() };
      return view();
    }
    if (progress.status === 'validating') progress.status = 'in_progress';
    progress.inProgressAt = now();
  }

  const expiresAt = input.expiresAt ?? input.createdAt + 86_400;
  const expired = () => now() >= expiresAt;
  // Counted as each item ends, so the query shows progress within a page; a replay counts the same.
  const ended = (result: BatchItemResult) => {
    if (result.ok) progress.completed += 1;
    else progress.failed += 1;
  };
  while (progress.status === 'in_progress' && progress.page * input.pageSize < progress.total && !expired()) {
    const start = progress.page * input.pageSize;
    const items = await readBatchPage(input.tenantId, input.batchId, input.inputFileId, start, input.pageSize);
    const results = await runPage(input, items, () => progress.status !== 'in_progress' || expired(), ended);
    if (progress.status === 'in_progress' && expired()) {
      // The window ran out mid-page: the page's items that never started are expired.
      const ran = new Set(results.map((result) => result.index));
      for (const item of items.filter((candidate) => !ran.has(candidate.index))) {
        const result = expiredResult(item);
        results.push(result);
        ended(result);
      }
    }
    await writeBatchPage(input.tenantId, input.batchId, progress.page, results);
    progress.page += 1;
    setCurrentDetails(`**Batch** \`${input.batchId}\` · ${progress.status} · ${progress.completed + progress.failed}/${progress.total} done (${progress.failed} failed)`);
    // Every page starts a fresh run: a batch of any size keeps a history of one page.
    if (progress.status === 'in_progress' && progress.page * input.pageSize < progress.total && !expired()) {
      await continueAsNew<typeof batchWorkflow>({ ...input, progress });
    }
  }
  if (progress.status === 'in_progress' && expired()) {
    progress.expiredAt = now();
    const start = progress.page * input.pageSize;
    // Pages never read: every line goes to the error file as expired.
    if (start < progress.total) progress.failed += await expireBatchRest(input.tenantId, input.batchId, input.inputFileId, start);
    progress.page = Math.ceil(progress.total / input.pageSize);
  }

  const cancelled = progress.status === 'cancelling';
  progress.status = cancelled ? 'cancelling' : 'finalizing';
  const files = await finalizeBatch(input.tenantId, input.batchId);
  finished = { ...files, at: now() };
  progress.status = cancelled ? 'cancelled' : progress.expiredAt ? 'expired' : 'completed';
  setCurrentDetails(`**Batch** \`${input.batchId}\` · ${progress.status} · ${progress.completed} completed, ${progress.failed} failed of ${progress.total}`);
  return view();
}

/**
 * Runs one page's items, at most `concurrency` at once, calling `ended` as each
 * ends; once `stopped()`, items not yet started are left out.
 */
async function runPage(input: BatchInput, items: readonly BatchItem[], stopped: () => boolean, ended: (result: BatchItemResult) => void): Promise<BatchItemResult[]> {
  const results: BatchItemResult[] = [];
  // When each provider may next get an item (epoch ms), for the per-provider rate limit.
  const nextStart = new Map<string, number>();
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length && !stopped()) {
      const item = items[next++];
      if (item === undefined) break;
      const rate = item.provider === undefined ? undefined : input.ratePerProvider?.[item.provider];
      if (item.provider !== undefined && rate !== undefined) {
        // Wait for the provider's next slot, checked again on waking (timers can fire late, and
        // together): a slot is taken only when the item starts, so starts never bunch up.
        for (let at = nextStart.get(item.provider) ?? 0; Date.now() < at; at = nextStart.get(item.provider) ?? 0) await sleep(at - Date.now());
        nextStart.set(item.provider, Date.now() + 1_000 / rate);
        if (stopped()) {
          next = items.length;
          break;
        }
      }
      const result = await runItem(input, item);
      results.push(result);
      ended(result);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(input.concurrency, items.length)) }, lane));
  return results;
}

/** An item the completion window left unstarted, as OpenAI writes it. */
function expiredResult(item: BatchItem): BatchItemResult {
  return { index: item.index, customId: item.customId, ok: false, status: 0, code: 'batch_expired', message: BATCH_EXPIRED_MESSAGE };
}

async function runItem(input: BatchInput, item: BatchItem): Promise<BatchItemResult> {
  const { index, customId } = item;
  if (item.request === undefined) return { index, customId, ok: false, status: 400, code: 'invalid_request', message: item.invalid ?? 'invalid request' };
  try {
    const child = await startChild(llmRequestWorkflow, {
      workflowId: `${input.batchId}-${index}`,
      args: [item.request, { entry: 'batch' }],
      typedSearchAttributes: [
        { key: TENANT_ATTRIBUTE, value: input.tenantId },
        { key: TASK_CLASS_ATTRIBUTE, value: item.request.tags.taskClass ?? 'default' },
        { key: FEATURE_ATTRIBUTE, value: item.request.tags.feature ?? 'none' },
      ],
      staticSummary: `${item.request.model} for ${input.tenantId} (batch ${input.batchId}, line ${index + 1})`,
    });
    return { index, customId, ok: true, response: await child.result() };
  } catch (error) {
    const cause = error instanceof ChildWorkflowFailure ? error.cause : error;
    const invalid = cause instanceof ApplicationFailure && (cause.type === 'InvalidRequest' || cause.type === 'BudgetExceeded');
    return {
      index,
      customId,
      ok: false,
      status: invalid ? (cause.type === 'BudgetExceeded' ? 429 : 400) : 500,
      code: invalid ? (cause.type === 'BudgetExceeded' ? 'budget_exceeded' : 'invalid_request') : 'server_error',
      message: cause instanceof Error ? cause.message : String(cause),
    };
  }
}

function describe(input: BatchInput, progress: BatchProgress, finished: { outputFileId: string | null; errorFileId: string | null; at: number } | undefined): BatchObject {
  const at = finished?.at ?? null;
  return {
    id: input.batchId,
    object: 'batch',
    endpoint: input.endpoint,
    errors: progress.errors.length === 0 ? null : { object: 'list', data: progress.errors.map((error) => ({ ...error, line: null, param: null })) },
    input_file_id: input.inputFileId,
    completion_window: input.completionWindow,
    status: progress.status,
    output_file_id: finished?.outputFileId ?? null,
    error_file_id: finished?.errorFileId ?? null,
    created_at: input.createdAt,
    in_progress_at: progress.inProgressAt,
    expires_at: input.expiresAt ?? input.createdAt + 86_400,
    finalizing_at: progress.status === 'completed' ? at : null,
    completed_at: progress.status === 'completed' ? at : null,
    failed_at: progress.status === 'failed' ? at : null,
    expired_at: progress.status === 'expired' ? (progress.expiredAt ?? at) : null,
    cancelling_at: progress.cancellingAt,
    cancelled_at: progress.status === 'cancelled' ? at : null,
    request_counts: { total: progress.total, completed: progress.completed, failed: progress.failed },
    metadata: input.metadata,
  };
}

function innermostMessage(error: unknown): string {
  let current: unknown = error;
  while (current instanceof Error && current.cause instanceof Error) current = current.cause;
  return current instanceof Error ? current.message : String(current);
}
