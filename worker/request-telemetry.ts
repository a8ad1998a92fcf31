import type { InjectedSinks } from '@temporalio/worker';
import { metrics } from '../runtime/metrics';
import { mirror } from '../runtime/otel-metrics';
import type { RequestEnded, TelemetrySinks } from '../workflows/telemetry';

/**
 * The worker's side of the telemetry sinks: each request workflow reports its
 * end once (sinks are not called on replay), and this turns it into the
 * request series, whatever started the request; each breaker transition is
 * counted by the worker running the breaker. Labels are the
 * report's bounded values: tenant and feature ids, configured model and
 * provider ids, canonical failure types, outcomes.
 */
export function telemetrySinks(): InjectedSinks<TelemetrySinks> {
  return {
    telemetry: {
      requestEnded: { fn: (_info, ended) => recordRequestEnded(ended), callDuringReplay: false },
      breakerChanged: { fn: (_info, change) => count('breakerTransitions', { provider: change.provider, to: change.to }), callDuringReplay: false },
    },
  };
}

/** Counts on a Prometheus counter and on its OpenTelemetry twin (`switchyard.<name>`, a no-op without an OTLP endpoint). */
function count(name: CountedSeries, labels: Record<string, string>, value = 1): void {
  (metrics[name] as { inc(labels: Record<string, string>, value: number): void }).inc(labels, value);
  mirror('counter', OTEL_NAMES[name], labels, value);
}

type CountedSeries = 'requests' | 'cacheLookups' | 'fallbacks' | 'budgetRefusals' | 'tokens' | 'cost' | 'outputValidations' | 'breakerTransitions';
const OTEL_NAMES: Record<CountedSeries, string> = {
  requests: 'requests',
  cacheLookups: 'cache.lookups',
  fallbacks: 'fallbacks',
  budgetRefusals: 'budget.refusals',
  tokens: 'tokens',
  cost: 'cost.usd',
  outputValidations: 'output.validations',
  breakerTransitions: 'breaker.transitions',
};

export function recordRequestEnded(ended: RequestEnded): void {
  const { entry, tenant, feature, model, outcome } = ended;
  metrics.requestDuration.observe({ entry, model, outcome }, ended.durationMs / 1000);
  mirror('histogram', 'request.duration', { entry, model, outcome }, ended.durationMs / 1000);
  count('requests', { tenant, entry, model, outcome });
  if (ended.cache !== undefined) count('cacheLookups', { result: ended.cache });
  const answered = outcome === 'success' || outcome === 'fallback_answer';
  ended.attempts.forEach((attempt, index) => {
    // A model that did not answer is a fallback when the request went on past it.
    const wentOn = answered || index < ended.attempts.length - 1;
    // (A hedge cancelled because the model before it answered has no failure type: no fallback.)
    if (attempt.outcome !== 'success' && attempt.failureType !== undefined && wentOn) {
      count('fallbacks', { entry, provider: attempt.provider, model: attempt.model, reason: attempt.failureType ?? 'unknown' });
    }
    if (attempt.failureType === 'BudgetExceeded') count('budgetRefusals', { tenant, model: attempt.model });
    if (attempt.usage) {
      count('tokens', { tenant, entry, feature, model: attempt.model, direction: 'input' }, attempt.usage.inputTokens);
      count('tokens', { tenant, entry, feature, model: attempt.model, direction: 'output' }, attempt.usage.outputTokens);
    }
    if (attempt.costUsd !== undefined && attempt.costUsd > 0) count('cost', { tenant, entry, feature, model: attempt.model }, attempt.costUsd);
    if (ended.format !== 'text' && (attempt.outcome === 'success' || attempt.failureType === 'InvalidOutput')) {
      count('outputValidations', { model: attempt.model, format: ended.format, result: attempt.outcome === 'success' ? 'valid' : 'invalid' });
    }
  });
}
