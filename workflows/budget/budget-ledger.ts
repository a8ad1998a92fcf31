// Runs in the workflow sandbox: deterministic, no I/O.
import { roundUsd } from '../../common/pricing';

/**
 * The ledger of one budget over one period (a tenant's or a feature's day or
 * month): what was spent, and what attempts in flight have reserved. A call
 * reserves its worst case before it goes out and settles its actual cost
 * after; a reservation whose attempt crashed or was cancelled runs out at
 * its lease and frees its amount. Every operation is idempotent by id, so a
 * retried update never counts twice.
 *
 * Pure: the entity workflow holding it applies these in its update handlers,
 * which Temporal runs one at a time, so check-and-reserve is atomic.
 */
export interface BudgetLedger {
  limitUsd: number;
  spentUsd: number;
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
  return { limitUsd, spentUsd: 0, reservations: {}, closed: [] };
}

/** Money neither spent nor reserved by a live reservation at `now`. */
export function available(ledger: BudgetLedger, now: number): number {
  let reserved = 0;
  for (const reservation of Object.values(ledger.reservations)) if (reservation.expiresAt > now) reserved += reservation.amountUsd;
  return roundUsd(ledger.limitUsd - ledger.spentUsd - reserved);
}

/** Drops reservations whose lease ran out (their attempts crashed or were abandoned). */
export function expire(ledger: BudgetLedger, now: number): BudgetLedger {
  const live = Object.entries(ledger.reservations).filter(([, reservation]) => reservation.expiresAt > now);
  if (live.length === Object.keys(ledger.reservations).length) return ledger;
  return { ...ledger, reservations: Object.fromEntries(live) };
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

/** Records the actual cost of `id`'s attempt and frees its reservation. Once per id. */
export function settle(ledger: BudgetLedger, request: { id: string; costUsd: number }, now: number): BudgetLedger {
  if (ledger.closed.includes(request.id)) return expire(ledger, now);
  const { [request.id]: _settled, ...rest } = ledger.reservations;
  return expire(
    {
      ...ledger,
      spentUsd: roundUsd(ledger.spentUsd + Math.max(0, request.costUsd)),
      reservations: rest,
      closed: [...ledger.closed, request.id].slice(-CLOSED_IDS_KEPT),
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
 * attempts) without spending: a reservation made in a workflow task that was
 * lost with its worker, for a plan the history never recorded, is freed when
 * the request ends instead of at its lease.
 */
export function releasePrefix(ledger: BudgetLedger, prefix: string, now: number): BudgetLedger {
  const current = expire(ledger, now);
  const kept = Object.entries(current.reservations).filter(([id]) => !id.startsWith(prefix));
  if (kept.length === Object.keys(current.reservations).length) return current;
  return { ...current, reservations: Object.fromEntries(kept) };
}
