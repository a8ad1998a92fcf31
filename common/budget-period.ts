// Runs in the workflow sandbox: deterministic, no I/O.

export type BudgetPeriod = 'day' | 'month';

/** One period of a budget: `2026-11-25` (a UTC day) or `2026-11` (a UTC month). */
export interface BudgetPeriodWindow {
  key: string;
  startsAt: number;
  endsAt: number;
}

/** The period of kind `period` that contains `now` (epoch ms). */
export function budgetPeriodAt(period: BudgetPeriod, now: number): BudgetPeriodWindow {
  const at = new Date(now);
  const year = at.getUTCFullYear();
  const month = at.getUTCMonth();
  if (period === 'month') {
    return {
      key: `${year}-${String(month + 1).padStart(2, '0')}`,
      startsAt: Date.UTC(year, month, 1),
      endsAt: Date.UTC(year, month + 1, 1),
    };
  }
  const startsAt = Date.UTC(year, month, at.getUTCDate());
  return { key: new Date(startsAt).toISOString().slice(0, 10), startsAt, endsAt: startsAt + 86_400_000 };
}

/** Workflow id of the ledger of budget `name` over period `key`. */
export function budgetWorkflowId(name: string, key: string): string {
  return `budget-${name}-${key}`;
}
