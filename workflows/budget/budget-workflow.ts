// Runs in the workflow sandbox: deterministic, no I/O.
import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  defineUpdate,
  setCurrentDetails,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { roundUsd } from '../../common/pricing';
import { available, emptyLedger, expire, releasePrefix, reserve, settle, type BudgetLedger, type ReserveResult } from './budget-ledger';

/** Events after which the ledger continues as new, so its history stays short to replay. */
const HISTORY_EVENTS_LIMIT = 1_500;
/** How long a ledger stays open after its period ends, for settles of attempts still in flight. */
export const BUDGET_GRACE_MS = 60 * 60_000;

export interface BudgetWorkflowInput {
  name: string;
  /** The period, e.g. `2026-11-25` or `2026-11`. */
  periodKey: string;
  /** Epoch ms the period ends (the ledger closes a grace period later). */
  endsAt: number;
  limitUsd: number;
  ledger?: BudgetLedger;
  /** Continue as new past this many history events (well before the server's 2,000 updates per run). @default 1500 */
  historyEventsLimit?: number;
}

/** One operation on the ledger: reserve an attempt's worst case, or settle what it cost (0 releases it). */
export type LedgerOperation =
  | {
      type: 'reserve';
      /** One attempt: `<workflow id>/<run id>/<position>`. */
      id: string;
      amountUsd: number;
      /** How long the reservation holds if never settled (the attempt's longest run plus a margin). */
      leaseMs: number;
    }
  | {
      type: 'settle';
      id: string;
      costUsd: number;
      /** Tries of the attempt that ended unseen and may have been billed: each charged at a reservation's worst case, apart. */
      lostTries?: number;
    }
  /** Frees whatever a request still holds (its attempts' ids start with the prefix), when it ends. */
  | { type: 'release_prefix'; id: string };

/** A batch of operations from one process, with the limit in its config (a reload may change it). */
export interface LedgerBatch {
  limitUsd: number;
  operations: LedgerOperation[];
}

/** Per operation, in order: a reserve's result, or null for a settle; and the ledger after the batch. */
export interface LedgerBatchResult {
  results: (ReserveResult | null)[];
  view: BudgetView;
}

/** Most operations in one batch. */
export const MAX_LEDGER_BATCH = 500;

/** A budget's period as ops and routing read it. */
export interface BudgetView {
  name: string;
  periodKey: string;
  limitUsd: number;
  spentUsd: number;
  /** Worst cases charged for calls whose cost was never reported (lost with their worker, or past their lease). */
  unsettledUsd: number;
  reservedUsd: number;
  availableUsd: number;
  reservations: number;
  endsAt: number;
}

/**
 * One update carries a batch: Temporal allows a workflow only a few updates
 * in flight (10 by default), so each process sends one batch per ledger at a
 * time and queues the rest (see `BudgetBoard`).
 */
export const applyLedgerUpdate = defineUpdate<LedgerBatchResult, [LedgerBatch]>('apply');
export const budgetStateQuery = defineQuery<BudgetView>('state');

/**
 * The ledger of one budget over one period, shared by every worker: an
 * entity workflow whose updates (batches) reserve and settle attempts'
 * costs. Temporal runs the (synchronous) handler one at a time, so
 * check-and-reserve is atomic; every operation is idempotent by attempt id,
 * so a retried batch never counts twice. It closes a grace period after its period ends, once nothing is
 * reserved, and continues as new before its history grows long.
 */
export async function budgetWorkflow(input: BudgetWorkflowInput): Promise<BudgetView> {
  const historyEventsLimit = input.historyEventsLimit ?? HISTORY_EVENTS_LIMIT;
  let ledger = input.ledger ?? emptyLedger(input.limitUsd);
  let changed = true;
  const current = (): BudgetView => view(input, ledger, Date.now());

  setHandler(
    applyLedgerUpdate,
    (batch) => {
      const now = Date.now();
      ledger = { ...ledger, limitUsd: batch.limitUsd };
      // Settles first: the money they free is there for the reserves of the same batch.
      for (const operation of batch.operations) {
        if (operation.type !== 'settle') continue;
        ledger = settle(ledger, operation, now);
      }
      for (const operation of batch.operations) if (operation.type === 'release_prefix') ledger = releasePrefix(ledger, operation.id, now);
      const results = batch.operations.map((operation) => {
        if (operation.type !== 'reserve') return null;
        const outcome = reserve(ledger, operation, now);
        ledger = outcome.ledger;
        return outcome.result;
      });
      changed = true;
      return { results, view: current() };
    },
    { validator: checkBatch },
  );
  setHandler(budgetStateQuery, current);

  for (;;) {
    const closesAt = input.endsAt + BUDGET_GRACE_MS;
    const wakeUp = () => changed || workflowInfo().continueAsNewSuggested;
    await condition(wakeUp, Math.max(1, closesAt - Date.now()));
    changed = false;
    ledger = expire(ledger, Date.now());
    setCurrentDetails(describe(current()));
    if (Date.now() >= closesAt && Object.keys(ledger.reservations).length === 0) {
      await condition(allHandlersFinished);
      return current();
    }
    if (workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > historyEventsLimit) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof budgetWorkflow>({ ...input, ledger, historyEventsLimit });
    }
  }
}

function checkBatch(batch: LedgerBatch): void {
  const fail = (message: string) => {
    throw ApplicationFailure.nonRetryable(message, 'InvalidRequest');
  };
  if (!Number.isFinite(batch.limitUsd) || batch.limitUsd < 0) fail('limitUsd is finite, non-negative USD');
  if (!Array.isArray(batch.operations) || batch.operations.length > MAX_LEDGER_BATCH) fail(`operations: an array of at most ${MAX_LEDGER_BATCH}`);
  for (const operation of batch.operations) {
    if (typeof operation.id !== 'string' || operation.id.length === 0 || operation.id.length > 512) fail('ids are 1-512 characters');
    const amounts =
      operation.type === 'reserve'
        ? [operation.amountUsd]
        : operation.type === 'settle'
          ? [operation.costUsd, operation.lostTries ?? 0]
          : operation.type === 'release_prefix'
            ? [0]
            : [Number.NaN];
    if (amounts.some((amount) => typeof amount !== 'number' || !Number.isFinite(amount) || amount < 0)) fail('amounts are finite, non-negative USD');
    if (operation.type === 'reserve' && (!Number.isFinite(operation.leaseMs) || operation.leaseMs <= 0)) fail('leaseMs is positive');
  }
}

function view(input: BudgetWorkflowInput, ledger: BudgetLedger, now: number): BudgetView {
  const current = expire(ledger, now);
  const live = Object.values(current.reservations);
  return {
    name: input.name,
    periodKey: input.periodKey,
    limitUsd: current.limitUsd,
    spentUsd: current.spentUsd,
    unsettledUsd: current.unsettledUsd ?? 0,
    reservedUsd: roundUsd(live.reduce((sum, reservation) => sum + reservation.amountUsd, 0)),
    availableUsd: available(current, now),
    reservations: live.length,
    endsAt: input.endsAt,
  };
}

/** Markdown for the budget's page in the Temporal UI. */
function describe(budget: BudgetView): string {
  return [
    `**Budget** \`${budget.name}\` · period \`${budget.periodKey}\``,
    '',
    `limit ${budget.limitUsd} USD · spent ${budget.spentUsd} USD · unsettled ${budget.unsettledUsd} USD · reserved ${budget.reservedUsd} USD (${budget.reservations} attempts in flight) · available ${budget.availableUsd} USD`,
  ].join('\n');
}
