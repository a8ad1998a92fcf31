import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RoutePlan, RoutingSnapshot } from '../../common/routing-snapshot-schema';
import { cacheUse } from '../../workflows/cache-policy';

const cache = { ttlMs: 60_000, taskClassTtlMs: { extract: 3_600_000 }, staleMs: 86_400_000, allowTemperature: false, sensitivity: ['public', 'internal'] };
const snapshot = { cache } as unknown as RoutingSnapshot;
const plan: RoutePlan = { resolvedFrom: 'default', strategy: 'ordered', candidates: [], rejected: [], sensitivity: 'internal' };
const request = (temperature: number | undefined, tags: { cache?: 'bypass' | 'allow' } = {}) => ({ sampling: { temperature }, tags });

test('a temperature-0 request is cached with the default TTL, or its task class TTL', () => {
  assert.deepEqual(cacheUse(request(0), plan, snapshot), { use: true, ttlMs: 60_000, staleMs: 86_400_000 });
  assert.deepEqual(cacheUse(request(0), { ...plan, taskClass: 'extract' }, snapshot), { use: true, ttlMs: 3_600_000, staleMs: 86_400_000 });
});

test('sampling above 0 (or unset) bypasses unless allowed by the caller or the config', () => {
  assert.equal(cacheUse(request(0.7), plan, snapshot).use, false);
  assert.equal(cacheUse(request(undefined), plan, snapshot).use, false);
  assert.equal(cacheUse(request(0.7, { cache: 'allow' }), plan, snapshot).use, true);
  assert.equal(cacheUse(request(0.7), plan, { cache: { ...cache, allowTemperature: true } } as unknown as RoutingSnapshot).use, true);
});

test('the caller can bypass; a class the policy keeps out and a config without a cache never use it', () => {
  assert.deepEqual(cacheUse(request(0, { cache: 'bypass' }), plan, snapshot), { use: false, reason: 'the caller bypassed the cache' });
  assert.deepEqual(cacheUse(request(0), { ...plan, sensitivity: 'confidential' }, snapshot), { use: false, reason: 'confidential requests are not cached' });
  assert.deepEqual(cacheUse(request(0), plan, {} as RoutingSnapshot), { use: false, reason: 'cache off' });
});
