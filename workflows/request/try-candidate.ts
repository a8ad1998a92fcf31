// Runs in the workflow sandbox: deterministic, no I/O.
// One candidate of the chain, tried: its budget reserved, its call made
// (streamed to the caller when it asked for a stream), its attempt recorded
// and settled.
import { CancellationScope, isCancellation } from '@temporalio/workflow';
import type { CallModelResult } from '../../activities/create-activities';
import { STOP_CHAIN_FAILURE_TYPES } from '../../common/failure-types';
import { own } from '../../common/own';
import { costOfUsage } from '../../common/pricing';
import { answeredAttempt, type StreamAnswerContext } from '../../common/respond';
import type { CanonicalRequest } from '../../common/request-schema';
import type { Attempt, ModelOutput } from '../../common/response-schema';
import type { CallModelInput, RouteCandidate, RoutingSnapshot } from '../../common/routing-snapshot-schema';
import { classifyActivityFailure, type ClassifiedFailure } from '../classify-activity-failure';
import type { RequestProgress } from '../progress-query';
import type { BudgetHolds } from './budget-holds';
import { callModel, callOptions, failsOverAtOnce, isPickupTimeout, streamOn } from './call-options';

/** What a request's chain shares while it is tried. */
export interface ChainContext {
  request: CanonicalRequest;
  snapshot: RoutingSnapshot;
  attempts: Attempt[];
  progress: RequestProgress;
  holds: BudgetHolds;
  /** Where the answer streams to; cleared when the caller's API process is gone. */
  delivery: { streamTaskQueue?: string };
  /** Streamed requests: the response's parts known before any call, so the streaming call can end the caller's stream. */
  streamAnswer?: Omit<StreamAnswerContext, 'attempts' | 'position' | 'pricing'>;
}

/** How one candidate ended: its answer, skipped (over budget; `refuse` ends the chain), failed, or a failure that stops the chain. */
export type CandidateResult =
  | { kind: 'answered'; output: ModelOutput }
  | { kind: 'skipped'; refuse: boolean }
  | { kind: 'failed' }
  | { kind: 'stopped'; failure: ClassifiedFailure };

export async function tryCandidate(
  chain: ChainContext,
  candidate: RouteCandidate,
  position: number,
  chainLength: number,
  remainingMs: number | undefined,
  /** One of a hedged pair (`afterMs`: the first one, which the hedge joins then): cancelled at once when the other answers. */
  hedged?: { afterMs?: number },
): Promise<CandidateResult> {
  const { request, snapshot, attempts, progress, holds, delivery } = chain;
  const startedAt = Date.now();
  const hedgeAfterMs = hedged?.afterMs;
  const options = { ...callOptions(snapshot, candidate, position, chainLength, remainingMs), ...(hedged ? { cancellationType: 'TRY_CANCEL' as const } : {}) };
  const target: CallModelInput = {
    model: candidate.model,
    provider: candidate.provider,
    upstreamModel: candidate.upstreamModel,
    ...(candidate.redact ? { redact: true } : {}),
    ...(failsOverAtOnce(snapshot, candidate, position, chainLength) ? { failoverAtOnce: true as const } : {}),
    ...(hedgeAfterMs === undefined ? {} : { hedgeAfterMs }),
  };
  progress.position = position;
  progress.current = { model: candidate.model, provider: candidate.provider, streaming: delivery.streamTaskQueue !== undefined };
  const pricing = own(snapshot.models, candidate.model)?.pricing;
  // A priced attempt goes out only once every budget it counts against has reserved its worst case.
  const reservation = holds.reserves(candidate) ? await holds.reserve(candidate, position, options.scheduleToCloseTimeout) : undefined;
  if (reservation?.granted === false) {
    attempts.push({
      position,
      provider: candidate.provider,
      model: candidate.model,
      outcome: 'skipped',
      failureType: 'BudgetExceeded',
      message: reservation.message,
      tries: 0,
      durationMs: Date.now() - startedAt,
    });
    return { kind: 'skipped', refuse: reservation.refuse };
  }
  // A retry after a lost try reserves again (the activity does, under this reservation's id).
  const attemptTarget: CallModelInput = reservation
    ? { ...target, budget: { budgets: reservation.budgets, reservationId: reservation.reservationId, worstCaseUsd: reservation.worstCaseUsd, leaseMs: reservation.leaseMs } }
    : target;
  try {
    let result: CallModelResult | undefined;
    if (delivery.streamTaskQueue !== undefined) {
      try {
        const answerContext: StreamAnswerContext | undefined = chain.streamAnswer && {
          ...chain.streamAnswer,
          attempts: [...attempts],
          position,
          ...(pricing === undefined ? {} : { pricing }),
        };
        result = await streamOn(delivery.streamTaskQueue, snapshot, candidate, options, remainingMs).streamModel(request, attemptTarget, answerContext);
      } catch (error) {
        if (!isPickupTimeout(error)) throw error;
        // Nobody picked the stream up: the caller's API process is gone. Finish without streaming.
        delivery.streamTaskQueue = undefined;
        progress.current = { ...progress.current, streaming: false };
      }
    }
    result ??= await callModel(snapshot, options, request, attemptTarget);
    attempts.push(answeredAttempt(position, candidate, result, Date.now() - startedAt, pricing));
    if (reservation) await holds.settle(reservation, attempts.at(-1)?.costUsd, result.lostTries ?? 0, true);
    return { kind: 'answered', output: result.output };
  } catch (error) {
    if (isCancellation(error)) {
      // The call in flight may have been billed, unseen: its worst case is charged, never freed.
      if (reservation) await CancellationScope.nonCancellable(() => holds.settle(reservation, 0, 1));
      await holds.releaseHeld();
      throw error;
    }
    const failure = classifyActivityFailure(error);
    attempts.push({
      position,
      provider: candidate.provider,
      model: candidate.model,
      outcome: 'failed',
      failureType: failure.type,
      message: failure.message,
      tries: failure.tries,
      durationMs: Date.now() - startedAt,
      ...(failure.billedUsage ? { usage: failure.billedUsage, costUsd: costOfUsage(failure.billedUsage, pricing) } : {}),
    });
    if (reservation) await holds.settle(reservation, attempts.at(-1)?.costUsd, failure.lostTries ?? 0);
    return STOP_CHAIN_FAILURE_TYPES.includes(failure.type) ? { kind: 'stopped', failure } : { kind: 'failed' };
  }
}
