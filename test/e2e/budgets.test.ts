// Budgets through the real path: HTTP → Temporal → a worker process → mock
// provider, with each budget's ledger an entity workflow on the dev server.
// Concurrent requests never overspend, a worker killed mid-request leaves
// nothing the provider billed uncounted (a call lost with its worker is
// charged at its worst case, apart: unsettled), and a refusing budget answers
// 429 budget_exceeded.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { after, before, test } from 'node:test';
import { WorkflowNotFoundError } from '@temporalio/client';
import OpenAI from 'openai';
import { budgetPeriodAt, budgetWorkflowId } from '../../common/budget-period';
import { roundUsd } from '../../common/pricing';
import { budgetStateQuery } from '../../workflows/budget/budget-workflow';
import { ADMIN_KEY, TENANT_KEY, startHarness, type Harness } from '../support/gateway-harness';
import { waitFor } from '../support/processes';
import { startSplitGateway, type SplitGateway } from '../support/split-gateway';

/** model-a's prices (USD per million tokens); model-c is free. */
const MODEL_A = { input: 5, output: 15 };
/** The shared budget of the concurrency test. */
const LIMIT_USD = 0.0006;
const PROMPT = 'Budget test: say hello';
/** Short answers, so every answer costs the same. */
const MAX_TOKENS = 3;

let harness: Harness;
let gateway: SplitGateway;

before(async () => {
  harness = await startHarness({
    embeddedGateway: false,
    // Heartbeats notice a killed worker in a second.
    timeouts: { requestMs: 30_000, totalMs: 120_000, heartbeatMs: 1_000 },
    configure: (config) => ({
      ...config,
      routes: { ...config.routes, budgeted: ['model-a', 'model-c'], 'priced-only': ['model-a'] },
      budgets: {
        // The concurrency test's budget: cheaper (free) models first once a third of it is left.
        'checkout-daily': { tenant: 'alpha', feature: 'checkout', period: 'day', limitUsd: LIMIT_USD, whenLow: 'cheaper_first', lowAtFraction: 0.34 },
        // Always low (the whole limit is the threshold) and refusing.
        'reports-monthly': { feature: 'reports', period: 'month', limitUsd: 5, whenLow: 'refuse', lowAtFraction: 1 },
        // Too small for any priced answer.
        'tiny-daily': { feature: 'tiny', period: 'day', limitUsd: 0.000001 },
      },
    }),
  });
  gateway = await startSplitGateway(harness);
});

after(async () => {
  await gateway?.stop();
  await harness?.stop();
});

interface GatewayBlock {
  cost_usd: number;
  route: { candidates: { model: string; estimatedCostUsd?: number }[]; budgets?: { name: string; action: string }[] };
}

function ask(feature: string, model = 'budgeted') {
  const openai = new OpenAI({ baseURL: `${gateway.apiUrl}/v1`, apiKey: TENANT_KEY, maxRetries: 0, timeout: 120_000 });
  return openai.chat.completions
    .create({ model, max_tokens: MAX_TOKENS, messages: [{ role: 'user', content: PROMPT }] }, { headers: { 'x-gateway-feature': feature } })
    .withResponse();
}

interface BudgetRow {
  name: string;
  period_key: string;
  spent_usd: number;
  unsettled_usd: number;
  reserved_usd: number;
  reservations: number;
  limit_usd: number;
}

