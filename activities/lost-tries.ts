import { activityInfo, Context } from '@temporalio/activity';

/**
 * Earlier tries of this provider activity that ended without reporting:
 * their worker died with the call in flight (a heartbeat timeout) or a
 * Temporal timeout cut them off. The provider may have billed each of them,
 * and nobody saw the bill, so the budget charges each at its worst case.
 *
 * The count travels in the heartbeat details (`lostTries`). Whether the try
 * just before this one was lost is read from the server, as the pending
 * activity's last failure; only a retry pays that one describe call. Until
 * it answers, and when it cannot say, the previous try counts as lost: the
 * ledger may over-count, never under-count.
 */
export interface LostTries {
  lostTries: number;
  /** The try just before this one ended unseen: its reservation is spent. */
  previousLost: boolean;
}

/** What this try assumes before the server says how the previous try ended. */
export function assumedLostTries(): LostTries {
  const { attempt, isLocal } = activityInfo();
  // A local activity's tries run inside the workflow task; one lost with its worker starts over at try 1, unseen here.
  const previousLost = attempt > 1 && !isLocal;
  return { lostTries: carriedLostTries() + (previousLost ? 1 : 0), previousLost };
}

/** The count, with the previous try's end read from the server. */
export async function countLostTries(): Promise<LostTries> {
  const assumed = assumedLostTries();
  const { activityId, workflowExecution } = activityInfo();
  if (!assumed.previousLost || workflowExecution === undefined) return assumed;
  try {
    const { raw } = await Context.current().client.workflow.getHandle(workflowExecution.workflowId, workflowExecution.runId).describe();
    const pending = raw.pendingActivities?.find((activity) => activity.activityId === activityId);
    // An application failure was reported by the try itself: whatever it was billed travelled with it.
    if (pending?.lastFailure && !pending.lastFailure.timeoutFailureInfo) return { lostTries: carriedLostTries(), previousLost: false };
  } catch {
    // Unknown: counted as lost.
  }
  return assumed;
}

function carriedLostTries(): number {
  const carried = (activityInfo().heartbeatDetails as { lostTries?: unknown } | undefined)?.lostTries;
  return typeof carried === 'number' && carried > 0 ? carried : 0;
}
