import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import type { QueryDefinition } from '@temporalio/common';
import { agentRunQuery } from '../workflows/agent/agent-run-workflow';
import { batchQuery } from '../workflows/batch/batch-workflow';
import { jobView } from './owned-workflow';

/** How long the dashboard waits for one job's query (a job whose worker is away shows its status only). */
const QUERY_TIMEOUT_MS = 3_000;

export interface BatchRow {
  id: string;
  tenant: string | null;
  startedAt: string;
  /** Temporal's status while the view is unreadable, else the batch's own. */
  status: string;
  total: number | null;
  completed: number | null;
  failed: number | null;
  url: string;
}

export interface AgentRunRow {
  id: string;
  tenant: string | null;
  startedAt: string;
  status: string;
  step: number | null;
  maxSteps: number | null;
  /** The newest event's text (a tool result, a question, the answer). */
  last: string | null;
  url: string;
}

/**
 * The latest batches and agent runs of every tenant, for the dashboard: each
 * one's own view (the running workflow's query, or its result), newest first.
 * Continued-as-new runs are left out, so a batch of many pages is one row.
 */
export async function recentJobs(client: Client, temporalUiUrl: string, limit = 8): Promise<{ batches: BatchRow[]; agentRuns: AgentRunRow[] }> {
  const link = (workflowId: string) => `${temporalUiUrl}/namespaces/${encodeURIComponent(client.options.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
  const [batches, runs] = await Promise.all([latest(client, 'batchWorkflow', limit), latest(client, 'agentRunWorkflow', limit)]);
  return {
    batches: await Promise.all(
      batches.map(async (execution) => {
        const view = await readView(client, execution, batchQuery);
        return {
          ...basics(execution),
          status: view?.status ?? execution.status.name.toLowerCase(),
          total: view?.request_counts.total ?? null,
          completed: view?.request_counts.completed ?? null,
          failed: view?.request_counts.failed ?? null,
          url: link(execution.workflowId),
        };
      }),
    ),
    agentRuns: await Promise.all(
      runs.map(async (execution) => {
        const view = await readView(client, execution, agentRunQuery);
        return {
          ...basics(execution),
          status: view?.status ?? execution.status.name.toLowerCase(),
          step: view?.step ?? null,
          maxSteps: view?.max_steps ?? null,
          last: view?.events.at(-1)?.text.slice(0, 200) ?? null,
          url: link(execution.workflowId),
        };
      }),
    ),
  };
}

async function latest(client: Client, type: string, limit: number): Promise<WorkflowExecutionInfo[]> {
  const found: WorkflowExecutionInfo[] = [];
  try {
    for await (const execution of client.workflow.list({ query: `WorkflowType = '${type}' AND ExecutionStatus != 'ContinuedAsNew'`, pageSize: limit })) {
      found.push(execution);
      if (found.length >= limit) break;
    }
  } catch {
    // Visibility unavailable: the rest of the page still answers.
  }
  return found.sort((left, right) => right.startTime.getTime() - left.startTime.getTime());
}

function basics(execution: WorkflowExecutionInfo) {
  const tenant = (execution.searchAttributes as Record<string, unknown[] | undefined>).Tenant?.[0];
  return { id: execution.workflowId, tenant: typeof tenant === 'string' ? tenant : null, startedAt: execution.startTime.toISOString() };
}

/** A completed job's result, a running one's query; undefined when neither answers in time. */
async function readView<T>(client: Client, execution: WorkflowExecutionInfo, query: QueryDefinition<T, []>): Promise<T | undefined> {
  const status = execution.status.name;
  if (status !== 'COMPLETED' && status !== 'RUNNING') return undefined;
  const read = jobView(client.workflow.getHandle(execution.workflowId, execution.runId), status, query);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), QUERY_TIMEOUT_MS);
  });
  try {
    return await Promise.race([read.catch(() => undefined), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
