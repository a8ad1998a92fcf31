// Runs in the workflow sandbox: deterministic, no I/O.
// Hedging: a candidate whose provider sets `timeouts.hedgeAfterMs` and has
// not answered by then is joined by the next candidate; the first answer
// wins and the other call is cancelled.
import { CancellationScope, sleep } from '@temporalio/workflow';
import { own } from '../../common/own';
import type { RouteCandidate } from '../../common/routing-snapshot-schema';
import { tryCandidate, type CandidateResult, type ChainContext } from './try-candidate';

/** How long candidate `index` runs alone before the next one joins it; undefined: it is not hedged. */
export function hedgeAfter(chain: ChainContext, candidates: readonly RouteCandidate[], index: number): number | undefined {
  const candidate = candidates[index];
  // A stream has a caller reading it, and a budget would pay twice: neither is hedged.
  if (!candidate || candidates[index + 1] === undefined || chain.delivery.streamTaskQueue !== undefined || chain.holds.refs.length > 0) return undefined;
  return own(chain.snapshot.providers, candidate.provider)?.timeouts.hedgeAfterMs;
}

/** A candidate's result, with the candidate it belongs to and how many candidates the try used (2 when hedged). */
export interface TriedResult {
  result: CandidateResult;
  candidate: RouteCandidate;
  used: 1 | 2;
}

type Settled = { ok: true; value: CandidateResult } | { ok: false; error: unknown };

function settled(promise: Promise<CandidateResult>): Promise<Settled> {
  return promise.then(
    (value) => ({ ok: true, value }),
    (error: unknown) => ({ ok: false, error }),
  );
}

function unwrap(outcome: Settled): CandidateResult {
  if (!outcome.ok) throw outcome.error;
  return outcome.value;
}

/**
 * Tries `candidate`; if it has not answered after `afterMs`, tries `next`
 * beside it. The first answer wins and the other call is cancelled (its
 * attempt says so); a failure waits for the other call; a failure that stops
 * the chain stops both.
 */
export async function tryHedged(
  chain: ChainContext,
  candidate: RouteCandidate,
  next: RouteCandidate,
  position: number,
  chainLength: number,
  remainingMs: number | undefined,
  afterMs: number,
): Promise<TriedResult> {
  const startedAt = Date.now();
  // One scope holds the hedge timer and the first call: whichever of the two is still pending when the
  // other side wins is the one to cancel (a scope less to make). The timer's command goes first, the order
  // every recorded hedge has.
  const primaryScope = new CancellationScope();
  const timer = primaryScope.run(() => sleep(afterMs)).then(
    () => undefined,
    () => undefined,
  );
  const primary = settled(primaryScope.run(() => tryCandidate(chain, candidate, position, chainLength, remainingMs, { afterMs })));
  const alone = await Promise.race([primary, timer]);
  if (alone !== undefined) {
    primaryScope.cancel();
    return { result: unwrap(alone), candidate, used: 1 };
  }

  const hedgeScope = new CancellationScope();
  const hedgeRemainingMs = remainingMs === undefined ? undefined : remainingMs - (Date.now() - startedAt);
  const hedged = settled(hedgeScope.run(() => tryCandidate(chain, next, position + 1, chainLength, hedgeRemainingMs, {})));
  const first = await Promise.race([primary.then((outcome) => ({ primary: true, outcome })), hedged.then((outcome) => ({ primary: false, outcome }))]);
  const [winner, loser, loserScope, loserCandidate, loserPosition] = first.primary
    ? ([candidate, hedged, hedgeScope, next, position + 1] as const)
    : ([next, primary, primaryScope, candidate, position] as const);
  const { outcome } = first;
  if (outcome.ok && outcome.value.kind !== 'answered' && outcome.value.kind !== 'stopped') {
    // This one failed: the other call decides.
    const other = unwrap(await loser);
    return { result: other, candidate: loserCandidate, used: 2 };
  }
  // An answer, a failure that stops the chain, or a cancellation: the other call is not needed.
  loserScope.cancel();
  const cancelled = await loser;
  // Cancelled after an answer (had it ended on its own first, its attempt is already recorded).
  if (!cancelled.ok && outcome.ok && outcome.value.kind === 'answered') {
    chain.attempts.push({
      position: loserPosition,
      provider: loserCandidate.provider,
      model: loserCandidate.model,
      outcome: first.primary ? 'skipped' : 'failed',
      // The overtaken call had no answer by the hedge: a timeout, as its breaker heard. A hedge that lost is no failure.
      ...(first.primary ? {} : { failureType: 'Timeout' as const }),
      message: first.primary
        ? `hedge after ${afterMs} ms, cancelled: ${candidate.model} answered first`
        : `no answer in ${afterMs} ms; hedged to ${next.model}, which answered first`,
      tries: 1,
      durationMs: Date.now() - startedAt,
    });
  }
  chain.attempts.sort((left, right) => left.position - right.position);
  return { result: unwrap(outcome), candidate: winner, used: 2 };
}
