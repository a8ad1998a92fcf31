import type { GatewayConfigInput } from '../../common/config-schema';
import type { KeyedDialect, MockApiKeys } from '../../mock/api-keys';

/**
 * The key of each harness provider, by the environment variable its config
 * names. Each provider has a key of its own, so a gateway that sends one
 * provider's key to another is refused too.
 */
export const HARNESS_PROVIDER_KEYS = {
  MOCK_PROVIDER_KEY: 'mock-key',
  MOCK_ANTHROPIC_KEY: 'mock-anthropic-key',
  MOCK_LOCAL_KEY: 'mock-local-key',
} as const;

/** The mock's wire format for each provider type. */
const DIALECT_OF_TYPE: Record<GatewayConfigInput['providers'][string]['type'], KeyedDialect> = {
  openai: 'openai',
  'openai-compatible': 'openai',
  anthropic: 'anthropic',
};

/**
 * The keys the mock must accept: for every provider of `config`, the value
 * `env` holds under the provider's `apiKeyEnv`, filed under its dialect. Give
 * it the harness's own config, not a test's edited one, so a provider a test
 * configures with another key is refused.
 *
 * @throws when a provider names no key, or `env` lacks it: the mock would refuse it.
 */
export function mockApiKeysFor(config: GatewayConfigInput, env: Readonly<Record<string, string | undefined>>): MockApiKeys {
  const keys: Record<KeyedDialect, string[]> = { openai: [], anthropic: [] };
  for (const [name, provider] of Object.entries(config.providers)) {
    const key = provider.apiKeyEnv === undefined ? undefined : env[provider.apiKeyEnv];
    if (key === undefined || key === '') {
      throw new Error(`provider ${name} of the mock config has no key (apiKeyEnv ${provider.apiKeyEnv ?? 'unset'}): the mock would refuse it`);
    }
    keys[DIALECT_OF_TYPE[provider.type]].push(key);
  }
  return keys;
}
