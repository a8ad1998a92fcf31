// Runs in the workflow sandbox: deterministic, no I/O.
import { ActivityFailure, ApplicationFailure, TimeoutFailure } from '@temporalio/workflow';
import { isFailureType, type FailureType } from '../common/failure-types';
import { usageOf } from '../common/pricing';
import type { Usage } from '../common/response-schema';

export interface ClassifiedFailure {
  type: FailureType;
  message: string;
  /** Tries Temporal made before giving up on this model (0 when unknown). */
  tries: number;
  /** Tokens the provider billed over those tries, when it reported any. */
  billedUsage?: Usage;
  /**
   * Tries that ended without reporting (lost with their worker, or cut off
   * by a timeout): each may have been billed, unseen. Absent when none.
   */
  lostTries?: number;
}

function lostTriesOf(details: { lostTries?: unknown } | undefined, plus = 0): { lostTries?: number } {
  const lost = (typeof details?.lostTries === 'number' && details.lostTries > 0 ? details.lostTries : 0) + plus;
  return lost > 0 ? { lostTries: lost } : {};
}

/**
 * Reads a failed provider activity as a canonical failure type. Decides on
 * the failure's `type` string only: class identity does not survive
 * serialization, and unknown types count as the provider being unavailable.
 */
export function classifyActivityFailure(error: unknown): ClassifiedFailure {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  if (cause instanceof ApplicationFailure) {
    const details = cause.details?.[0] as { attempt?: unknown; billedUsage?: unknown; lostTries?: unknown } | undefined;
    const billedUsage = usageOf(details?.billedUsage);
    return {
      type: isFailureType(cause.type) ? cause.type : 'ProviderUnavailable',
      message: cause.message,
      tries: typeof details?.attempt === 'number' ? details.attempt : 0,
      ...(billedUsage ? { billedUsage } : {}),
      ...lostTriesOf(details),
    };
  }
  if (cause instanceof TimeoutFailure) {
    const heartbeat = cause.lastHeartbeatDetails as { attempt?: unknown; billedUsage?: unknown; lostTries?: unknown } | undefined;
    const billedUsage = usageOf(heartbeat?.billedUsage);
    return {
      type: 'Timeout',
      message: `activity ${(cause.timeoutType ?? 'unknown').toLowerCase().replace(/_/g, '-')} timeout`,
      tries: typeof heartbeat?.attempt === 'number' ? heartbeat.attempt : 0,
      ...(billedUsage && billedUsage.inputTokens + billedUsage.outputTokens > 0 ? { billedUsage } : {}),
      // The try the timeout cut off is lost too.
      ...lostTriesOf(heartbeat, 1),
    };
  }
  const message = cause instanceof Error ? cause.message : String(cause);
  return { type: 'ProviderUnavailable', message, tries: 0 };
}
