import { WithStartWorkflowOperation, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { budgetPeriodAt, budgetWorkflowId } from '../common/budget-period';
import type { BudgetConfig } from '../common/config-schema';
import type { BudgetRef, BudgetSnapshot } from '../common/routing-snapshot-schema';
import type { ReserveResult } from '../workflows/budget/budget-ledger';
import {
  MAX_LEDGER_BATCH,
  applyLedgerUpdate,
  budgetStateQuery,
  budgetWorkflow,
  type BudgetView,
  type LedgerOperation,
} from '../workflows/budget/budget-workflow';

export type { BudgetView };

/** How often every budget's state is read for routing. */
const REFRESH_INTERVAL_MS = 1_000;
/** Longest wait for one budget's state. */
const QUERY_DEADLINE_MS = 2_000;

export interface BudgetBoardOptions {
  client: Client;
  /** The task queue the budget workflows run on (the gateway's). */
  taskQueue: string;
  /** The budgets of the config in force. */
  budgets: () => Readonly<Record<string, BudgetConfig>>;
  log?: (line: Record<string, unknown>) => void;
}

interface Pending {
  operation: LedgerOperation;
  resolve(result: ReserveResult | null): void;
  reject(error: unknown): void;
}

/** Operations waiting for one ledger, sent as one batch when the previous batch is answered. */
interface LedgerQueue {
  budget: BudgetRef;
  pending: Pending[];
  sending: boolean;
}

/** Outcome of reserving one attempt against every budget that applies. */
export type BudgetReservation = { granted: true } | { granted: false; budget: string; availableUsd: number };

/**
 * This process's side of the shared budgets: it reserves and settles
 * attempts' costs in each budget's ledger workflow (update-with-start, so
 * the first request of a period opens its ledger), and keeps every budget's
 * state fresh for routing (a query per budget per second). Operations on one
 * ledger go as batches, one update in flight per ledger: what arrives while
 * a batch is out waits for the next. (Temporal allows a workflow only 10
 * updates in flight; 50 concurrent requests sending their own hit that.)
 */
export class BudgetBoard {
  private readonly views = new Map<string, BudgetView>();
  private readonly queues = new Map<string, LedgerQueue>();
  private refreshTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: BudgetBoardOptions) {}

  start(): void {
    this.refreshTimer ??= setInterval(() => void this.refresh(), REFRESH_INTERVAL_MS);
    void this.refresh();
  }

  stop(): void {
    clearInterval(this.refreshTimer);
    this.refreshTimer = undefined;
  }

  /** The budgets a request of `tenantId` tagged `feature` counts against, with what they have left. */
  forRequest(tenantId: string, feature: string | undefined, now: number): BudgetSnapshot[] {
    return Object.entries(this.options.budgets())
      .filter(([, budget]) => (budget.tenant === undefined || budget.tenant === tenantId) && (budget.feature === undefined || budget.feature === feature))
      .sort(([left], [right]) => left.localeCompare(right))
      .map(([name, budget]) => {
        const period = budgetPeriodAt(budget.period, now);
        const view = this.views.get(name);
        const availableUsd = view?.periodKey === period.key ? view.availableUsd : budget.limitUsd;
        return {
          name,
          workflowId: budgetWorkflowId(name, period.key),
          periodKey: period.key,
          endsAt: period.endsAt,
          limitUsd: budget.limitUsd,
          availableUsd,
          whenLow: budget.whenLow,
          lowAtUsd: budget.limitUsd * budget.lowAtFraction,
        };
      });
  }

  /**
   * Reserves `amountUsd` under `id` in every budget, in order; when one
   * cannot cover it, the ones already granted are released and the call
   * must not go out.
   */
  async reserve(budgets: readonly BudgetRef[], id: string, amountUsd: number, leaseMs: number): Promise<BudgetReservation> {
    const granted: BudgetRef[] = [];
    for (const budget of budgets) {
      const result = await this.send(budget, { type: 'reserve', id, amountUsd, leaseMs });
      if (result === null || !result.granted) {
        await this.settle(granted, id, 0);
        return { granted: false, budget: budget.name, availableUsd: result?.availableUsd ?? 0 };
      }
      granted.push(budget);
    }
    return { granted: true };
  }

  /**
   * Records what attempt `id` cost in every budget (0 releases its reservation), and apart
   * the worst case of each of its `lostTries` tries that may have been billed unseen.
   */
  async settle(budgets: readonly BudgetRef[], id: string, costUsd: number, releasePrefix?: string, lostTries = 0): Promise<void> {
    const operations: LedgerOperation[] = [{ type: 'settle', id, costUsd, ...(lostTries > 0 ? { lostTries } : {}) }];
    if (releasePrefix !== undefined) operations.push({ type: 'release_prefix', id: releasePrefix });
    await Promise.all(budgets.map((budget) => this.send(budget, ...operations)));
  }

  /** Frees whatever a finished request still holds in every budget (ids starting with `prefix`). */
  async releaseAll(budgets: readonly BudgetRef[], prefix: string): Promise<void> {
    await Promise.all(budgets.map((budget) => this.send(budget, { type: 'release_prefix', id: prefix })));
  }

  /** Reads every configured budget's current period now. */
  async refresh(): Promise<void> {
    const budgets = this.options.budgets();
    const views = await readBudgets(this.options.client, budgets, Date.now(), this.options.log);
    for (const name of this.views.keys()) if (!Object.hasOwn(budgets, name)) this.views.delete(name);
    for (const view of views) this.views.set(view.name, view);
  }

  /** Queues operations for a ledger (together in one batch); resolves with the first one's result. */
  private send(budget: BudgetRef, ...operations: LedgerOperation[]): Promise<ReserveResult | null> {
    let queue = this.queues.get(budget.workflowId);
    if (queue === undefined) {
      queue = { budget, pending: [], sending: false };
      this.queues.set(budget.workflowId, queue);
    }
    const target = queue;
    const results = operations.map((operation) => new Promise<ReserveResult | null>((resolve, reject) => target.pending.push({ operation, resolve, reject })));
    if (!queue.sending) void this.drain(queue);
    return Promise.all(results).then(([first]) => first ?? null);
  }

  private async drain(queue: LedgerQueue): Promise<void> {
    queue.sending = true;
    try {
      while (queue.pending.length > 0) {
        const batch = queue.pending.splice(0, MAX_LEDGER_BATCH);
        const { budget } = queue;
        try {
          const limitUsd = this.options.budgets()[budget.name]?.limitUsd ?? budget.limitUsd;
          const answer = await this.options.client.workflow.executeUpdateWithStart(applyLedgerUpdate, {
            args: [{ limitUsd, operations: batch.map((entry) => entry.operation) }],
            startWorkflowOperation: new WithStartWorkflowOperation(budgetWorkflow, {
              workflowId: budget.workflowId,
              taskQueue: this.options.taskQueue,
              args: [{ name: budget.name, periodKey: budget.periodKey, endsAt: budget.endsAt, limitUsd }],
              workflowIdConflictPolicy: 'USE_EXISTING',
              staticSummary: `budget ${budget.name} for ${budget.periodKey}`,
            }),
          });
          this.views.set(budget.name, answer.view);
          batch.forEach((entry, index) => entry.resolve(answer.results[index] ?? null));
        } catch (error) {
          // The caller's activity retries; every operation is idempotent by id.
          for (const entry of batch) entry.reject(error);
        }
      }
    } finally {
      queue.sending = false;
      if (queue.pending.length === 0) this.queues.delete(queue.budget.workflowId);
    }
  }
}

