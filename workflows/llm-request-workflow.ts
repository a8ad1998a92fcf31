// Runs in the workflow sandbox: deterministic, no I/O.
import { ApplicationFailure, isCancellation, patched, proxyLocalActivities, setCurrentDetails, setHandler } from '@temporalio/workflow';
import type { GatewayActivities } from '../activities/create-activities';
import { CACHE_TIMEOUT_MS, FALLBACK_MODEL_ID, ROUTING_SNAPSHOT_TIMEOUT_MS } from '../common/constants';
import { NO_ELIGIBLE_MODEL_MESSAGE } from '../common/failure-types';
import { own } from '../common/own';
import { isRequestableModel } from '../common/requestable-model';
import type { CanonicalRequest } from '../common/request-schema';
import type { Attempt, CacheState, CanonicalResponse, ModelOutput, Outcome } from '../common/response-schema';
import type { PromptAssessment, RouteCandidate, RoutePlan, RoutingSnapshot } from '../common/routing-snapshot-schema';
import { cacheUse } from './cache-policy';
import { attemptTable, routeSummary } from './describe-attempts';
import { planRoute } from './plan-route';
import { progressQuery, type RequestProgress } from './progress-query';
import { BudgetHolds } from './request/budget-holds';
import { fallbackOutput, record, respond } from './request/outcome';
import { reportRequestEnded, type RequestEntry } from './telemetry';
import { hedgeAfter, tryHedged, type TriedResult } from './request/hedge';
import { tryCandidate, type ChainContext } from './request/try-candidate';

const { getRoutingSnapshot } = proxyLocalActivities<GatewayActivities>({
  startToCloseTimeout: ROUTING_SNAPSHOT_TIMEOUT_MS,
  retry: { maximumAttempts: 3, initialInterval: 100 },
  summary: 'routing snapshot',
});
const { lookupCache, storeCache } = proxyLocalActivities<GatewayActivities>({
  startToCloseTimeout: CACHE_TIMEOUT_MS,
  retry: { maximumAttempts: 2, initialInterval: 100 },
  summary: 'response cache',
});

/** A plan left with only unavailable models (open breakers) answers the deterministic fallback instead of failing as a bad request. */
const UNAVAILABLE_FALLBACK_PATCH = 'unavailable-models-fallback';

/** How the answer travels besides the workflow result, and what the API already learnt of the request. */
export interface DeliveryOptions {
  /**
   * Stream the answer: the task queue of the API process holding the
   * caller's connection; its `streamModel` activity relays the tokens.
   */
  streamTaskQueue?: string;
  /** The API's tokens and findings of the prompt: the routing snapshot takes them instead of assessing it again. */
  prompt?: PromptAssessment;
  /**
   * The routing snapshot itself, taken by an API that shares its process
   * (and so the worker's call statistics, breakers, budgets and scores) with
   * the worker: recorded in the workflow's input, it saves the local
   * activity and the activation that would take it.
   */
  snapshot?: RoutingSnapshot;
  /** How the request came in, for its metrics. @default 'client' */
  entry?: RequestEntry;
}

/**
 * One LLM request: take a routing snapshot, plan the chain, try each model as
 * a provider activity with that provider's retry policy and timeouts, and
 * answer with the first success, or with the deterministic fallback when
 * every model failed. Fails only for an invalid request (no model can fix it)
 * or a stream that broke after part of the answer reached the caller.
 */
export function llmRequestWorkflow(request: CanonicalRequest, delivery: DeliveryOptions = {}): Promise<CanonicalResponse> {
  const attempts: Attempt[] = [];
  // One `then` rather than an async wrapper: every promise a workflow makes costs the SDK a stack capture.
  return serve(request, delivery, attempts).then(
    (response) => {
      reportRequestEnded(request, delivery.entry, attempts, { response });
      return response;
    },
    (error: unknown) => {
      reportRequestEnded(request, delivery.entry, attempts, { error });
      throw error;
    },
  );
}

