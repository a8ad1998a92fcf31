import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RoutingSnapshot } from '../../common/routing-snapshot-schema';
import { planRoute } from '../../workflows/plan-route';

/** A minimal request naming `model`. */
function ask(model: string) {
  return { model, messages: [{ role: 'user' as const, content: 'hi' }], sampling: {}, tags: {} };
}

const retry = { maximumAttempts: 3, initialIntervalMs: 100, backoffCoefficient: 2, maximumIntervalMs: 1000, maxRetryAfterMs: 1000 };
const timeouts = { requestMs: 1000, totalMs: 5000, heartbeatMs: 1000, streamMs: 10000 };
const snapshot: RoutingSnapshot = {
  configVersion: 'sha256:test',
  providers: { p1: { type: 'openai', retry, timeouts }, p2: { type: 'anthropic', retry, timeouts } },
  models: {
    a: { provider: 'p1', upstreamModel: 'a-upstream', fallbacks: ['b', 'a', 'ghost'] },
    b: { provider: 'p2', upstreamModel: 'b', fallbacks: [] },
    orphan: { provider: 'missing', upstreamModel: 'orphan', fallbacks: [] },
  },
  routes: { default: ['b', 'a'], broken: ['orphan', 'b'] },
  defaultRoute: 'default',
  fallbackMessage: 'sorry',
};

test('a named model comes first, then its configured fallbacks', () => {
  const plan = planRoute(ask('a'), snapshot);
  assert.deepEqual(
    plan.candidates.map((candidate) => [candidate.modelId, candidate.providerId, candidate.upstreamModel]),
    [
      ['a', 'p1', 'a-upstream'],
      ['b', 'p2', 'b'],
    ],
  );
  assert.deepEqual(plan.rejected, [
    { modelId: 'a', reason: 'already in the chain' },
    { modelId: 'ghost', reason: 'not configured' },
  ]);
});

test('a route name gives its chain in order and auto gives the default route', () => {
  assert.deepEqual(planRoute(ask('default'), snapshot).candidates.map((c) => c.modelId), ['b', 'a']);
  const auto = planRoute(ask('auto'), snapshot);
  assert.equal(auto.resolvedFrom, 'default');
  assert.deepEqual(auto.candidates.map((c) => c.modelId), ['b', 'a']);
});

test('a model whose provider is missing is rejected, not tried', () => {
  const plan = planRoute(ask('broken'), snapshot);
  assert.deepEqual(plan.candidates.map((c) => c.modelId), ['b']);
  assert.deepEqual(plan.rejected, [{ modelId: 'orphan', reason: 'not configured' }]);
});

test('an unknown model yields no candidates', () => {
  assert.deepEqual(planRoute(ask('nothing'), snapshot).candidates, []);
});

test('the same inputs always give the same plan', () => {
  assert.deepEqual(planRoute(ask('a'), snapshot), planRoute(ask('a'), snapshot));
});
