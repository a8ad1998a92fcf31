// Runs in the workflow sandbox: deterministic, no I/O.
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  patched,
  TimeoutFailure,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { CallModelResult, GatewayActivities } from '../activities/create-activities';
import type { StreamActivities } from '../activities/create-stream-activities';
import {
  ACTIVITY_TIMEOUT_MARGIN_MS,
  BUDGET_UPDATE_TIMEOUT_MS,
  CACHE_TIMEOUT_MS,
  FALLBACK_MODEL_ID,
  ROUTING_SNAPSHOT_TIMEOUT_MS,
  STREAM_PICKUP_TIMEOUT_MS,
} from '../common/constants';
import { NO_ELIGIBLE_MODEL_MESSAGE, NON_RETRYABLE_FAILURE_TYPES, STOP_CHAIN_FAILURE_TYPES } from '../common/failure-types';
import { own } from '../common/own';
import { isRequestableModel } from '../common/requestable-model';
import type { CanonicalRequest } from '../common/request-schema';
import type { Attempt, CacheState, CanonicalResponse, ModelOutput, Outcome } from '../common/response-schema';
import type { AttemptBudget, BudgetRef, CallModelInput, RouteCandidate, RoutePlan, RoutingSnapshot } from '../common/routing-snapshot-schema';
import { costOfUsage, roundUsd } from '../common/pricing';
import {
  COST_ATTRIBUTE,
  FALLBACK_COUNT_ATTRIBUTE,
  MODEL_ATTRIBUTE,
  OUTCOME_ATTRIBUTE,
  PROVIDER_ATTRIBUTE,
} from '../common/search-attributes';
import { cacheUse } from './cache-policy';
import { classifyActivityFailure } from './classify-activity-failure';
import { activitySummary, attemptTable, routeSummary } from './describe-attempts';
import { planRoute } from './plan-route';
import { progressQuery, type RequestProgress } from './progress-query';

const { getRoutingSnapshot } = proxyLocalActivities<GatewayActivities>({
  startToCloseTimeout: ROUTING_SNAPSHOT_TIMEOUT_MS,
  retry: { maximumAttempts: 3, initialInterval: 100 },
  summary: 'routing snapshot',
});

// Budget ledgers are workflows served by these same workers: regular activities, so a request
// waiting on its ledger never holds a workflow-task slot the ledger itself needs (local
// activities run inside the workflow task and would starve it under load). Retry for a while,
// then give up on the attempt (reserve) or the record (settle: the lease frees the money).
const { reserveBudget } = proxyActivities<GatewayActivities>({
  startToCloseTimeout: BUDGET_UPDATE_TIMEOUT_MS,
  scheduleToCloseTimeout: 6 * BUDGET_UPDATE_TIMEOUT_MS,
  retry: { initialInterval: 200, maximumInterval: 2_000 },
  summary: 'reserve budget',
});
const { lookupCache, storeCache } = proxyLocalActivities<GatewayActivities>({
  startToCloseTimeout: CACHE_TIMEOUT_MS,
  retry: { maximumAttempts: 2, initialInterval: 100 },
  summary: 'response cache',
});
const { settleBudget, releaseBudgets } = proxyActivities<GatewayActivities>({
  startToCloseTimeout: BUDGET_UPDATE_TIMEOUT_MS,
  scheduleToCloseTimeout: 30 * BUDGET_UPDATE_TIMEOUT_MS,
  retry: { initialInterval: 200, maximumInterval: 5_000 },
  summary: 'settle budget',
});

/** How the answer travels besides the workflow result. */
export interface DeliveryOptions {
  /**
   * Stream the answer: the task queue of the API process holding the
   * caller's connection; its `streamModel` activity relays the tokens.
   */
  streamTaskQueue?: string;
}

/**
 * One LLM request: take a routing snapshot, plan the chain, try each model as
 * a provider activity with that provider's retry policy and timeouts, and
 * answer with the first success, or with the deterministic fallback when
 * every model failed. Fails only for an invalid request (no model can fix it)
 * or a stream that broke after part of the answer reached the caller.
 */