async function serve(request: CanonicalRequest, delivery: DeliveryOptions, attempts: Attempt[]): Promise<CanonicalResponse> {
  const progress: RequestProgress = { phase: 'routing', position: 0, chainLength: 0, current: null, attempts };
  setHandler(progressQuery, () => progress);

  const snapshot = delivery.snapshot ?? (await (delivery.prompt ? getRoutingSnapshot(request, delivery.prompt) : getRoutingSnapshot(request)));
  const plan = planRoute(request, snapshot, { streaming: delivery.streamTaskQueue !== undefined });
  const holds = new BudgetHolds(snapshot);
  // The decision is on the workflow's page from the start, and again with the attempts at the end.
  setCurrentDetails(attemptTable(plan, attempts, snapshot.configVersion));
  if (plan.refused !== undefined) throw ApplicationFailure.nonRetryable(plan.refused, 'InvalidRequest');
  if (plan.budgetExceeded !== undefined) {
    await holds.releaseHeld();
    record(plan, attempts, snapshot, FALLBACK_MODEL_ID, FALLBACK_MODEL_ID, 'budget_exceeded');
    throw ApplicationFailure.nonRetryable(plan.budgetExceeded, 'BudgetExceeded');
  }
  if (plan.candidates.length === 0) noCandidates(request, snapshot, plan, attempts);

  // An identical request answered lately (same tenant, route, messages, tools, format, sampling) is answered from the cache.
  const caching = cacheUse(request, plan, snapshot);
  const cached = caching.use ? await orMiss(lookupCache(request, plan.resolvedFrom)) : undefined;
  if (caching.use && cached?.entry !== undefined && Date.now() - cached.entry.storedAt < caching.ttlMs) {
    const { entry } = cached;
    await holds.releaseHeld();
    Object.assign(progress, { phase: 'finished', current: null });
    record(plan, attempts, snapshot, entry.provider, entry.model, 'success');
    // Nothing was billed for this answer.
    const output = { ...entry.output, usage: { inputTokens: 0, outputTokens: 0 } };
    return respond(request, snapshot, plan, { output, model: entry.model, provider: entry.provider, outcome: 'success', attempts, cache: 'hit' });
  }

  // Each candidate in turn, until one answers; the caller's deadline bounds the whole chain.
  progress.phase = 'calling';
  progress.chainLength = plan.candidates.length;
  const chain: ChainContext = { request, snapshot, attempts, progress, holds, delivery: { streamTaskQueue: delivery.streamTaskQueue } };
  if (delivery.streamTaskQueue !== undefined) {
    // The streaming call ends the caller's stream with this response as soon as its answer is complete.
    const cache = answeredCacheState(caching, snapshot);
    chain.streamAnswer = { requestId: request.requestId, configVersion: snapshot.configVersion, route: routeSummary(plan), ...(cache === undefined ? {} : { cache }) };
  }
  const deadline = request.timeoutMs === undefined ? undefined : Date.now() + request.timeoutMs;
  let answer: { candidate: RouteCandidate; output: ModelOutput } | undefined;
  for (let index = 0; index < plan.candidates.length; index += 1) {
    const remainingMs = deadline === undefined ? undefined : deadline - Date.now();
    if (remainingMs !== undefined && remainingMs <= 0) break;
    const current = plan.candidates[index];
    if (current === undefined) break;
    // A provider with `timeouts.hedgeAfterMs` is joined by the next model once it runs that long without an answer.
    const hedgeMs = hedgeAfter(chain, plan.candidates, index);
    const next = plan.candidates[index + 1];
    const tried: TriedResult =
      hedgeMs !== undefined && next !== undefined
        ? await tryHedged(chain, current, next, index + 1, plan.candidates.length, remainingMs, hedgeMs)
        : { result: await tryCandidate(chain, current, index + 1, plan.candidates.length, remainingMs), candidate: current, used: 1 };
    index += tried.used - 1;
    const { result, candidate } = tried;
    if (result.kind === 'answered') answer = { candidate, output: result.output };
    if (result.kind === 'answered' || (result.kind === 'skipped' && result.refuse)) break;
    if (result.kind === 'stopped') {
      const { failure } = result;
      await holds.releaseHeld();
      Object.assign(progress, { phase: 'finished', current: null });
      record(plan, attempts, snapshot, candidate.provider, candidate.model, failure.type === 'StreamInterrupted' ? 'stream_interrupted' : 'invalid_request');
      throw ApplicationFailure.create({ type: failure.type, message: failure.message, nonRetryable: true, details: [{ attempts }] });
    }
  }

  // What the chain's end waits for first: the money still held, then the answer's place in the cache.
  // The common path asks `holding` first: a request without budgets makes no promise here.
  if (holds.holding) await holds.releaseHeld();
  if (answer && caching.use && cached !== undefined) {
    await orMiss(storeCache(cached.key, { output: answer.output, model: answer.candidate.model, provider: answer.candidate.provider, storedAt: Date.now() }));
  }
  return finish(chain, plan, { ...caching, cached }, answer);
}

