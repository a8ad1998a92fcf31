import { ScheduleAlreadyRunning, ScheduleNotFoundError, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import type { EvalsConfig } from '../common/config-schema';
import { evalRunWorkflow } from '../workflows/evals/eval-run-workflow';

export const EVAL_SCHEDULE_ID = 'switchyard-evals';

/**
 * Makes the eval Schedule match the config: every task class's set run every
 * `evals.every` (one run at a time; a run still going skips the next), or no
 * Schedule when it is unset. Idempotent: every worker calls it at start.
 */
export async function ensureEvalSchedule(client: Client, taskQueue: string, evals: EvalsConfig): Promise<'created' | 'updated' | 'deleted' | 'none'> {
  const handle = client.schedule.getHandle(EVAL_SCHEDULE_ID);
  if (evals.every === undefined) {
    try {
      await handle.delete();
      return 'deleted';
    } catch (error) {
      if (error instanceof ScheduleNotFoundError) return 'none';
      throw error;
    }
  }
  const every = evals.every;
  const action = {
    type: 'startWorkflow' as const,
    workflowType: evalRunWorkflow,
    args: [{}] as [Record<string, never>],
    taskQueue,
    staticSummary: 'scheduled eval run: every task class',
  };
  try {
    await client.schedule.create({
      scheduleId: EVAL_SCHEDULE_ID,
      spec: { intervals: [{ every }] },
      action,
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1h' },
      state: { note: `evals every ${every} (config evals.every)` },
    });
    return 'created';
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
    await handle.update((previous) => ({ ...previous, spec: { intervals: [{ every }] }, action }));
    return 'updated';
  }
}
