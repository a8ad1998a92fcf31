import type { InjectedSinks } from '@temporalio/worker';
import { metrics } from '../runtime/metrics';
import { recordRequestOtel } from '../runtime/otel-metrics';
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
      breakerChanged: { fn: (_info, change) => metrics.breakerTransitions.inc({ provider: change.provider, to: change.to }), callDuringReplay: false },
    },
  };
}

export function recordRequestEnded(ended: RequestEnded): void {
  const { entry, tenant, feature, model, outcome } = ended;
  metrics.requestDuration.observe({ entry, model, outcome }, ended.durationMs / 1000);
  metrics.requests.inc({ tenant, entry, model, outcome });
  recordRequestOtel({ tenant, entry, model, outcome }, ended.durationMs / 1000);
  if (ended.cache !== undefined) metrics.cacheLookups.inc({ result: ended.cache });
  const answered = outcome === 'success' || outcome === 'fallback_answer';
  ended.attempts.forEach((attempt, index) => {
    // A model that did not answer is a fallback when the request went on past it.
    const wentOn = answered || index < ended.attempts.length - 1;
    if (attempt.outcome !== 'success' && wentOn) {
      metrics.fallbacks.inc({ entry, provider: attempt.provider, model: attempt.model, reason: attempt.failureType ?? 'unknown' });
    }
    if (attempt.failureType === 'BudgetExceeded') metrics.budgetRefusals.inc({ tenant, model: attempt.model });
    if (attempt.usage) {
      metrics.tokens.inc({ tenant, feature, model: attempt.model, direction: 'input' }, attempt.usage.inputTokens);
      metrics.tokens.inc({ tenant, feature, model: attempt.model, direction: 'output' }, attempt.usage.outputTokens);
    }
    if (attempt.costUsd !== undefined && attempt.costUsd > 0) metrics.cost.inc({ tenant, feature, model: attempt.model }, attempt.costUsd);
    if (ended.format !== 'text' && (attempt.outcome === 'success' || attempt.failureType === 'InvalidOutput')) {
      metrics.outputValidations.inc({ model: attempt.model, format: ended.format, result: attempt.outcome === 'success' ? 'valid' : 'invalid' });
    }
  });
}
