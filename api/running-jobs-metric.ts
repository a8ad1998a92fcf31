import type { Client } from '@temporalio/client';
import { Gauge } from 'prom-client';
import { registry } from '../runtime/metrics';

/** Longest a scrape waits for Temporal visibility to count the running jobs. */
const COUNT_DEADLINE_MS = 2_000;

const KINDS = { batch: 'batchWorkflow', agent: 'agentRunWorkflow' } as const;

let counted: Client | undefined;

/**
 * `switchyard_jobs_running{kind}`: the batches and agent runs running now, of
 * every tenant, counted in Temporal visibility when the metrics are scraped
 * (every API process exports the same count; alerts take the max). Beside
 * the batch and agent request series, it tells a stalled job from an idle
 * gateway. A count Temporal does not answer in time is left out of that scrape.
 */
new Gauge({
  name: 'switchyard_jobs_running',
  help: 'Batches and agent runs running now (Temporal visibility, counted at scrape), by kind (batch, agent).',
  labelNames: ['kind'] as const,
  registers: [registry],
  async collect() {
    this.reset();
    const client = counted;
    if (!client) return;
    await Promise.all(
      Object.entries(KINDS).map(async ([kind, workflowType]) => {
        const query = `WorkflowType = '${workflowType}' AND ExecutionStatus = 'Running'`;
        try {
          const { count } = await client.withDeadline(Date.now() + COUNT_DEADLINE_MS, () => client.workflow.count(query));
          this.set({ kind }, count);
        } catch {
          // Temporal away: no sample this scrape rather than a wrong zero.
        }
      }),
    );
  },
});

/** Counts the running jobs through `client` from now on. */
export function countRunningJobs(client: Client): void {
  counted = client;
}

