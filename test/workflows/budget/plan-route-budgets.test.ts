import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BudgetSnapshot, RoutingSnapshot } from '../../../common/routing-snapshot-schema';
import { planRoute } from '../../../workflows/plan-route';

const retry = { maximumAttempts: 3, initialIntervalMs: 100, backoffCoefficient: 2, maximumIntervalMs: 1000, maxRetryAfterMs: 1000 };
const timeouts = { requestMs: 1000, totalMs: 5000, heartbeatMs: 1000, streamMs: 10000 };

// Worst cases at 100 prompt tokens and max_tokens 100: premium 0.002, cheap 0.0002, local free.
const base: RoutingSnapshot = {
  configVersion: 'sha256:test',
  providers: { p: { type: 'openai', retry, timeouts } },
  models: {
    premium: { provider: 'p', upstreamModel: 'premium', fallbacks: [], pricing: { inputPerMillionUsd: 10, outputPerMillionUsd: 10 } },
    cheap: { provider: 'p', upstreamModel: 'cheap', fallbacks: [], pricing: { inputPerMillionUsd: 1, outputPerMillionUsd: 1 } },
    local: { provider: 'p', upstreamModel: 'local', fallbacks: [], pricing: { inputPerMillionUsd: 0, outputPerMillionUsd: 0 } },
  },
  routes: { chain: ['premium', 'cheap', 'local'] },
  defaultRoute: 'chain',
  fallbackMessage: 'sorry',
  assessment: { promptTokens: 100, findings: {}, tags: {} },
};

const request = { model: 'chain', messages: [{ role: 'user' as const, content: 'hi' }], sampling: { maxTokens: 100 }, tags: {} };

function budget(availableUsd: number, whenLow: BudgetSnapshot['whenLow'] = 'cheaper_first'): BudgetSnapshot {
  return { name: 'team', workflowId: 'budget-team-2026-11-25', periodKey: '2026-11-25', endsAt: 0, limitUsd: 1, availableUsd, whenLow, lowAtUsd: 0.2 };
}

test('a budget with plenty left changes nothing but is reported', () => {
  const plan = planRoute(request, { ...base, budgets: [budget(0.9)] });
  assert.deepEqual(plan.candidates.map((candidate) => candidate.model), ['premium', 'cheap', 'local']);
  assert.deepEqual(plan.budgets, [{ name: 'team', availableUsd: 0.9, limitUsd: 1, action: 'ok' }]);
  assert.equal(plan.budgetExceeded, undefined);
});

test('a low budget with cheaper_first puts the cheapest worst case first', () => {
  const plan = planRoute(request, { ...base, budgets: [budget(0.1)] });
  assert.deepEqual(plan.candidates.map((candidate) => candidate.model), ['local', 'cheap', 'premium']);
  assert.equal(plan.budgets?.[0]?.action, 'cheaper_first');
});

test('a candidate whose worst case is more than a budget has left is rejected with the reason', () => {
  const plan = planRoute(request, { ...base, budgets: [budget(0.001)] });
  assert.deepEqual(plan.candidates.map((candidate) => candidate.model), ['local', 'cheap']);
  assert.deepEqual(plan.rejected, [{ model: 'premium', reason: 'worst-case cost 0.002 USD is more than budget "team" has left (0.001 USD)' }]);
});

test('a low budget that refuses refuses the request', () => {
  const plan = planRoute(request, { ...base, budgets: [budget(0.1, 'refuse')] });
  assert.match(plan.budgetExceeded ?? '', /budget "team" is low \(0\.1 of 1 USD left\) and refuses requests/);
  assert.deepEqual(plan.candidates, []);
});

test('when budgets leave no candidate, the request is over budget', () => {
  const plan = planRoute({ ...request, model: 'premium' }, { ...base, budgets: [budget(0.0001)] });
  assert.deepEqual(plan.candidates, []);
  assert.match(plan.budgetExceeded ?? '', /budget "team" has 0\.0001 of 1 USD left, less than any candidate's worst case/);
});

test('the tightest of several budgets decides', () => {
  const plan = planRoute(request, { ...base, budgets: [budget(0.9), { ...budget(0.0005), name: 'feature' }] });
  assert.deepEqual(plan.candidates.map((candidate) => candidate.model), ['local', 'cheap']);
  assert.match(plan.rejected[0]?.reason ?? '', /budget "feature"/);
});
