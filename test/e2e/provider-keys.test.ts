// Through the real path: the mock requires of each provider the key the
// harness config names, so the worker must look up and send the right one;
// a provider configured with another key (or none) is refused with the
// vendor's 401 and the chain falls over as AccessDenied.
import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import OpenAI from 'openai';
import type { GatewayConfigInput } from '../../common/config-schema';
import { TENANT_KEY, startHarness, type Harness } from '../support/gateway-harness';

/** A key the mock was never told of, as a revoked or mistyped key would be. */
const REVOKED_KEY = 'sk-revoked-0000000000';

let harness: Harness;
let openai: OpenAI;

/** Two more providers at the mock: one configured with a wrong key, one whose key variable is not set. */
function withBadlyKeyedProviders(config: GatewayConfigInput): GatewayConfigInput {
  const openAiProvider = config.providers['mock-openai'];
  const anthropicProvider = config.providers['mock-anthropic'];
  assert.ok(openAiProvider && anthropicProvider);
  const modelA = config.models['model-a'];
  assert.ok(modelA);
  return {
    ...config,
    providers: {
      ...config.providers,
      'mock-openai-revoked': { ...openAiProvider, apiKeyEnv: 'MOCK_REVOKED_KEY' },
      'mock-anthropic-unset': { ...anthropicProvider, apiKeyEnv: 'MOCK_UNSET_KEY' },
    },
    models: {
      ...config.models,
      'model-revoked': { ...modelA, provider: 'mock-openai-revoked', fallbacks: ['model-b'] },
      'model-keyless': { ...modelA, provider: 'mock-anthropic-unset', fallbacks: ['model-a'] },
    },
  };
}

before(async () => {
  harness = await startHarness({ configure: withBadlyKeyedProviders, env: { MOCK_REVOKED_KEY: REVOKED_KEY } });
  openai = new OpenAI({ baseURL: `${harness.apiUrl}/v1`, apiKey: TENANT_KEY, maxRetries: 0, timeout: 60_000 });
});

after(async () => {
  await harness?.stop();
});

afterEach(async () => {
  await harness.resetCalls();
});

interface GatewayBlock {
  fallbacks: number;
  attempts: { position: number; provider: string; model: string; outcome: string; failureType?: string; tries: number }[];
}

async function ask(model: string) {
  const { data, response } = await openai.chat.completions.create({ model, messages: [{ role: 'user', content: 'who holds the key?' }] }).withResponse();
  return { headers: response.headers, gateway: (data as unknown as { gateway: GatewayBlock }).gateway };
}

test('each harness provider answers itself with the key its config names', async () => {
  for (const model of ['model-a', 'model-b', 'model-c']) {
    const { headers, gateway } = await ask(model);
    assert.equal(headers.get('x-gateway-model'), model, JSON.stringify(gateway.attempts));
    assert.equal(gateway.fallbacks, 0);
  }
  assert.deepEqual(await harness.calls(), { 'model-a': 1, 'model-b': 1, 'model-c': 1 });
});

test('a provider configured with a wrong key falls over as AccessDenied, without a retry, to the next model', async () => {
  const { headers, gateway } = await ask('model-revoked');
  assert.equal(headers.get('x-gateway-model'), 'model-b');
  assert.equal(headers.get('x-gateway-fallbacks'), '1');
  assert.deepEqual(
    gateway.attempts.map(({ provider, model, outcome, failureType, tries }) => ({ provider, model, outcome, failureType, tries })),
    [
      { provider: 'mock-openai-revoked', model: 'model-revoked', outcome: 'failed', failureType: 'AccessDenied', tries: 1 },
      { provider: 'mock-anthropic', model: 'model-b', outcome: 'success', failureType: undefined, tries: 1 },
    ],
  );
  assert.deepEqual(await harness.calls(), { 'model-revoked': 1, 'model-b': 1 });
});

test('an Anthropic provider whose key variable is not set is refused as AccessDenied too, and the next model answers', async () => {
  const { headers, gateway } = await ask('model-keyless');
  assert.equal(headers.get('x-gateway-model'), 'model-a');
  assert.deepEqual(
    gateway.attempts.map(({ model, failureType }) => [model, failureType]),
    [
      ['model-keyless', 'AccessDenied'],
      ['model-a', undefined],
    ],
  );
  assert.deepEqual(await harness.calls(), { 'model-keyless': 1, 'model-a': 1 });
});