export async function llmRequestWorkflow(request: CanonicalRequest, delivery: DeliveryOptions = {}): Promise<CanonicalResponse> {
  const attempts: Attempt[] = [];
  const progress: RequestProgress = { phase: 'routing', position: 0, chainLength: 0, current: null, attempts };
  setHandler(progressQuery, () => progress);

  const snapshot = await getRoutingSnapshot(request);
  const plan = planRoute(request, snapshot, { streaming: delivery.streamTaskQueue !== undefined });
  const budgets: BudgetRef[] = (snapshot.budgets ?? []).map(({ name, workflowId, periodKey, endsAt, limitUsd }) => ({
    name,
    workflowId,
    periodKey,
    endsAt,
    limitUsd,
  }));
  /**
   * When the request ends, frees whatever it still holds: a reservation made
   * in a workflow task lost with its worker (for a plan this history never
   * recorded) would otherwise hold money until its lease ran out.
   */
  const heldPrefix = `${workflowInfo().workflowId}/${workflowInfo().runId}/`;
  let released = false;
  const releaseHeld = async (): Promise<void> => {
    if (budgets.length === 0 || released) return;
    released = true;
    try {
      await CancellationScope.nonCancellable(() => releaseBudgets(budgets, heldPrefix));
    } catch {
      // Left to the leases.
    }
  };
  // The decision is on the workflow's page from the start, and again with the attempts at the end.
  setCurrentDetails(attemptTable(plan, attempts, snapshot.configVersion));
  if (plan.refused !== undefined) throw ApplicationFailure.nonRetryable(plan.refused, 'InvalidRequest');
  if (plan.budgetExceeded !== undefined) {
    await releaseHeld();
    record(plan, attempts, snapshot, FALLBACK_MODEL_ID, FALLBACK_MODEL_ID, 'budget_exceeded');
    throw ApplicationFailure.nonRetryable(plan.budgetExceeded, 'BudgetExceeded');
  }
  // Models the request may use but that cannot take it now (open breakers): nothing left to try is not the caller's fault.
  const unavailable = plan.candidates.length === 0 ? plan.rejected.filter((model) => model.unavailable) : [];
  if (unavailable.length > 0 && patched(UNAVAILABLE_FALLBACK_PATCH)) {
    for (const model of unavailable) {
      attempts.push({
        position: attempts.length + 1,
        provider: own(snapshot.models, model.modelId)?.provider ?? FALLBACK_MODEL_ID,
        model: model.modelId,
        outcome: 'skipped',
        failureType: 'BreakerOpen',
        message: model.reason,
        tries: 0,
        durationMs: 0,
      });
    }
  } else if (plan.candidates.length === 0) {
    const reasons = plan.rejected.map((model) => `${model.modelId}: ${model.reason}`).join('; ');
    throw ApplicationFailure.nonRetryable(
      isRequestableModel(snapshot, request.model)
        ? `${NO_ELIGIBLE_MODEL_MESSAGE}${reasons ? ` (${reasons})` : ''}`
        : `model "${request.model}" is not configured`,
      'InvalidRequest',
    );
  }

  // An identical request answered lately (same tenant, route, messages, tools, format, sampling) is answered from the cache.
  const caching = cacheUse(request, plan, snapshot);
  const cached = caching.use ? await orMiss(lookupCache(request, plan.resolvedFrom)) : undefined;
  if (caching.use && cached?.entry !== undefined && Date.now() - cached.entry.storedAt < caching.ttlMs) {
    const { entry } = cached;
    await releaseHeld();
    Object.assign(progress, { phase: 'finished', current: null });
    record(plan, attempts, snapshot, entry.provider, entry.model, 'success');
    return respond(request, snapshot, plan, {
      // Nothing was billed for this answer.
      output: { ...entry.output, usage: { inputTokens: 0, outputTokens: 0 } },
      model: entry.model,
      provider: entry.provider,
      outcome: 'success',
      fallbacks: 0,
      attempts,
      cache: 'hit',
    });
  }

  const chainLength = plan.candidates.length;
  const whenLow = new Map((snapshot.budgets ?? []).map((budget) => [budget.name, budget.whenLow]));

  /** Reserves a priced attempt's worst case; undefined when nothing needs reserving. */
  async function reserveFor(
    refs: readonly BudgetRef[],
    candidate: RouteCandidate,
    position: number,
    callMs: number,
  ): Promise<({ granted: true } & AttemptBudget) | { granted: false; message: string; refuse: boolean } | undefined> {
    const worstCase = candidate.estimatedCostUsd ?? 0;
    if (refs.length === 0 || worstCase === 0) return undefined;
    const { workflowId, runId } = workflowInfo();
    const id = `${workflowId}/${runId}/${position}`;
    const leaseMs = callMs + BUDGET_LEASE_MARGIN_MS;
    try {
      const outcome = await reserveBudget(refs, id, worstCase, leaseMs);
      if (outcome.granted) return { granted: true, budgets: [...refs], reservationId: id, worstCaseUsd: worstCase, leaseMs };
      return {
        granted: false,
        message: `budget "${outcome.budget}" has ${outcome.availableUsd} USD left, less than this attempt's worst case of ${worstCase} USD; not sent`,
        refuse: whenLow.get(outcome.budget) === 'refuse',
      };
    } catch (error) {
      if (isCancellation(error)) throw error;
      // A ledger that cannot be reached cannot account for the call: it does not go out.
      return { granted: false, message: `budget ledger unreachable: ${describeError(error)}; not sent`, refuse: false };
    }
  }
  progress.phase = 'calling';
  progress.chainLength = chainLength;
  let answer: { candidate: RouteCandidate; output: ModelOutput } | undefined;

  // The caller's deadline bounds the whole chain; past it, the deterministic fallback answers.
  const deadline = request.timeoutMs === undefined ? undefined : Date.now() + request.timeoutMs;
  let streamTaskQueue = delivery.streamTaskQueue;

  for (const [index, candidate] of plan.candidates.entries()) {
    const position = index + 1;
    const startedAt = Date.now();
    const remainingMs = deadline === undefined ? undefined : deadline - startedAt;
    if (remainingMs !== undefined && remainingMs <= 0) break;
    const options = activityOptions(snapshot, candidate, position, chainLength, remainingMs);
    const target: CallModelInput = {
      modelId: candidate.modelId,
      providerId: candidate.providerId,
      upstreamModel: candidate.upstreamModel,
      ...(candidate.redact ? { redact: true } : {}),
    };
    progress.position = position;
    progress.current = { model: candidate.modelId, provider: candidate.providerId, streaming: streamTaskQueue !== undefined };
    // A priced attempt goes out only once every budget it counts against has reserved its worst case.
    const reservation = await reserveFor(budgets, candidate, position, options.scheduleToCloseTimeout);
    if (reservation?.granted === false) {
      attempts.push({
        position,
        provider: candidate.providerId,
        model: candidate.modelId,
        outcome: 'skipped',
        failureType: 'BudgetExceeded',
        message: reservation.message,
        tries: 0,
        durationMs: Date.now() - startedAt,
      });
      if (reservation.refuse) break;
      continue;
    }
    /** Settles the attempt: what it cost, and the worst case of every try that may have been billed unseen. */
    const settle = async (costUsd: number | undefined, lostTries: number, final = false): Promise<void> => {
      if (!reservation) return;
      // The answer's settle also frees what the request may still hold: one ledger update instead of two.
      await settleFor(budgets, reservation.reservationId, costUsd ?? 0, final ? heldPrefix : undefined, lostTries);
      if (final) released = true;
    };
    // A retry after a lost try reserves again (the activity does, under this reservation's id).
    const attemptTarget: CallModelInput = reservation
      ? { ...target, budget: { budgets: reservation.budgets, reservationId: reservation.reservationId, worstCaseUsd: reservation.worstCaseUsd, leaseMs: reservation.leaseMs } }
      : target;
    try {
      let result: CallModelResult | undefined;
      if (streamTaskQueue !== undefined) {
        try {
          result = await streamOn(streamTaskQueue, snapshot, candidate, options, remainingMs).streamModel(request, attemptTarget);
        } catch (error) {
          if (!isPickupTimeout(error)) throw error;
          // Nobody picked the stream up: the caller's API process is gone. Finish without streaming.
          streamTaskQueue = undefined;
          progress.current = { ...progress.current, streaming: false };
        }
      }
      result ??=
        snapshot.providerCallsAs === 'local'
          ? await proxyLocalActivities<GatewayActivities>({
              startToCloseTimeout: options.startToCloseTimeout,
              scheduleToCloseTimeout: options.scheduleToCloseTimeout,
              retry: options.retry,
              summary: options.summary,
            }).callModel(request, attemptTarget)
          : await proxyActivities<GatewayActivities>(options).callModel(request, attemptTarget);
      const usage = result.billedUsage ?? result.output.usage;
      attempts.push({
        position,
        provider: candidate.providerId,
        model: candidate.modelId,
        outcome: 'success',
        tries: result.tries,
        durationMs: Date.now() - startedAt,
        usage,
        costUsd: costOfUsage(usage, own(snapshot.models, candidate.modelId)?.pricing),
      });
      await settle(attempts.at(-1)?.costUsd, result.lostTries ?? 0, true);
      answer = { candidate, output: result.output };
      break;
    } catch (error) {
      if (isCancellation(error)) {
        // The call in flight may have been billed, unseen: its worst case is charged, never freed.
        await CancellationScope.nonCancellable(() => settle(0, 1));
        await releaseHeld();
        throw error;
      }
      const failure = classifyActivityFailure(error);
      attempts.push({
        position,
        provider: candidate.providerId,
        model: candidate.modelId,
        outcome: 'failed',
        failureType: failure.type,
        message: failure.message,
        tries: failure.tries,
        durationMs: Date.now() - startedAt,
        ...(failure.billedUsage
          ? { usage: failure.billedUsage, costUsd: costOfUsage(failure.billedUsage, own(snapshot.models, candidate.modelId)?.pricing) }
          : {}),
      });
      await settle(attempts.at(-1)?.costUsd, failure.lostTries ?? 0);
      if (STOP_CHAIN_FAILURE_TYPES.includes(failure.type)) {
        const stopped = failure.type === 'StreamInterrupted' ? 'stream_interrupted' : 'invalid_request';
        await releaseHeld();
        Object.assign(progress, { phase: 'finished', current: null });
        record(plan, attempts, snapshot, candidate.providerId, candidate.modelId, stopped);
        throw ApplicationFailure.create({
          type: failure.type,
          message: failure.message,
          nonRetryable: true,
          details: [{ attempts }],
        });
      }
    }
  }

  await releaseHeld();
  Object.assign(progress, { phase: 'finished', current: null });
  const overBudget = attempts.filter((attempt) => attempt.failureType === 'BudgetExceeded');
  if (!answer && overBudget.length > 0) {
    // Nothing answered and a budget kept models out: say so (429) instead of a fallback answer that hides it.
    record(plan, attempts, snapshot, FALLBACK_MODEL_ID, FALLBACK_MODEL_ID, 'budget_exceeded');
    throw ApplicationFailure.create({
      type: 'BudgetExceeded',
      message: overBudget.map((attempt) => `${attempt.model}: ${attempt.message ?? 'over budget'}`).join('; '),
      nonRetryable: true,
      details: [{ attempts }],
    });
  }
  // Every model failed: a fresh-enough cached answer to the same request stands in before the deterministic one.
  const stale =
    !answer && caching.use && cached?.entry !== undefined && Date.now() - cached.entry.storedAt < caching.staleMs ? cached.entry : undefined;
  if (answer && caching.use && cached !== undefined) {
    await orMiss(storeCache(cached.key, { output: answer.output, model: answer.candidate.modelId, provider: answer.candidate.providerId, storedAt: Date.now() }));
  }
  const fallbacks = answer ? attempts.length - 1 : attempts.length;
  const outcome: Outcome = answer ? 'success' : 'fallback_answer';
  const provider = answer?.candidate.providerId ?? stale?.provider ?? FALLBACK_MODEL_ID;
  const model = answer?.candidate.modelId ?? stale?.model ?? FALLBACK_MODEL_ID;
  record(plan, attempts, snapshot, provider, model, outcome);

  const output: ModelOutput = answer?.output ??
    (stale ? { ...stale.output, usage: { inputTokens: 0, outputTokens: 0 } } : undefined) ?? {
      text: snapshot.fallbackMessage,
      toolCalls: [],
      finishReason: { unified: 'stop', raw: 'fallback' },
      refusal: null,
      usage: { inputTokens: 0, outputTokens: 0 },
      warnings: [],
    };
  const cacheState: CacheState | undefined = caching.use ? (stale ? 'stale' : 'miss') : snapshot.cache ? 'bypass' : undefined;
  return respond(request, snapshot, plan, { output, model, provider, outcome, fallbacks, attempts, cache: cacheState });
}

