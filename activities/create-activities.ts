import type { CanonicalRequest } from '../common/request-schema';
import { ApplicationFailure } from '@temporalio/activity';
import type { BudgetRef, PromptAssessment, RoutingSnapshot } from '../common/routing-snapshot-schema';
import { readCallTarget, type RecordedCallModelInput } from '../common/call-target';
import type { BudgetReservation } from '../services/budget-board';
import type { CachedAnswer } from '../common/response-schema';
import type { CacheLookup } from '../services/response-cache/response-cache';
import { createAgentToolActivities } from './agent/agent-tools';
import { createBatchActivities } from './batch/batch-activities';
import { createEvalActivities } from './evals/eval-activities';
import { takeAssessedRoutingSnapshot, takeRoutingSnapshot } from '../services/routing-snapshot';
import { callProvider, type ActivityDependencies, type CallModelResult } from './call-provider';

export type { ActivityDependencies, CallModelResult } from './call-provider';

/**
 * Builds the activities with their dependencies (config, adapters), so tests
 * and the worker wire them the same way and nothing reads globals.
 */
export function createActivities(dependencies: ActivityDependencies) {
  return {
    /**
     * Routing inputs for one request: the config in force, what this worker
     * observed of each model, and the request's assessment (tokens, detected
     * data, tags with tenant defaults). A local activity, so recorded in
     * history: replay routes exactly as the first run did.
     */
    async getRoutingSnapshot(request?: CanonicalRequest, prompt?: PromptAssessment): Promise<RoutingSnapshot> {
      const { loaded } = dependencies.store.current;
      // The API already tokenised and scanned the prompt: only the tags are assessed then.
      if (request !== undefined && prompt !== undefined) return takeAssessedRoutingSnapshot(loaded, dependencies, request, prompt);
      return takeRoutingSnapshot(loaded, dependencies, request);
    },

    /** Reserves an attempt's worst case in every budget it counts against (all or none). */
    async reserveBudget(budgets: readonly BudgetRef[], id: string, amountUsd: number, leaseMs: number): Promise<BudgetReservation> {
      if (!dependencies.budgets) throw ApplicationFailure.nonRetryable('this worker has no budget board', 'InvalidRequest');
      return dependencies.budgets.reserve(budgets, id, amountUsd, leaseMs);
    },

    /**
     * Records what an attempt cost in its budgets (0 releases its reservation), and apart the worst
     * case of its tries that may have been billed unseen; with `releasePrefix`, also frees what the
     * request still holds.
     */
    async settleBudget(budgets: readonly BudgetRef[], id: string, costUsd: number, releasePrefix?: string | null, lostTries?: number | null): Promise<void> {
      if (!dependencies.budgets) throw ApplicationFailure.nonRetryable('this worker has no budget board', 'InvalidRequest');
      await dependencies.budgets.settle(budgets, id, costUsd, releasePrefix ?? undefined, lostTries ?? 0);
    },

    /** Frees whatever a finished request still holds in its budgets (its attempts' ids start with `prefix`). */
    async releaseBudgets(budgets: readonly BudgetRef[], prefix: string): Promise<void> {
      if (!dependencies.budgets) throw ApplicationFailure.nonRetryable('this worker has no budget board', 'InvalidRequest');
      await dependencies.budgets.releaseAll(budgets, prefix);
    },

    /** The cached answer to this request, if any (however old: the workflow decides), and its key. */
    async lookupCache(request: CanonicalRequest, resolvedFrom: string): Promise<CacheLookup> {
      if (!dependencies.cache) return { key: '' };
      return dependencies.cache.lookup(request, resolvedFrom);
    },

    /** Keeps an answer for the next identical request. */
    async storeCache(key: string, answer: CachedAnswer): Promise<void> {
      if (key !== '') await dependencies.cache?.save(key, answer);
    },

    ...createEvalActivities(dependencies),
    ...createBatchActivities(dependencies),
    ...createAgentToolActivities(dependencies),

    /** Calls one model once; Temporal's retry policy decides about the next try. */
    async callModel(request: CanonicalRequest, recorded: RecordedCallModelInput): Promise<CallModelResult> {
      const target = readCallTarget(recorded);
      return callProvider(dependencies, request, target, {
        call: (adapter, sent, signal) => adapter.complete(sent, { upstreamModel: target.upstreamModel, signal }),
      });
    },
  };
}

export type GatewayActivities = ReturnType<typeof createActivities>;
