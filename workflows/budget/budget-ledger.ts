// Runs in the workflow sandbox: deterministic, no I/O.
import { roundUsd } from '../../common/pricing';

/**
 * The ledger of one budget over one period (a tenant's or a feature's day or
 * month): what was spent, what attempts in flight have reserved, and what
 * calls whose outcome was never seen may have cost. A call reserves its worst
 * case before it goes out and settles its actual cost after. A provider may
 * bill a call whose worker died before it heard the answer, and the gateway
 * cannot see that bill: so the ledger never under-counts, and a reservation
 * that is never settled is charged at its worst case when its lease ends
 * (`unsettledUsd`), not freed. Every operation is idempotent by id, so a
 * retried update never counts twice.
 *
 * Pure: the entity workflow holding it applies these in its update handlers,
 * which Temporal runs one at a time, so check-and-reserve is atomic.
 */
export interface BudgetLedger {
  limitUsd: number;
  /** What settled calls cost. */
  spentUsd: number;
  /**
   * Worst cases charged for calls whose cost was never reported: their
   * worker died with them in flight, or their reservation's lease ran out.
   * Absent in ledgers carried over from before it existed.
   */
  unsettledUsd?: number;
  reservations: Record<string, Reservation>;
  /** Ids already settled or released, newest last (bounded), so a repeat is a no-op. */
  closed: string[];
}

export interface Reservation {
  amountUsd: number;
  /** Epoch ms after which the reservation no longer holds money. */
  expiresAt: number;
}

export interface ReserveResult {
  granted: boolean;
  /** Limit minus spend minus live reservations, after this operation. */
  availableUsd: number;
}

/** How many closed ids a ledger remembers for idempotency. */
export const CLOSED_IDS_KEPT = 10_000;

export function emptyLedger(limitUsd: number): BudgetLedger {
  return { limitUsd, spentUsd: 0, unsettledUsd: 0, reservations: {}, closed: [] };
}

/** Money neither spent, charged unsettled, nor held by a reservation at `now` (one past its lease is charged). */
export function available(ledger: BudgetLedger, now: number): number {
  const current = expire(ledger, now);
  let reserved = 0;
  for (const reservation of Object.values(current.reservations)) reserved += reservation.amountUsd;
  return roundUsd(current.limitUsd - current.spentUsd - (current.unsettledUsd ?? 0) - reserved);
}

/**
 * Charges reservations whose lease ran out at their worst case: nothing
 * settled them, so their calls may have been billed. Their ids close, so a
 * settle arriving later cannot count them again.
 */
export function expire(ledger: BudgetLedger, now: number): BudgetLedger {
  const entries = Object.entries(ledger.reservations);
  const lapsed = entries.filter(([, reservation]) => reservation.expiresAt <= now);
  if (lapsed.length === 0) return ledger;
  return {
    ...ledger,
    unsettledUsd: roundUsd((ledger.unsettledUsd ?? 0) + lapsed.reduce((sum, [, reservation]) => sum + reservation.amountUsd, 0)),
    reservations: Object.fromEntries(entries.filter(([, reservation]) => reservation.expiresAt > now)),
    closed: [...ledger.closed, ...lapsed.map(([id]) => id)].slice(-CLOSED_IDS_KEPT),
  };
}

/**
 * Reserves `amountUsd` under `id` when it fits. A repeat of a granted id is
 * granted again (its lease renewed, its amount unchanged); a closed id is
 * granted without holding anything, since its attempt already settled.
 */
export function reserve(
  ledger: BudgetLedger,
  request: { id: string; amountUsd: number; leaseMs: number },
  now: number,
): { ledger: BudgetLedger; result: ReserveResult } {
  const current = expire(ledger, now);
  if (current.closed.includes(request.id)) return { ledger: current, result: { granted: true, availableUsd: available(current, now) } };
  const held = Object.hasOwn(current.reservations, request.id) ? current.reservations[request.id] : undefined;
  if (held !== undefined) {
    const renewed = { ...current, reservations: { ...current.reservations, [request.id]: { ...held, expiresAt: now + request.leaseMs } } };
    return { ledger: renewed, result: { granted: true, availableUsd: available(renewed, now) } };
  }
  const amountUsd = roundUsd(Math.max(0, request.amountUsd));
  if (amountUsd > available(current, now)) return { ledger: current, result: { granted: false, availableUsd: available(current, now) } };
  const next = { ...current, reservations: { ...current.reservations, [request.id]: { amountUsd, expiresAt: now + request.leaseMs } } };
  return { ledger: next, result: { granted: true, availableUsd: available(next, now) } };
}

/**
 * Records the actual cost of `id`'s attempt and frees its reservations (its
 * own, and those its retries made under `<id>/try-<n>`). Once per id.
 * `lostTries` tries of the attempt ended unseen (lost with their worker) and
 * may have been billed: each is charged at the worst case of one of the
 * attempt's reservations, apart. A try calls only once a reservation holds
 * its worst case, so no more tries can have been billed than the attempt has
 * reservations: the charge never passes what was reserved, nor the limit.
 */
export function settle(ledger: BudgetLedger, request: { id: string; costUsd: number; lostTries?: number }, now: number): BudgetLedger {
  const current = expire(ledger, now);
  if (current.closed.includes(request.id)) return current;
  const retries = `${request.id}/try-`;
  const held = Object.entries(current.reservations).filter(([id]) => id === request.id || id.startsWith(retries));
  const charged = held
    .map(([, reservation]) => reservation.amountUsd)
    .sort((left, right) => right - left)
    .slice(0, Math.max(0, Math.floor(request.lostTries ?? 0)));
  const ids = new Set(held.map(([id]) => id));
  return expire(
    {
      ...current,
      spentUsd: roundUsd(current.spentUsd + Math.max(0, request.costUsd)),
      unsettledUsd: roundUsd((current.unsettledUsd ?? 0) + charged.reduce((sum, amount) => sum + amount, 0)),
      reservations: Object.fromEntries(Object.entries(current.reservations).filter(([id]) => !ids.has(id))),
      closed: [...current.closed, ...[...ids].filter((id) => id !== request.id), request.id].slice(-CLOSED_IDS_KEPT),
    },
    now,
  );
}

/** Frees `id`'s reservation without spending (the attempt was never sent). Once per id. */
export function release(ledger: BudgetLedger, request: { id: string }, now: number): BudgetLedger {
  return settle(ledger, { id: request.id, costUsd: 0 }, now);
}

/**
 * Frees every live reservation whose id starts with `prefix` (one request's
 * attempts) without spending, when the request ends: what its calls cost,
 * lost tries included, was settled by then, and what it still holds was
 * never sent (a reservation made for a try that was refused before its call,
 * or in a workflow task lost with its worker, for a plan the history never
 * recorded).
 */
export function releasePrefix(ledger: BudgetLedger, prefix: string, now: number): BudgetLedger {
  const current = expire(ledger, now);
  const kept = Object.entries(current.reservations).filter(([id]) => !id.startsWith(prefix));
  if (kept.length === Object.keys(current.reservations).length) return current;
  return { ...current, reservations: Object.fromEntries(kept) };
}
