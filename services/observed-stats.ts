import type { ObservedModel } from '../common/routing-snapshot-schema';

/** Weight of the newest latency in the smoothed figure. */
const LATENCY_SMOOTHING = 0.2;
/** Calls remembered per model; older ones age out so a recovered model is not punished forever. */
const WINDOW_CALLS = 200;

/**
 * What this process has seen of each model: successes, failures and a
 * smoothed latency of successful calls. The routing snapshot carries a copy
 * into each workflow (recorded in history, so replay routes the same).
 */
export class ObservedStats {
  private readonly models = new Map<string, ObservedModel>();

  record(modelId: string, outcome: { ok: boolean; durationMs: number }): void {
    const current = this.models.get(modelId) ?? { successes: 0, failures: 0, latencyMs: null };
    let { successes, failures } = current;
    if (successes + failures >= WINDOW_CALLS) {
      // Keep the rate, halve the weight of the past.
      successes = Math.floor(successes / 2);
      failures = Math.floor(failures / 2);
    }
    const latencyMs = outcome.ok
      ? current.latencyMs === null
        ? outcome.durationMs
        : current.latencyMs + LATENCY_SMOOTHING * (outcome.durationMs - current.latencyMs)
      : current.latencyMs;
    this.models.set(modelId, {
      successes: successes + (outcome.ok ? 1 : 0),
      failures: failures + (outcome.ok ? 0 : 1),
      latencyMs: latencyMs === null ? null : Math.round(latencyMs),
    });
  }

  /** A copy of every model's figures, by model id in a stable order. */
  snapshot(): Record<string, ObservedModel> {
    return Object.fromEntries([...this.models.entries()].sort(([left], [right]) => left.localeCompare(right)).map(([id, figures]) => [id, { ...figures }]));
  }
}
