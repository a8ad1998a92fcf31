import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createModelAdapter } from '../../../activities/providers/registry';
import { PROVIDER_TYPES, type ProviderType } from '../../../common/config-schema';
import { CanonicalRequestSchema } from '../../../common/request-schema';
import { startFixtureServer, type FixtureServer } from './fixture-server';

let server: FixtureServer;
before(async () => {
  server = await startFixtureServer();
});
after(() => server.close());

const request = CanonicalRequestSchema.parse({
  requestId: 'req-1',
  tenantId: 'tenant-1',
  model: 'any',
  messages: [{ role: 'user', content: 'Hi' }],
});

/** Where each provider type posts, and a minimal valid answer in its wire format. */
const EXPECTED: Record<ProviderType, { baseUrlSuffix: string; path: string; reply: unknown }> = {
  openai: {
    baseUrlSuffix: '/v1',
    path: '/v1/chat/completions',
    reply: { choices: [{ message: { content: 'ok' }, finish_reason: 'stop' }], usage: { prompt_tokens: 1, completion_tokens: 1 } },
  },
  'openai-compatible': {
    baseUrlSuffix: '/v1',
    path: '/v1/chat/completions',
    reply: { choices: [{ message: { content: 'ok' }, finish_reason: 'stop' }], usage: { prompt_tokens: 1, completion_tokens: 1 } },
  },
  anthropic: {
    baseUrlSuffix: '',
    path: '/v1/messages',
    reply: { content: [{ type: 'text', text: 'ok' }], stop_reason: 'end_turn', usage: { input_tokens: 1, output_tokens: 1 } },
  },
};

for (const type of PROVIDER_TYPES) {
  test(`builds an adapter for provider type ${type} that speaks its wire format`, async () => {
    const { baseUrlSuffix, path, reply } = EXPECTED[type];
    const adapter = createModelAdapter(type, {
      providerId: `test-${type}`,
      baseUrl: `${server.origin}${baseUrlSuffix}`,
      apiKey: 'test-key-123456',
      requestTimeoutMs: 5_000,
    });
    server.reply({ kind: 'json', status: 200, body: reply });
    const output = await adapter.complete(request, { upstreamModel: 'upstream' });
    assert.equal(output.text, 'ok');
    assert.equal(server.requests[0]?.path, path);
  });
}

test('refuses an unknown provider type', () => {
  assert.throws(
    () => createModelAdapter('gemini' as ProviderType, { providerId: 'g', baseUrl: 'http://x', apiKey: undefined, requestTimeoutMs: 1 }),
    /unknown provider type "gemini"/,
  );
});
