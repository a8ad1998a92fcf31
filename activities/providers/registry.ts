import type { ProviderType } from '../../common/config-schema';
import { createAnthropicAdapter } from './anthropic/anthropic-adapter';
import type { AdapterSettings, ModelAdapter } from './model-adapter';
import { createOpenAiAdapter } from './openai/openai-adapter';
import { createOpenAiCompatibleAdapter } from './openai-compatible/openai-compatible-adapter';

const FACTORIES: Record<ProviderType, (settings: AdapterSettings) => ModelAdapter> = {
  openai: (settings) => createOpenAiAdapter(settings),
  anthropic: createAnthropicAdapter,
  'openai-compatible': createOpenAiCompatibleAdapter,
};

/**
 * The one place that branches on a provider's type. Build one adapter per
 * configured provider per worker: each holds its own SDK client.
 */
export function createModelAdapter(type: ProviderType, settings: AdapterSettings): ModelAdapter {
  const factory = FACTORIES[type];
  if (!factory) throw new Error(`unknown provider type "${String(type)}" for provider "${settings.providerId}"`);
  return factory(settings);
}