/**
 * Every configured budget's current period as its ledger holds it; a period
 * nobody has spent in yet reads as untouched.
 */
export async function readBudgets(
  client: Client,
  budgets: Readonly<Record<string, BudgetConfig>>,
  now: number,
  log?: (line: Record<string, unknown>) => void,
): Promise<BudgetView[]> {
  const entries = Object.entries(budgets).sort(([left], [right]) => left.localeCompare(right));
  const views = await Promise.all(
    entries.map(async ([name, budget]): Promise<BudgetView | undefined> => {
      const period = budgetPeriodAt(budget.period, now);
      const untouched: BudgetView = {
        name,
        periodKey: period.key,
        limitUsd: budget.limitUsd,
        spentUsd: 0,
        unsettledUsd: 0,
        reservedUsd: 0,
        availableUsd: budget.limitUsd,
        reservations: 0,
        endsAt: period.endsAt,
      };
      try {
        const handle = client.workflow.getHandle(budgetWorkflowId(name, period.key));
        return await client.withDeadline(Date.now() + QUERY_DEADLINE_MS, () => handle.query(budgetStateQuery));
      } catch (error) {
        if (error instanceof WorkflowNotFoundError) return untouched;
        log?.({ level: 'warn', msg: 'budget state unreadable', budget: name, error: String(error) });
        return undefined;
      }
    }),
  );
  return views.filter((view) => view !== undefined);
}
