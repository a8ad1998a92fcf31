import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cacheKey } from '../../../services/response-cache/cache-key';
import { CanonicalRequestSchema, type CanonicalRequestInput } from '../../../common/request-schema';

const base: CanonicalRequestInput = {
  requestId: 'r1',
  tenantId: 'alpha',
  model: 'model-a',
  messages: [{ role: 'user', content: 'What is the capital of France?' }],
  sampling: { temperature: 0, maxTokens: 50 },
};
const key = (input: Partial<CanonicalRequestInput>, resolvedFrom = 'model-a') => cacheKey(CanonicalRequestSchema.parse({ ...base, ...input }), resolvedFrom);

test('the same question gets the same key, whatever its request id, tags or user', () => {
  assert.equal(key({}), key({ requestId: 'r2', tags: { feature: 'faq' }, user: 'someone' }));
  assert.match(key({}), /^[0-9a-f]{64}$/);
});

test('sampling parameters count, in any order', () => {
  assert.equal(key({ sampling: { maxTokens: 50, temperature: 0 } }), key({}));
  assert.notEqual(key({ sampling: { temperature: 0, maxTokens: 51 } }), key({}));
});

test('tenant, route, messages, tools and output format each change the key', () => {
  const original = key({});
  assert.notEqual(key({ tenantId: 'beta' }), original);
  assert.notEqual(key({}, 'default'), original);
  assert.notEqual(key({ messages: [{ role: 'user', content: 'What is the capital of Spain?' }] }), original);
  assert.notEqual(key({ tools: [{ name: 'lookup', parameters: { type: 'object' } }] }), original);
  assert.notEqual(key({ output: { type: 'json_object' } }), original);
});