/** The canonical response: the answer and the story of how it came about. */
function respond(
  request: CanonicalRequest,
  snapshot: RoutingSnapshot,
  plan: RoutePlan,
  answer: {
    output: ModelOutput;
    model: string;
    provider: string;
    outcome: Outcome;
    fallbacks: number;
    attempts: Attempt[];
    cache: CacheState | undefined;
  },
): CanonicalResponse {
  const { output, attempts } = answer;
  return {
    requestId: request.requestId,
    workflowId: workflowInfo().workflowId,
    model: answer.model,
    provider: answer.provider,
    outcome: answer.outcome,
    text: output.text,
    toolCalls: output.toolCalls,
    finishReason: output.finishReason,
    refusal: output.refusal,
    usage: output.usage,
    costUsd: totalCost(attempts),
    ...(answer.cache === undefined ? {} : { cache: answer.cache }),
    fallbacks: answer.fallbacks,
    attempts,
    configVersion: snapshot.configVersion,
    route: routeSummary(plan),
    warnings: output.warnings,
    createdAt: new Date(Date.now()).toISOString(),
  };
}

/** Temporal options for one model's activity, from its provider's config. */
function activityOptions(
  snapshot: RoutingSnapshot,
  candidate: RouteCandidate,
  position: number,
  chainLength: number,
  remainingMs: number | undefined,
) {
  const provider = own(snapshot.providers, candidate.providerId);
  if (!provider) throw ApplicationFailure.nonRetryable(`provider ${candidate.providerId} missing from snapshot`, 'InvalidRequest');
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
    summary: activitySummary(candidate.providerId, candidate.modelId, position, chainLength),
  };
}

