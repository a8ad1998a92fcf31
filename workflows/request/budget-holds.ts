// Runs in the workflow sandbox: deterministic, no I/O.
// A request's money: each priced attempt reserves its worst case in every
// budget it counts against before it goes out, settles what it cost after,
// and the request frees whatever it still holds when it ends.
import { ActivityFailure, CancellationScope, isCancellation, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { GatewayActivities } from '../../activities/create-activities';
import { BUDGET_UPDATE_TIMEOUT_MS } from '../../common/constants';
import type { AttemptBudget, BudgetRef, RouteCandidate, RoutingSnapshot } from '../../common/routing-snapshot-schema';

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
const { settleBudget, releaseBudgets } = proxyActivities<GatewayActivities>({
  startToCloseTimeout: BUDGET_UPDATE_TIMEOUT_MS,
  scheduleToCloseTimeout: 30 * BUDGET_UPDATE_TIMEOUT_MS,
  retry: { initialInterval: 200, maximumInterval: 5_000 },
  summary: 'settle budget',
});

/** A reservation outlives its attempt's longest run by this much before its money is freed. */
const BUDGET_LEASE_MARGIN_MS = 60_000;

export type Reservation = ({ granted: true } & AttemptBudget) | { granted: false; message: string; refuse: boolean };

/** One request's holds in its budgets. */
export class BudgetHolds {
  /** The budgets the request counts against (from its routing snapshot). */
  readonly refs: BudgetRef[];
  /**
   * Every reservation of this run starts with it: when the request ends, it
   * frees them all, so one made in a workflow task lost with its worker (for a
   * plan this history never recorded) does not hold money until its lease ends.
   */
  private readonly heldPrefix: string;
  private released = false;

  constructor(private readonly snapshot: RoutingSnapshot) {
    this.refs = (snapshot.budgets ?? []).map(({ name, workflowId, periodKey, endsAt, limitUsd }) => ({ name, workflowId, periodKey, endsAt, limitUsd }));
    this.heldPrefix = `${workflowInfo().workflowId}/${workflowInfo().runId}/`;
  }

  /**
   * Whether the request may still hold money to free. The chain's common end
   * asks before it awaits `releaseHeld`, so a request with no budgets makes no
   * promise for it (each promise in workflow code costs the SDK a stack capture).
   */
  get holding(): boolean {
    return this.refs.length > 0 && !this.released;
  }

  /** Whether an attempt on `candidate` reserves anything: not without budgets, nor for a free model. */
  reserves(candidate: RouteCandidate): boolean {
    return this.refs.length > 0 && (candidate.estimatedCostUsd ?? 0) > 0;
  }

  /** Frees whatever the request still holds (once). */
  async releaseHeld(): Promise<void> {
    if (!this.holding) return;
    this.released = true;
    try {
      await CancellationScope.nonCancellable(() => releaseBudgets(this.refs, this.heldPrefix));
    } catch {
      // Left to the leases.
    }
  }

  /** Reserves a priced attempt's worst case; undefined when nothing needs reserving. */
  async reserve(candidate: RouteCandidate, position: number, callMs: number): Promise<Reservation | undefined> {
    const worstCase = candidate.estimatedCostUsd ?? 0;
    if (!this.reserves(candidate)) return undefined;
    const id = `${this.heldPrefix}${position}`;
    const leaseMs = callMs + BUDGET_LEASE_MARGIN_MS;
    try {
      const outcome = await reserveBudget(this.refs, id, worstCase, leaseMs);
      if (outcome.granted) return { granted: true, budgets: [...this.refs], reservationId: id, worstCaseUsd: worstCase, leaseMs };
      const whenLow = (this.snapshot.budgets ?? []).find((budget) => budget.name === outcome.budget)?.whenLow;
      return {
        granted: false,
        message: `budget "${outcome.budget}" has ${outcome.availableUsd} USD left, less than this attempt's worst case of ${worstCase} USD; not sent`,
        refuse: whenLow === 'refuse',
      };
    } catch (error) {
      if (isCancellation(error)) throw error;
      // A ledger that cannot be reached cannot account for the call: it does not go out.
      return { granted: false, message: `budget ledger unreachable: ${describeError(error)}; not sent`, refuse: false };
    }
  }

  /**
   * Settles an attempt: what it cost, and the worst case of every try that may
   * have been billed unseen. The answer's settle (`final`) also frees what the
   * request may still hold: one ledger update instead of two. A ledger out of
   * reach for minutes is left to the lease.
   */
  async settle(reservation: AttemptBudget, costUsd: number | undefined, lostTries: number, final = false): Promise<void> {
    try {
      await settleBudget(this.refs, reservation.reservationId, costUsd ?? 0, final ? this.heldPrefix : undefined, lostTries);
    } catch (error) {
      if (isCancellation(error)) throw error;
    }
    if (final) this.released = true;
  }
}

function describeError(error: unknown): string {
  return error instanceof ActivityFailure && error.cause ? error.cause.message : error instanceof Error ? error.message : String(error);
}
