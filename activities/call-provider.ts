import { activityInfo, ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import { own } from '../common/own';
import { addUsage, NO_USAGE, usageOf } from '../common/pricing';
import type { Usage } from '../common/response-schema';
import type { CallModelResult } from '../common/call-target';
import { GatewayError, PROVIDER_HEALTH_FAILURE_TYPES } from '../common/failure-types';
import { imageUrlMode, type ProviderConfig } from '../common/config-schema';
import type { CanonicalRequest } from '../common/request-schema';
import type { ModelOutput } from '../common/response-schema';
import type { CallModelInput } from '../common/routing-snapshot-schema';
import type { ConfigStore } from '../services/config-store';
import { metrics } from '../runtime/metrics';
import { inSpan, SpanKind } from '../runtime/tracing';
import { recordGenAiCall } from '../runtime/otel-metrics';
import type { AuditTrail } from '../services/audit-trail';
import type { BreakerBoard } from '../services/breaker-board';
import type { BudgetBoard } from '../services/budget-board';
import type { QualityBoard } from '../services/quality-board';
import type { ResponseCache } from '../services/response-cache/response-cache';
import type { ObservedStats } from '../services/observed-stats';
import { inlineImageUrls } from './providers/inline-images';
import type { ModelAdapter } from './providers/model-adapter';
import { assumedLostTries, countLostTries } from './lost-tries';
import { redactRequest } from '../services/prompt/sensitive-data';
import { toApplicationFailure } from './to-application-failure';
import { validateOutput } from './validate-output';

export type { CallModelResult };

export interface ActivityDependencies {
  /** The config in force and its adapters (swapped whole on a reload). */
  store: ConfigStore;
  /** Where call outcomes are counted for routing; none in tests that do not route. */
  stats?: ObservedStats;
  /** The shared circuit breakers: admit each call, and hear its outcome. */
  breakers?: BreakerBoard;
  /** The shared budgets: what routing sees of them, and where attempts reserve and settle. */
  budgets?: BudgetBoard;
  /** Measured quality: the eval scores routing reads, and where eval runs record them. */
  quality?: QualityBoard;
  /** The response cache (exact answers by request hash). */
  cache?: ResponseCache;
  /** The audit trail: a provider rejecting its key is an access change ops must see. */
  audit?: AuditTrail;
}


export interface ProviderCallOptions {
  /** Makes the call through the model's adapter, with the request as this model may see it. */
  call(adapter: ModelAdapter, request: CanonicalRequest, signal: AbortSignal): Promise<ModelOutput>;
  /** Extra heartbeat details (progress shown in the UI). */
  progress?(): Record<string, unknown>;
  /** Last word on a failure before Temporal sees it (a stream that already reached the caller). */
  reviseFailure?(failure: ApplicationFailure): ApplicationFailure;
}

/**
 * One try of one model inside a provider activity: find the adapter, keep the
 * activity heartbeating, make the call, validate the output and turn any
 * failure into the `ApplicationFailure` Temporal's retry policy acts on.
 */
export async function callProvider(
  { store, stats, breakers, budgets, audit }: ActivityDependencies,
  request: CanonicalRequest,
  target: CallModelInput,
  options: ProviderCallOptions,
): Promise<CallModelResult> {
  const context = Context.current();
  const { attempt, isLocal, heartbeatDetails } = activityInfo();
  // Usage billed by earlier tries of this model (a refused output), carried in the heartbeat.
  let billed: Usage = usageOf((heartbeatDetails as { billedUsage?: unknown } | undefined)?.billedUsage) ?? NO_USAGE;
  // Earlier tries that may have been billed unseen; every way this try ends reports them.
  let lost = assumedLostTries();
  const facts = () => ({ attempt, ...(lost.lostTries > 0 ? { lostTries: lost.lostTries } : {}) });
  const { loaded, adapters } = store.current;
  const provider = own(loaded.config.providers, target.provider);
  const adapter = adapters.get(target.provider);
  if (!provider || !adapter) {
    const error = new GatewayError('AccessDenied', `provider "${target.provider}" is not configured on this worker`, {
      provider: target.provider,
    });
    const failure = toApplicationFailure(error, 0, attempt);
    Object.assign(failure.details?.[0] ?? {}, facts());
    throw failure;
  }
  // Heartbeats let Temporal notice a crashed worker long before the call's own timeout; they start
  // at once, so waiting on the server, a breaker or a budget never looks like a dead worker.
  // Local activities have no heartbeat: they live and die with the workflow task.
  const beat = (): void => {
    if (!isLocal) context.heartbeat({ ...facts(), billedUsage: billed, ...options.progress?.() });
  };
  beat();
  const timer = setInterval(beat, Math.max(provider.timeouts.heartbeatMs / 3, 100));
  try {
    lost = await countLostTries();
    // An open breaker (or a half-open one whose probe slot is taken) skips the call: fall over at once.
    // A probe permit is waited for at most half a heartbeat timeout: not granted in time, the call is no probe, skipped.
    const admission = breakers ? await breakers.admit(target.provider, { deadlineMs: provider.timeouts.heartbeatMs / 2 }) : { admitted: true as const };
    if (!admission.admitted) {
      throw ApplicationFailure.create({
        type: 'BreakerOpen',
        message: `${target.provider}: breaker open (${admission.reason}); skipped without a call`,
        nonRetryable: true,
        details: [{ provider: target.provider, ...facts() }],
      });
    }
    // The try before this one may have been billed (its reservation is spent): this one reserves its own worst case.
    if (lost.previousLost && target.budget && budgets) {
      const { budget } = target;
      const reservation = await budgets.reserve(budget.budgets, `${budget.reservationId}/try-${attempt}`, budget.worstCaseUsd, budget.leaseMs);
      if (!reservation.granted) {
        throw ApplicationFailure.create({
          type: 'BudgetExceeded',
          message: `budget "${reservation.budget}" has ${reservation.availableUsd} USD left, less than this retry's worst case of ${budget.worstCaseUsd} USD (an earlier try was lost and may have been billed); not sent`,
          nonRetryable: true,
          details: [{ ...facts(), ...(billed.inputTokens + billed.outputTokens > 0 ? { billedUsage: billed } : {}) }],
        });
      }
    }
    return await callAdmitted(provider, adapter, admission.probeId);
  } finally {
    clearInterval(timer);
  }

  /** The call itself, once the breaker and the budget let it go out. */
  async function callAdmitted(provider: ProviderConfig, adapter: ModelAdapter, probeId: string | undefined): Promise<CallModelResult> {
    // Under a `redact` sensitivity class, a model that is not self-hosted never sees the detected data.
    const redacted = target.redact ? redactRequest(request).request : request;
    const started = Date.now();
    // A hedged call with no answer by the hedge is, to its breaker, a timeout there and then (though it goes on):
    // a hanging provider's breaker opens after as many hedges as failures would open it. Its end is not counted again.
    let overtaken = false;
    const hedge =
      target.hedgeAfterMs === undefined || !breakers
        ? undefined
        : setTimeout(() => {
            overtaken = true;
            breakers.report(target.provider, { model: target.model, ok: false, failureType: 'Timeout', latencyMs: Date.now() - started, ...(probeId ? { probeId } : {}) });
          }, target.hedgeAfterMs);
    try {
      // A provider that takes images inline gets their bytes, fetched here under the provider's imageFetch rules.
      const sent =
        imageUrlMode(provider) === 'inline'
          ? await inlineImageUrls(redacted, provider.imageFetch, { providerId: target.provider, signal: context.cancellationSignal })
          : redacted;
      // A GenAI client span (OTel semantic conventions) around the provider call; the HTTP call is its child.
      const genAi = {
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': provider.type === 'anthropic' ? 'anthropic' : 'openai',
        'gen_ai.request.model': target.upstreamModel,
      };
      const calledAt = performance.now();
      const output = await inSpan(
        `chat ${target.upstreamModel}`,
        SpanKind.CLIENT,
        { ...genAi, 'switchyard.provider': target.provider, 'switchyard.model': target.model, 'switchyard.attempt': attempt },
        async (annotate) => {
          let answer: ModelOutput;
          try {
            answer = await options.call(adapter, sent, context.cancellationSignal);
          } catch (error) {
            const errorType = error instanceof GatewayError ? error.type : 'ProviderUnavailable';
            annotate({ 'error.type': errorType });
            recordGenAiCall({ ...genAi, 'error.type': errorType }, (performance.now() - calledAt) / 1000);
            throw error;
          }
          const responseModel = answer.responseModel ?? target.upstreamModel;
          annotate({
            'gen_ai.response.model': responseModel,
            'gen_ai.usage.input_tokens': answer.usage.inputTokens,
            'gen_ai.usage.output_tokens': answer.usage.outputTokens,
            'gen_ai.response.finish_reasons': [answer.finishReason.raw ?? answer.finishReason.unified],
          });
          recordGenAiCall({ ...genAi, 'gen_ai.response.model': responseModel }, (performance.now() - calledAt) / 1000, answer.usage);
          return answer;
        },
      );
      billed = addUsage(billed, output.usage);
      beat();
      validateOutput(output, request.output, target.provider);
      const latencyMs = Date.now() - started;
      countAttempt(target, 'success', latencyMs);
      stats?.record(target.model, { ok: true, durationMs: latencyMs });
      if (!overtaken) breakers?.report(target.provider, { model: target.model, ok: true, latencyMs, ...(probeId ? { probeId } : {}) });
      return { output, tries: attempt, billedUsage: billed, ...(lost.lostTries > 0 ? { lostTries: lost.lostTries } : {}) };
    } catch (error) {
      // A cancelled or shut-down activity is not the provider's failure.
      if (context.cancellationSignal.aborted) throw new CancelledFailure('provider call cancelled');
      const failure = toApplicationFailure(error, provider.retry.maxRetryAfterMs, attempt, target.failoverAtOnce === true);
      if (isHealthFailure(failure.type)) stats?.record(target.model, { ok: false, durationMs: Date.now() - started });
      countAttempt(target, failure.type ?? 'ProviderUnavailable', Date.now() - started);
      if (failure.type === 'AccessDenied') {
        const status = (failure.details?.[0] as { status?: number } | undefined)?.status;
        audit?.record({ audit: 'provider_access_denied', provider: target.provider, model: target.model, status, message: failure.message }, `${target.provider}/${target.model}`);
      }
      const retryAfterMs = (failure.details?.[0] as { retryAfterMs?: number } | undefined)?.retryAfterMs;
      if (!overtaken) breakers?.report(target.provider, {
        model: target.model,
        ok: false,
        failureType: failure.type ?? 'ProviderUnavailable',
        latencyMs: Date.now() - started,
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
        ...(probeId ? { probeId } : {}),
      });
      const final = options.reviseFailure ? options.reviseFailure(failure) : failure;
      // The workflow prices failed attempts too: what the provider billed, and the tries lost unseen, travel with the failure.
      const details = final.details?.[0];
      if (typeof details === 'object' && details !== null) {
        if (billed.inputTokens + billed.outputTokens > 0) (details as { billedUsage?: Usage }).billedUsage = billed;
        if (lost.lostTries > 0) (details as { lostTries?: number }).lostTries = lost.lostTries;
      }
      throw final;
    } finally {
      clearTimeout(hedge);
    }
  }
}

function countAttempt(target: CallModelInput, result: string, durationMs: number): void {
  const labels = { provider: target.provider, model: target.model, result };
  metrics.providerAttempts.inc(labels);
  metrics.providerCallDuration.observe(labels, durationMs / 1000);
}

function isHealthFailure(type: string | null | undefined): boolean {
  return (PROVIDER_HEALTH_FAILURE_TYPES as readonly string[]).includes(type ?? '');
}
