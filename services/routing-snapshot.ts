// The one place a routing snapshot is taken: the config in force, what the
// shared boards know now, and the request's assessment. The workflow (through
// its getRoutingSnapshot activity), the API's pre-check, /v1/route/explain and
// the batch planner all take it here, so an explanation is what the workflow
// would decide.
import { imageUrlMode } from '../common/config-schema';
import type { CanonicalRequest } from '../common/request-schema';
import type { PromptAssessment, RequestAssessment, RoutingSnapshot } from '../common/routing-snapshot-schema';
import type { LoadedConfig } from '../runtime/load-config';
import type { BreakerBoard } from './breaker-board';
import type { BudgetBoard } from './budget-board';
import type { ObservedStats } from './observed-stats';
import { assessRequest, assessTags } from './prompt/assess-request';
import { metrics } from '../runtime/metrics';
import type { QualityBoard } from './quality-board';

/** Sensitivity classes cached when the config names none: confidential data is kept only where the policy says so. */
const DEFAULT_CACHED_SENSITIVITY = ['public', 'internal'];

/** What routing reads live besides the config, each absent where a process has none (the API has no call stats). */
export interface LiveRouting {
  breakers?: Pick<BreakerBoard, 'snapshot' | 'health'>;
  stats?: Pick<ObservedStats, 'snapshot'>;
  budgets?: Pick<BudgetBoard, 'forRequest'>;
  quality?: Pick<QualityBoard, 'measured'>;
}

/**
 * The routing snapshot of `request` (or of none: the config's and the
 * boards' part only): `assessment` when the caller already assessed the
 * prompt (the API, off its event loop), else assessed here.
 */
export function takeRoutingSnapshot(
  loaded: LoadedConfig,
  live: LiveRouting,
  request?: CanonicalRequest,
  assessment: RequestAssessment | undefined = request === undefined ? undefined : assessedHere(request, loaded),
  now = Date.now(),
): RoutingSnapshot {
  const { breakers, stats, budgets, quality } = live;
  const budgetsOfRequest = request === undefined ? [] : (budgets?.forRequest(request.tenantId, assessment?.tags.feature, now) ?? []);
  const measuredQuality = quality?.measured();
  return {
    ...routingSnapshotOf(loaded),
    // Health the breakers saw across every worker; this process's own figures when there are none.
    observed: breakers ? { ...stats?.snapshot(), ...breakers.health() } : (stats?.snapshot() ?? {}),
    breakers: breakers?.snapshot() ?? {},
    ...(assessment === undefined ? {} : { assessment }),
    ...(budgetsOfRequest.length === 0 ? {} : { budgets: budgetsOfRequest }),
    ...(measuredQuality === undefined ? {} : { measuredQuality }),
  };
}

/**
 * The routing snapshot of `request` whose prompt was already tokenised and
 * scanned (by the API, off its event loop): only its tags are assessed here,
 * the request's own (latency budget included) over its tenant's defaults.
 */
export function takeAssessedRoutingSnapshot(
  loaded: LoadedConfig,
  live: LiveRouting,
  request: CanonicalRequest,
  prompt: PromptAssessment,
): RoutingSnapshot {
  return takeRoutingSnapshot(loaded, live, request, { ...prompt, tags: assessTags(request, loaded.config) });
}

const built = new WeakMap<LoadedConfig, RoutingSnapshot>();

function assessedHere(request: CanonicalRequest, loaded: LoadedConfig): RequestAssessment {
  metrics.promptAssessments.inc({ by: 'worker' });
  return assessRequest(request, loaded.config);
}

/** The config's part of every snapshot (`buildRoutingSnapshot`), built once per loaded config. */
function routingSnapshotOf(loaded: LoadedConfig): RoutingSnapshot {
  let snapshot = built.get(loaded);
  if (!snapshot) {
    snapshot = buildRoutingSnapshot(loaded);
    built.set(loaded, snapshot);
  }
  return snapshot;
}

/** The routing inputs of the current config, without secrets (no key hashes, no key names). */
export function buildRoutingSnapshot({ config, version }: LoadedConfig): RoutingSnapshot {
  return {
    configVersion: version,
    providers: Object.fromEntries(
      Object.entries(config.providers).map(([id, provider]) => [
        id,
        { type: provider.type, retry: provider.retry, timeouts: provider.timeouts, imageUrls: imageUrlMode(provider) },
      ]),
    ),
    models: Object.fromEntries(
      Object.entries(config.models).map(([id, model]) => [
        id,
        {
          provider: model.provider,
          upstreamModel: model.upstreamModel ?? id,
          fallbacks: model.fallbacks,
          ...(model.contextWindow === undefined ? {} : { contextWindow: model.contextWindow }),
          ...(model.capabilities === undefined ? {} : { capabilities: model.capabilities }),
          ...(model.pricing === undefined ? {} : { pricing: model.pricing }),
          ...(model.approvedFor === undefined ? {} : { approvedFor: model.approvedFor }),
          selfHosted: model.selfHosted,
          openSource: model.openSource,
          quality: model.quality,
          ...(model.typicalLatencyMs === undefined ? {} : { typicalLatencyMs: model.typicalLatencyMs }),
        },
      ]),
    ),
    routes: config.routes,
    defaultRoute: config.defaultRoute,
    fallbackMessage: config.fallback.message,
    taskClasses: Object.fromEntries(Object.entries(config.taskClasses).map(([name, taskClass]) => [name, taskClass.models])),
    ...(config.defaultTaskClass === undefined ? {} : { defaultTaskClass: config.defaultTaskClass }),
    criticality: config.criticality,
    sensitivity: config.sensitivity,
    ...(config.execution.providerCalls === 'local' ? { providerCallsAs: 'local' as const } : {}),
    ...(config.cache.enabled
      ? {
          cache: {
            ttlMs: config.cache.ttlSeconds * 1000,
            taskClassTtlMs: Object.fromEntries(Object.entries(config.cache.taskClassTtlSeconds).map(([name, seconds]) => [name, seconds * 1000])),
            staleMs: config.cache.staleSeconds * 1000,
            allowTemperature: config.cache.allowTemperature,
            sensitivity: config.cache.sensitivity ?? config.sensitivity.classes.filter((name) => DEFAULT_CACHED_SENSITIVITY.includes(name)),
          },
        }
      : {}),
  };
}