async function budgets(): Promise<BudgetRow[]> {
  const response = await fetch(`${gateway.apiUrl}/v1/budgets`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
  assert.equal(response.status, 200);
  return ((await response.json()) as { data: BudgetRow[] }).data;
}

/**
 * The ledger of `name` summed over every day from `since` to now: a run
 * that crosses UTC midnight spends in two periods, and both count.
 */
async function ledgerSince(name: string, since: number): Promise<{ spentUsd: number; unsettledUsd: number; reservations: number }> {
  const keys = new Set([budgetPeriodAt('day', since).key, budgetPeriodAt('day', Date.now()).key]);
  const total = { spentUsd: 0, unsettledUsd: 0, reservations: 0 };
  for (const key of keys) {
    const view = await harness.client.workflow
      .getHandle(budgetWorkflowId(name, key))
      .query(budgetStateQuery)
      .catch((error: unknown) => (error instanceof WorkflowNotFoundError ? undefined : Promise.reject(error)));
    if (!view) continue;
    total.spentUsd = roundUsd(total.spentUsd + view.spentUsd);
    total.unsettledUsd = roundUsd(total.unsettledUsd + view.unsettledUsd);
    total.reservations += view.reservations;
  }
  return total;
}

/** A busy loop beside the test: the machine is as contended as a shared CI runner. */
function cpuHog(): ChildProcess {
  return spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
}

test('50 concurrent requests never overspend a budget, and a worker killed mid-request leaves nothing billed uncounted', async () => {
  const hog = cpuHog();
  try {
    await concurrencyUnderAKill();
  } finally {
    hog.kill('SIGKILL');
  }
});

async function concurrencyUnderAKill(): Promise<void> {
  const startedAt = Date.now();
  // One unbudgeted request tells what an answer costs (the mock bills the same usage every time).
  const probe = await ask('probe');
  const probeGateway = (probe.data as unknown as { gateway: GatewayBlock }).gateway;
  const costEach = probeGateway.cost_usd;
  const worstCase = probeGateway.route.candidates[0]?.estimatedCostUsd ?? 0;
  assert.ok(costEach > 0 && worstCase >= costEach, `the reserved worst case (${worstCase}) covers the actual cost (${costEach})`);
  const covered = Math.floor(LIMIT_USD / costEach + 1e-9);
  assert.ok(covered >= 2 && covered <= 20, `the budget covers a few answers (${covered})`);
  await harness.resetCalls();

  // Slow answers, so the worker can be killed while calls are in flight.
  await harness.setFault('model-a', { latencyMs: 1_500 });
  const pending = Array.from({ length: 50 }, () => ask('checkout'));
  const inFlight = async () => {
    const received = (await harness.calls())['model-a'] ?? 0;
    return received - ((await harness.control.billing()).totals['model-a']?.answers ?? 0);
  };
  await waitFor(async () => (await inFlight()) >= 2, 'two priced calls in flight');
  // Calls in flight at the kill: at most those the provider had received by then, less those it had answered before.
  const answeredBefore = (await harness.control.billing()).totals['model-a']?.answers ?? 0;
  await gateway.killWorker();
  const receivedByKill = (await harness.calls())['model-a'] ?? 0;
  const inFlightAtKill = receivedByKill - answeredBefore;
  assert.ok(inFlightAtKill >= 1, 'priced calls were in flight when the worker died');
  gateway.startWorker();

  const results = await Promise.all(pending);
  await harness.clearFaults();
  const served = results.map(({ data }) => ({ model: data.model, ...(data as unknown as { gateway: GatewayBlock }).gateway }));
  const priced = served.filter((answer) => answer.model === 'model-a');
  assert.equal(served.length, 50, 'every request was answered');
  assert.ok(priced.length <= covered, `at most ${covered} answers from the priced model, got ${priced.length}`);
  assert.ok(served.filter((answer) => answer.model === 'model-c').length === 50 - priced.length, 'the rest fell to the free model');

  // The provider bills calls whose worker died before it heard the answer; the gateway cannot see those bills.
  const { totals } = await harness.control.billing();
  const billedAnswers = totals['model-a']?.answers ?? 0;
  const billedUsd = roundUsd(((totals['model-a']?.inputTokens ?? 0) * MODEL_A.input + (totals['model-a']?.outputTokens ?? 0) * MODEL_A.output) / 1e6);
  const ledger = await ledgerSince('checkout-daily', startedAt);
  // A try cut off unseen (by the kill, or by a heartbeat timeout on this loaded machine) is charged at its worst case, apart.
  const lostCharged = Math.round(ledger.unsettledUsd / worstCase);
  assert.ok(
    billedAnswers <= priced.length + lostCharged,
    `every billed answer was delivered or charged as a lost try: ${billedAnswers} billed, ${priced.length} delivered, ${lostCharged} lost tries charged (${inFlightAtKill} calls in flight at the kill)`,
  );
  assert.equal(ledger.reservations, 0, 'every reservation was settled or released');
  assert.ok(
    roundUsd(ledger.spentUsd + ledger.unsettledUsd) >= billedUsd,
    `the ledger never under-counts: spent ${ledger.spentUsd} + unsettled ${ledger.unsettledUsd} USD < ${billedUsd} USD billed`,
  );
  assert.ok(roundUsd(ledger.spentUsd + ledger.unsettledUsd) <= LIMIT_USD, `the budget never exceeds its limit: ${JSON.stringify(ledger)}`);
  assert.equal(ledger.spentUsd, roundUsd(served.reduce((sum, answer) => sum + answer.cost_usd, 0)), 'what was settled is what the answers cost');
  if (billedAnswers > priced.length) assert.ok(ledger.unsettledUsd > 0, 'calls lost with the worker are charged, unsettled');
  // Ops see the unsettled charges apart.
  const row = (await budgets()).find((budget) => budget.name === 'checkout-daily');
  assert.ok(row && typeof row.unsettled_usd === 'number', 'GET /v1/budgets shows unsettled_usd');
  if (row.period_key === budgetPeriodAt('day', startedAt).key) assert.equal(row.unsettled_usd, ledger.unsettledUsd);

  // Once (nearly) spent, routing sees the budget low: the free model goes first, and the explanation says why.
  let pricedAfter = 0;
  let degraded: Awaited<ReturnType<typeof ask>> | undefined;
  for (let tries = 0; tries < 50 && degraded === undefined; tries++) {
    const answer = await ask('checkout');
    const actions = (answer.data as unknown as { gateway: GatewayBlock }).gateway.route.budgets?.map((budget) => budget.action);
    if (answer.data.model === 'model-a') pricedAfter += 1;
    if (actions?.includes('cheaper_first')) degraded = answer;
    else await new Promise((wake) => setTimeout(wake, 200));
  }
  assert.ok(degraded, 'the budget was seen low');
  assert.ok(priced.length + pricedAfter <= covered, `still at most ${covered} priced answers`);
  assert.equal(degraded.data.model, 'model-c');
  const route = (degraded.data as unknown as { gateway: GatewayBlock }).gateway.route;
  assert.deepEqual(route.candidates.map((candidate) => candidate.model)[0], 'model-c');
  assert.match(degraded.response.headers.get('x-gateway-route') ?? '', /budget checkout-daily low: cheaper first/);
}

test('a low budget that refuses answers 429 budget_exceeded and calls no model', async () => {
  await harness.resetCalls();
  const error = await ask('reports').then(
    () => assert.fail('expected a 429'),
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof OpenAI.APIError);
  assert.equal(error.status, 429);
  assert.equal(error.type, 'budget_exceeded');
  assert.equal(error.code, 'budget_exceeded');
  assert.match(error.message, /budget "reports-monthly" is low/);
  assert.deepEqual(await harness.calls(), {});
});

test('a budget too small for any priced model leaves a priced-only route with a 429', async () => {
  await harness.resetCalls();
  const error = await ask('tiny', 'priced-only').then(
    () => assert.fail('expected a 429'),
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof OpenAI.APIError);
  assert.equal(error.status, 429);
  assert.equal(error.type, 'budget_exceeded');
  assert.match(error.message, /budget "tiny-daily" has 0\.000001 of 0\.000001 USD left/);
  assert.deepEqual(await harness.calls(), {});
  // With a free model in the route, the same budget still gets an answer.
  const { data } = await ask('tiny');
  assert.equal(data.model, 'model-c');
});

test('the budget report needs the admin key', async () => {
  const response = await fetch(`${gateway.apiUrl}/v1/budgets`, { headers: { authorization: `Bearer ${TENANT_KEY}` } });
  assert.equal(response.status, 403);
  const list = await budgets();
  assert.deepEqual(list.map((budget) => budget.name), ['checkout-daily', 'reports-monthly', 'tiny-daily']);
});
