import type { RoutingSnapshot } from '../common/routing-snapshot-schema';
import type { LoadedConfig } from '../worker/load-config';

/** The routing inputs of the current config, without secrets. */
export function buildRoutingSnapshot({ config, version }: LoadedConfig): RoutingSnapshot {
  return {
    configVersion: version,
    providers: Object.fromEntries(
      Object.entries(config.providers).map(([id, provider]) => [
        id,
        { type: provider.type, retry: provider.retry, timeouts: provider.timeouts },
      ]),
    ),
    models: Object.fromEntries(
      Object.entries(config.models).map(([id, model]) => [
        id,
        { provider: model.provider, upstreamModel: model.upstreamModel ?? id, fallbacks: model.fallbacks },
      ]),
    ),
    routes: config.routes,
    defaultRoute: config.defaultRoute,
    fallbackMessage: config.fallback.message,
  };
}