/**
 * The streaming activity on the caller's API process queue, with the
 * provider's policy: the stream's own cap replaces the per-call timeout (a
 * stream stays alive by moving), and a short schedule-to-start detects an
 * API process that is gone.
 */
function streamOn(
  taskQueue: string,
  snapshot: RoutingSnapshot,
  candidate: RouteCandidate,
  options: ReturnType<typeof activityOptions>,
  remainingMs: number | undefined,
) {
  const timeouts = own(snapshot.providers, candidate.providerId)?.timeouts;
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
function isPickupTimeout(error: unknown): boolean {
  return (
    error instanceof ActivityFailure && error.cause instanceof TimeoutFailure && error.cause.timeoutType === 'SCHEDULE_TO_START'
  );
}

/** The cache is never worth a failed request: a lookup or store that fails is a miss. */
async function orMiss<T>(operation: Promise<T>): Promise<T | undefined> {
  try {
    return await operation;
  } catch (error) {
    if (isCancellation(error)) throw error;
    return undefined;
  }
}

/** A reservation outlives its attempt's longest run by this much before its money is freed. */
const BUDGET_LEASE_MARGIN_MS = 60_000;

/** Records an attempt's cost in its budgets; a ledger out of reach for minutes is left to its lease. */
async function settleFor(refs: readonly BudgetRef[], id: string, costUsd: number, releasePrefix: string | undefined, lostTries: number): Promise<void> {
  try {
    await settleBudget(refs, id, costUsd, releasePrefix, lostTries);
  } catch (error) {
    if (isCancellation(error)) throw error;
  }
}

function describeError(error: unknown): string {
  return error instanceof ActivityFailure && error.cause ? error.cause.message : error instanceof Error ? error.message : String(error);
}

/** Workflows recorded before the cost memo existed complete without it. */
const COST_MEMO_PATCH = 'cost-by-model-memo';
/** A plan left with only unavailable models (open breakers) answers the deterministic fallback instead of failing as a bad request. */
const UNAVAILABLE_FALLBACK_PATCH = 'unavailable-models-fallback';

function costByModel(attempts: readonly Attempt[]): Record<string, number> {
  const costs: Record<string, number> = {};
  for (const attempt of attempts) {
    if (attempt.costUsd === undefined || attempt.costUsd === 0) continue;
    costs[attempt.model] = roundUsd((own(costs, attempt.model) ?? 0) + attempt.costUsd);
  }
  return costs;
}

/** Every attempt's cost, failed ones included (USD). */
function totalCost(attempts: readonly Attempt[]): number {
  return roundUsd(attempts.reduce((sum, attempt) => sum + (attempt.costUsd ?? 0), 0));
}

/** Search attributes and UI details, set in the workflow's last task (no extra round trip). */
function record(
  plan: ReturnType<typeof planRoute>,
  attempts: Attempt[],
  snapshot: RoutingSnapshot,
  provider: string,
  model: string,
  outcome: Outcome | 'invalid_request' | 'stream_interrupted' | 'budget_exceeded',
): void {
  const failed = attempts.filter((attempt) => attempt.outcome === 'failed').length;
  // Spend by model, failed attempts included, readable from visibility lists (GET /v1/spend).
  if (patched(COST_MEMO_PATCH)) upsertMemo({ costByModel: costByModel(attempts) });
  upsertSearchAttributes([
    { key: PROVIDER_ATTRIBUTE, value: provider },
    { key: MODEL_ATTRIBUTE, value: model },
    { key: FALLBACK_COUNT_ATTRIBUTE, value: failed },
    { key: OUTCOME_ATTRIBUTE, value: outcome },
    { key: COST_ATTRIBUTE, value: totalCost(attempts) },
  ]);
  const headline =
    outcome === 'success'
      ? `**Answered by** \`${provider}/${model}\` after ${failed} fallback${failed === 1 ? '' : 's'} · ${outcome}`
      : outcome === 'fallback_answer'
        ? `**No model answered** (${failed} failed): the deterministic fallback answered`
        : `**Stopped**: ${outcome.replace('_', ' ')}`;
  setCurrentDetails(attemptTable(plan, attempts, snapshot.configVersion, headline));
}
