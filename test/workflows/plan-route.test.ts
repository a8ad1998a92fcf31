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
    plan.candidates.map((candidate) => [candidate.model, candidate.provider, candidate.upstreamModel]),
    [
      ['a', 'p1', 'a-upstream'],
      ['b', 'p2', 'b'],
    ],
  );
  assert.deepEqual(plan.rejected, [
    { model: 'a', reason: 'already in the chain' },
    { model: 'ghost', reason: 'not configured' },
  ]);
});

test('a route name gives its chain in order and auto gives the default route', () => {
  assert.deepEqual(planRoute(ask('default'), snapshot).candidates.map((c) => c.model), ['b', 'a']);
  const auto = planRoute(ask('auto'), snapshot);
  assert.equal(auto.resolvedFrom, 'default');
  assert.deepEqual(auto.candidates.map((c) => c.model), ['b', 'a']);
});

test('a model whose provider is missing is rejected, not tried', () => {
  const plan = planRoute(ask('broken'), snapshot);
  assert.deepEqual(plan.candidates.map((c) => c.model), ['b']);
  assert.deepEqual(plan.rejected, [{ model: 'orphan', reason: 'not configured' }]);
});

test('an unknown model yields no candidates', () => {
  assert.deepEqual(planRoute(ask('nothing'), snapshot).candidates, []);
});

test('the same inputs always give the same plan', () => {
  assert.deepEqual(planRoute(ask('a'), snapshot), planRoute(ask('a'), snapshot));
});

/** A policy snapshot: three models of one task class, the default sensitivity and criticality. */
function policySnapshot(overrides: Partial<RoutingSnapshot> = {}): RoutingSnapshot {
  return {
    ...snapshot,
    models: {
      premium: { provider: 'p1', upstreamModel: 'premium', fallbacks: [], pricing: { inputPerMillionUsd: 5, outputPerMillionUsd: 15 }, quality: { default: 0.9 } },
      cheap: { provider: 'p1', upstreamModel: 'cheap', fallbacks: [], pricing: { inputPerMillionUsd: 0.1, outputPerMillionUsd: 0.4 }, quality: { default: 0.6 } },
      local: {
        provider: 'p2',
        upstreamModel: 'local',
        fallbacks: [],
        pricing: { inputPerMillionUsd: 0, outputPerMillionUsd: 0 },
        quality: { default: 0.3 },
        selfHosted: true,
        openSource: true,
        approvedFor: ['public', 'internal', 'confidential'],
      },
    },
    taskClasses: { chat: ['premium', 'cheap', 'local'] },
    criticality: {
      default: 'normal',
      tiers: {
        low: { weights: { cost: 0.5, latency: 0.15, success: 0.15, quality: 0.1, fit: 0.1 }, openSourceLast: false },
        normal: { weights: { quality: 0.3, cost: 0.2, latency: 0.15, success: 0.2, fit: 0.15 }, openSourceLast: false },
        high: { weights: { quality: 0.5, success: 0.25, latency: 0.1, cost: 0, fit: 0.15 }, openSourceLast: true },
      },
    },
    sensitivity: {
      classes: ['public', 'internal', 'confidential'],
      default: 'internal',
      actions: { internal: 'redact' },
      detect: { payment_card: 'internal', secret: 'confidential' },
    },
    ...overrides,
  };
}

function withAssessment(base: RoutingSnapshot, assessment: Partial<NonNullable<RoutingSnapshot['assessment']>>): RoutingSnapshot {
  return { ...base, assessment: { promptTokens: 20, findings: {}, tags: {}, ...assessment } };
}

test('criticality orders a task class: low puts the cheapest first, high the best, open weights last', () => {
  const order = (criticality: string) =>
    planRoute(ask('chat'), withAssessment(policySnapshot(), { tags: { criticality } })).candidates.map((candidate) => candidate.model);
  assert.deepEqual(order('low'), ['local', 'cheap', 'premium']);
  assert.deepEqual(order('high'), ['premium', 'cheap', 'local']);
  const plan = planRoute(ask('chat'), withAssessment(policySnapshot(), { tags: { criticality: 'high' } }));
  assert.equal(plan.strategy, 'scored');
  assert.equal(plan.criticality, 'high');
  assert.ok(plan.candidates.every((candidate) => candidate.score !== undefined && candidate.parts !== undefined));
});

test('what a model has been seen to do moves it down: failures lower its success part', () => {
  const healthy = planRoute(ask('chat'), withAssessment(policySnapshot(), { tags: { criticality: 'high' } }));
  const failing = planRoute(
    ask('chat'),
    withAssessment(policySnapshot({ observed: { premium: { successes: 1, failures: 30, latencyMs: 400 } } }), { tags: { criticality: 'high' } }),
  );
  assert.equal(healthy.candidates[0]?.model, 'premium');
  assert.equal(failing.candidates[0]?.model, 'cheap');
  assert.ok((failing.candidates.find((candidate) => candidate.model === 'premium')?.parts?.success ?? 1) < 0.1);
});

test('a latency budget skips a model whose observed (or typical) latency is over it', () => {
  const plan = planRoute(
    ask('chat'),
    withAssessment(policySnapshot({ observed: { premium: { successes: 5, failures: 0, latencyMs: 2_500 } } }), { tags: { latencyBudgetMs: 1_000 } }),
  );
  assert.deepEqual(plan.rejected, [{ model: 'premium', reason: 'observed latency 2500 ms is over the 1000 ms budget' }]);
});

test('detected data raises the class: a secret leaves only the approved model, a card marks external models for redaction', () => {
  const secret = planRoute(ask('chat'), withAssessment(policySnapshot(), { findings: { secret: 1 } }));
  assert.equal(secret.sensitivity, 'confidential');
  assert.deepEqual(secret.candidates.map((candidate) => candidate.model), ['local']);
  assert.ok(secret.rejected.every((model) => model.reason === 'not approved for confidential data'));

  const card = planRoute(ask('chat'), withAssessment(policySnapshot(), { findings: { payment_card: 1 }, tags: { sensitivity: 'public' } }));
  assert.equal(card.sensitivity, 'internal');
  assert.deepEqual(
    Object.fromEntries(card.candidates.map((candidate) => [candidate.model, candidate.redact === true])),
    { premium: true, cheap: true, local: false },
  );
  const clean = planRoute(ask('chat'), withAssessment(policySnapshot(), {}));
  assert.ok(clean.candidates.every((candidate) => candidate.redact === undefined));
});

test('a named model keeps its fallback order; constraints still filter it', () => {
  const base = policySnapshot();
  const models = { ...base.models, premium: { ...base.models.premium!, fallbacks: ['cheap', 'local'] } };
  const plan = planRoute(ask('premium'), withAssessment({ ...base, models }, { tags: { costCeilingUsd: 0.01 } }));
  assert.equal(plan.strategy, 'ordered');
  assert.deepEqual(plan.candidates.map((candidate) => candidate.model), ['cheap', 'local']);
  // 20 prompt tokens × $5/M + 4096 output tokens × $15/M.
  assert.deepEqual(plan.rejected, [{ model: 'premium', reason: 'worst-case cost 0.06154 USD is over the 0.01 USD ceiling' }]);
});

test('auto without a task class uses the default route; with one, the task class', () => {
  assert.equal(planRoute(ask('auto'), withAssessment(policySnapshot(), {})).resolvedFrom, 'default');
  const scored = planRoute(ask('auto'), withAssessment(policySnapshot({ defaultTaskClass: 'chat' }), {}));
  assert.equal(scored.resolvedFrom, 'chat');
  assert.equal(scored.strategy, 'scored');
});
