// A closed-loop load generator: `concurrency` workers, each sending its next
// request as soon as the previous one finished, until `count` requests were
// sent, the phase deadline passed or the run was aborted.
import { performance } from 'node:perf_hooks';

/** What one request returned: `undefined` when it passed every check, else why it failed. */
export type RequestOutcome = string | undefined;

export interface LoadOptions {
  count: number;
  concurrency: number;
  /** No new request starts after this many ms from the start of the phase. */
  maxMs: number;
  /** Ctrl-C: no new request starts and the ones in flight are cancelled. */
  abort?: AbortSignal;
  /** Sends one request and checks it; must not throw for an expected failure. */
  send: (signal: AbortSignal) => Promise<RequestOutcome>;
  /** Per-request timeout. */
  timeoutMs: number;
}

export interface LoadResult {
  /** Latencies (ms) of the requests that passed their checks, in completion order. */
  latenciesMs: number[];
  sent: number;
  ok: number;
  errors: number;
  /** Error counts by reason. */
  errorKinds: Record<string, number>;
  wallMs: number;
  /** True when the deadline or an abort stopped the phase before `count` requests. */
  truncated: boolean;
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const latenciesMs: number[] = [];
  const errorKinds: Record<string, number> = {};
  let sent = 0;
  let errors = 0;
  const started = performance.now();
  const deadline = started + options.maxMs;
  const stopNow = () => performance.now() > deadline || (options.abort?.aborted ?? false);

  const worker = async () => {
    while (sent < options.count && !stopNow()) {
      sent += 1;
      const begin = performance.now();
      let outcome: RequestOutcome;
      try {
        const timeout = AbortSignal.timeout(options.timeoutMs);
        outcome = await options.send(options.abort ? AbortSignal.any([timeout, options.abort]) : timeout);
      } catch (error) {
        outcome = describeError(error);
      }
      const elapsed = performance.now() - begin;
      if (outcome === undefined) {
        latenciesMs.push(elapsed);
      } else {
        errors += 1;
        errorKinds[outcome] = (errorKinds[outcome] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency) }, worker));
  return {
    latenciesMs,
    sent,
    ok: latenciesMs.length,
    errors,
    errorKinds,
    wallMs: performance.now() - started,
    truncated: sent < options.count,
  };
}

function describeError(error: unknown): string {
  if (error instanceof Error) {
    if (error.name === 'TimeoutError') return 'timeout';
    if (error.name === 'AbortError') return 'cancelled (interrupted)';
    const cause = (error as Error & { cause?: unknown }).cause;
    const detail = cause instanceof Error ? `: ${(cause as Error & { code?: string }).code ?? cause.message}` : '';
    return `${error.name}: ${error.message}${detail}`.slice(0, 200);
  }
  return String(error).slice(0, 200);
}

export interface LatencySummary {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentiles; all NaN when there is no sample. */
export function summarize(latenciesMs: readonly number[]): LatencySummary {
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  const rank = (p: number) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!);
  const total = sorted.reduce((sum, value) => sum + value, 0);
  return {
    count: sorted.length,
    min: sorted[0] ?? NaN,
    mean: sorted.length === 0 ? NaN : total / sorted.length,
    p50: rank(50),
    p95: rank(95),
    p99: rank(99),
    max: sorted[sorted.length - 1] ?? NaN,
  };
}
