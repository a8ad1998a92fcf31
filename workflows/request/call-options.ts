// Runs in the workflow sandbox: deterministic, no I/O.
// How one candidate is called: its activity options from its provider's
// config, and the activity that calls it (on this worker, or streamed on the
// caller's API process).
import { ActivityFailure, ApplicationFailure, proxyActivities, proxyLocalActivities, TimeoutFailure } from '@temporalio/workflow';
import type { CallModelResult, GatewayActivities } from '../../activities/create-activities';
import type { StreamActivities } from '../../activities/create-stream-activities';
import { ACTIVITY_TIMEOUT_MARGIN_MS, STREAM_PICKUP_TIMEOUT_MS } from '../../common/constants';
import { NON_RETRYABLE_FAILURE_TYPES } from '../../common/failure-types';
import { own } from '../../common/own';
import type { CanonicalRequest } from '../../common/request-schema';
import type { CallModelInput, RouteCandidate, RoutingSnapshot } from '../../common/routing-snapshot-schema';
import { activitySummary } from '../describe-attempts';

/** A call's options; a hedged pair's calls do not wait for their cancellation to reach the activity. */
export type CallOptions = ReturnType<typeof callOptions> & { cancellationType?: 'TRY_CANCEL' };

/** Temporal options for one model's activity, from its provider's config. */
export function callOptions(snapshot: RoutingSnapshot, candidate: RouteCandidate, position: number, chainLength: number, remainingMs: number | undefined) {
  const provider = own(snapshot.providers, candidate.provider);
  if (!provider) throw ApplicationFailure.nonRetryable(`provider ${candidate.provider} missing from snapshot`, 'InvalidRequest');
  const { retry, timeouts } = provider;
  return {
    startToCloseTimeout: timeouts.requestMs + ACTIVITY_TIMEOUT_MARGIN_MS,
    scheduleToCloseTimeout: Math.min(
      Math.max(timeouts.totalMs, timeouts.requestMs + ACTIVITY_TIMEOUT_MARGIN_MS),
      remainingMs ?? Number.POSITIVE_INFINITY,
    ),
    heartbeatTimeout: timeouts.heartbeatMs,
    retry: {
      maximumAttempts: retry.maximumAttempts,
      initialInterval: retry.initialIntervalMs,
      backoffCoefficient: retry.backoffCoefficient,
      maximumInterval: retry.maximumIntervalMs,
      nonRetryableErrorTypes: [...NON_RETRYABLE_FAILURE_TYPES],
    },
    summary: activitySummary(candidate.provider, candidate.model, position, chainLength),
  };
}

/**
 * Whether an outage answer (5xx, 429, timeout) from this candidate moves to
 * the next one at once: another model follows, and its provider does not ask
 * for `failover: after-retries`. The chain's last model keeps its retries.
 */
export function failsOverAtOnce(snapshot: RoutingSnapshot, candidate: RouteCandidate, position: number, chainLength: number): boolean {
  return position < chainLength && own(snapshot.providers, candidate.provider)?.retry.failover !== 'after-retries';
}

/** `callModel` with `options`: a local activity when the config runs provider calls so, else a regular one. */
export function callModel(snapshot: RoutingSnapshot, options: CallOptions, request: CanonicalRequest, target: CallModelInput): Promise<CallModelResult> {
  return snapshot.providerCallsAs === 'local'
    ? proxyLocalActivities<GatewayActivities>({
        startToCloseTimeout: options.startToCloseTimeout,
        scheduleToCloseTimeout: options.scheduleToCloseTimeout,
        retry: options.retry,
        summary: options.summary,
        ...(options.cancellationType ? { cancellationType: options.cancellationType } : {}),
      }).callModel(request, target)
    : proxyActivities<GatewayActivities>(options).callModel(request, target);
}

/**
 * The streaming activity on the caller's API process queue, with the
 * provider's policy: the stream's own cap replaces the per-call timeout (a
 * stream stays alive by moving), and a short schedule-to-start detects an
 * API process that is gone.
 */
export function streamOn(taskQueue: string, snapshot: RoutingSnapshot, candidate: RouteCandidate, options: CallOptions, remainingMs: number | undefined) {
  const timeouts = own(snapshot.providers, candidate.provider)?.timeouts;
  const streamMs = Math.max(timeouts?.streamMs ?? 0, timeouts?.requestMs ?? 0) + ACTIVITY_TIMEOUT_MARGIN_MS;
  return proxyActivities<StreamActivities>({
    ...options,
    taskQueue,
    startToCloseTimeout: streamMs,
    scheduleToCloseTimeout: Math.min(Math.max(options.scheduleToCloseTimeout, streamMs), remainingMs ?? Number.POSITIVE_INFINITY),
    scheduleToStartTimeout: STREAM_PICKUP_TIMEOUT_MS,
  });
}

/** The stream's API process never picked the call up. */
export function isPickupTimeout(error: unknown): boolean {
  return error instanceof ActivityFailure && error.cause instanceof TimeoutFailure && error.cause.timeoutType === 'SCHEDULE_TO_START';
}
