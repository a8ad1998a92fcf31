import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RouteCandidate, RoutingSnapshot } from '../../common/routing-snapshot-schema';
import { failsOverAtOnce } from '../../workflows/request/call-options';

const retry = { maximumAttempts: 3, initialIntervalMs: 100, backoffCoefficient: 2, maximumIntervalMs: 1000, maxRetryAfterMs: 1000 };
const timeouts = { requestMs: 1000, totalMs: 5000, heartbeatMs: 1000, streamMs: 10000 };
const snapshot: RoutingSnapshot = {
  configVersion: 'sha256:test',
  providers: {
    quick: { type: 'openai', retry, timeouts },
    patient: { type: 'anthropic', retry: { ...retry, failover: 'after-retries' }, timeouts },
  },
  models: {},
  routes: {},
  defaultRoute: 'default',
  fallbackMessage: 'sorry',
};
const on = (provider: string): RouteCandidate => ({ model: 'm', provider, upstreamModel: 'm', reason: 'test' });

test('an outage answer moves to the next model at once while another model follows', () => {
  assert.equal(failsOverAtOnce(snapshot, on('quick'), 1, 3), true);
  assert.equal(failsOverAtOnce(snapshot, on('quick'), 2, 3), true);
});

test("the chain's last model keeps its provider's retries", () => {
  assert.equal(failsOverAtOnce(snapshot, on('quick'), 3, 3), false);
  assert.equal(failsOverAtOnce(snapshot, on('quick'), 1, 1), false);
});

test('a provider set to failover: after-retries is retried before the chain moves on', () => {
  assert.equal(failsOverAtOnce(snapshot, on('patient'), 1, 3), false);
});
