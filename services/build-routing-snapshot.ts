import { imageUrlMode } from '../common/config-schema';
import type { RoutingSnapshot } from '../common/routing-snapshot-schema';

/** Sensitivity classes cached when the config names none: confidential data is kept only where the policy says so. */
const DEFAULT_CACHED_SENSITIVITY = ['public', 'internal'];
import type { LoadedConfig } from '../runtime/load-config';

const built = new WeakMap<LoadedConfig, RoutingSnapshot>();

/** `buildRoutingSnapshot`, built once per loaded config. */
export function routingSnapshotOf(loaded: LoadedConfig): RoutingSnapshot {
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
