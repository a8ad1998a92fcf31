// Runs in the workflow sandbox: deterministic, no I/O.
// How a request ends: the canonical response, and what it leaves for
// operators (search attributes, the cost memo, the UI's details).
import { patched, setCurrentDetails, upsertMemo, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { own } from '../../common/own';
import { roundUsd } from '../../common/pricing';
import { buildResponse, fallbackCount, totalCost, type ResponseContext } from '../../common/respond';
import type { CanonicalRequest } from '../../common/request-schema';
import type { Attempt, CacheState, CanonicalResponse, ModelOutput, Outcome } from '../../common/response-schema';
import type { RoutePlan, RoutingSnapshot } from '../../common/routing-snapshot-schema';
import { COST_ATTRIBUTE, FALLBACK_COUNT_ATTRIBUTE, MODEL_ATTRIBUTE, OUTCOME_ATTRIBUTE, PROVIDER_ATTRIBUTE } from '../../common/search-attributes';
import { attemptTable, routeSummary } from '../describe-attempts';

/** Workflows recorded before the cost memo existed complete without it. */
const COST_MEMO_PATCH = 'cost-by-model-memo';
/** Workflows recorded before `fallbackCount` counted skipped attempts in `FallbackCount` too. */
const FALLBACK_COUNT_PATCH = 'fallbacks-defined-once';
/**
 * Requests recorded since this patch do both of the above behind one marker:
 * every patch a new run meets costs a marker and a `TemporalChangeVersion`
 * search-attribute upsert (a visibility write on the server), per request.
 */
const OUTCOME_RECORD_PATCH = 'outcome-recorded-once';

/** How a request ended, as its search attribute says. */
export type RecordedOutcome = Outcome | 'invalid_request' | 'stream_interrupted' | 'budget_exceeded';

/** The deterministic answer: the route's fallback message, nothing billed. */
export function fallbackOutput(snapshot: RoutingSnapshot): ModelOutput {
  return {
    text: snapshot.fallbackMessage,
    toolCalls: [],
    finishReason: { unified: 'stop', raw: 'fallback' },
    refusal: null,
    usage: { inputTokens: 0, outputTokens: 0 },
    warnings: [],
  };
}

/** The canonical response: the answer and the story of how it came about. */
export function respond(
  request: CanonicalRequest,
  snapshot: RoutingSnapshot,
  plan: RoutePlan,
  answer: {
    output: ModelOutput;
    model: string;
    provider: string;
    outcome: Outcome;
    attempts: Attempt[];
    cache: CacheState | undefined;
  },
): CanonicalResponse {
  return buildResponse(responseContext(request, snapshot, plan, answer.cache), answer);
}

/** The parts of the response that the chain's answer does not decide. */
function responseContext(request: CanonicalRequest, snapshot: RoutingSnapshot, plan: RoutePlan, cache: CacheState | undefined): ResponseContext {
  return {
    requestId: request.requestId,
    workflowId: workflowInfo().workflowId,
    configVersion: snapshot.configVersion,
    route: routeSummary(plan),
    cache,
    createdAt: new Date(Date.now()),
  };
}

/** Search attributes and UI details, set in the workflow's last task (no extra round trip). */
export function record(plan: RoutePlan, attempts: Attempt[], snapshot: RoutingSnapshot, provider: string, model: string, outcome: RecordedOutcome): void {
  const failed = attempts.filter((attempt) => attempt.outcome === 'failed').length;
  // Older runs replay with the patch each of them met; a new run meets one.
  const current = patched(OUTCOME_RECORD_PATCH);
  const fallbacks = current || patched(FALLBACK_COUNT_PATCH) ? fallbackCount(attempts) : failed;
  // Spend by model, failed attempts included, readable from visibility lists (GET /v1/spend).
  if (current || patched(COST_MEMO_PATCH)) upsertMemo({ costByModel: costByModel(attempts) });
  upsertSearchAttributes([
    { key: PROVIDER_ATTRIBUTE, value: provider },
    { key: MODEL_ATTRIBUTE, value: model },
    { key: FALLBACK_COUNT_ATTRIBUTE, value: fallbacks },
    { key: OUTCOME_ATTRIBUTE, value: outcome },
    { key: COST_ATTRIBUTE, value: totalCost(attempts) },
  ]);
  const headline =
    outcome === 'success'
      ? `**Answered by** \`${provider}/${model}\` after ${fallbacks} fallback${fallbacks === 1 ? '' : 's'} · ${outcome}`
      : outcome === 'fallback_answer'
        ? `**No model answered** (${failed} failed): the deterministic fallback answered`
        : `**Stopped**: ${outcome.replace('_', ' ')}`;
  setCurrentDetails(attemptTable(plan, attempts, snapshot.configVersion, headline));
}

function costByModel(attempts: readonly Attempt[]): Record<string, number> {
  const costs: Record<string, number> = {};
  for (const attempt of attempts) {
    if (attempt.costUsd === undefined || attempt.costUsd === 0) continue;
    costs[attempt.model] = roundUsd((own(costs, attempt.model) ?? 0) + attempt.costUsd);
  }
  return costs;
}