/**
 * The chain is over (the request holds no money, an answer is in the cache):
 * answer with the model that answered, else a budget's refusal (429), else a
 * fresh-enough cached answer, else the deterministic one.
 */
function finish(
  chain: ChainContext,
  plan: RoutePlan,
  caching: ReturnType<typeof cacheUse> & { cached: Awaited<ReturnType<GatewayActivities['lookupCache']>> | undefined },
  answer: { candidate: RouteCandidate; output: ModelOutput } | undefined,
): CanonicalResponse {
  const { request, snapshot, attempts, progress } = chain;
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
  const stale = !answer && caching.use && caching.cached?.entry !== undefined && Date.now() - caching.cached.entry.storedAt < caching.staleMs ? caching.cached.entry : undefined;
  const outcome: Outcome = answer ? 'success' : 'fallback_answer';
  const provider = answer?.candidate.provider ?? stale?.provider ?? FALLBACK_MODEL_ID;
  const model = answer?.candidate.model ?? stale?.model ?? FALLBACK_MODEL_ID;
  record(plan, attempts, snapshot, provider, model, outcome);
  const output = answer?.output ?? (stale ? { ...stale.output, usage: { inputTokens: 0, outputTokens: 0 } } : fallbackOutput(snapshot));
  const cacheState: CacheState | undefined = stale ? 'stale' : answeredCacheState(caching, snapshot);
  return respond(request, snapshot, plan, { output, model, provider, outcome, attempts, cache: cacheState });
}

/** What the cache did for a request a model answered. */
function answeredCacheState(caching: { use: boolean }, snapshot: RoutingSnapshot): CacheState | undefined {
  return caching.use ? 'miss' : snapshot.cache ? 'bypass' : undefined;
}

/**
 * A plan with no candidate: when the request may use models that cannot take
 * it now (open breakers), each is a skipped attempt and the request goes on
 * to the deterministic answer (nothing left to try is not the caller's
 * fault); otherwise no model may serve the request itself, which fails.
 */
function noCandidates(request: CanonicalRequest, snapshot: RoutingSnapshot, plan: RoutePlan, attempts: Attempt[]): void {
  const unavailable = plan.rejected.filter((model) => model.unavailable);
  if (unavailable.length > 0 && patched(UNAVAILABLE_FALLBACK_PATCH)) {
    for (const model of unavailable) {
      attempts.push({
        position: attempts.length + 1,
        provider: own(snapshot.models, model.model)?.provider ?? FALLBACK_MODEL_ID,
        model: model.model,
        outcome: 'skipped',
        failureType: 'BreakerOpen',
        message: model.reason,
        tries: 0,
        durationMs: 0,
      });
    }
    return;
  }
  const reasons = plan.rejected.map((model) => `${model.model}: ${model.reason}`).join('; ');
  throw ApplicationFailure.nonRetryable(
    isRequestableModel(snapshot, request.model) ? `${NO_ELIGIBLE_MODEL_MESSAGE}${reasons ? ` (${reasons})` : ''}` : `model "${request.model}" is not configured`,
    'InvalidRequest',
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
