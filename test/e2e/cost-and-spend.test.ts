// Request cost through the real path: every attempt priced from the usage the
// provider reported (the mock's billing log) and the configured prices, failed
// attempts included; and the admin spend report read back from Temporal.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { roundUsd } from '../../common/pricing';
import { COST_ATTRIBUTE, FEATURE_ATTRIBUTE } from '../../common/search-attributes';
import { ADMIN_KEY, TENANT_KEY, startHarness, type Harness } from '../support/gateway-harness';

/** The harness config's prices, USD per million tokens. */
const PRICES: Record<string, { input: number; output: number }> = {
  'model-a': { input: 5, output: 15 },
  'model-b': { input: 3, output: 15 },
  'model-c': { input: 0, output: 0 },
};

let harness: Harness;
let openai: OpenAI;

before(async () => {
  harness = await startHarness();
  openai = new OpenAI({ baseURL: `${harness.apiUrl}/v1`, apiKey: TENANT_KEY, maxRetries: 0 });
});
after(() => harness?.stop());
afterEach(async () => {
  await harness.clearFaults();
  await harness.resetCalls();
});

/** What the mock billed, at the configured prices. */
async function billedCost(): Promise<Record<string, number>> {
  const { totals } = await harness.control.billing();
  return Object.fromEntries(
    Object.entries(totals).map(([model, total]) => {
      const price = PRICES[model];
      assert.ok(price, `a price for ${model}`);
      return [model, roundUsd((total.inputTokens * price.input + total.outputTokens * price.output) / 1e6)];
    }),
  );
}

interface GatewayBlock {
  workflow_id: string;
  cost_usd: number;
  attempts: { model: string; outcome: string; costUsd?: number; usage?: { inputTokens: number; outputTokens: number } }[];
}

describe('request cost', () => {
  test('an answered request carries its cost in the header, the gateway block and a search attribute', async () => {
    const { data, response } = await openai.chat.completions
      .create({ model: 'model-a', messages: [{ role: 'user', content: 'What does a gateway cost?' }] }, { headers: { 'x-gateway-feature': 'pricing-faq' } })
      .withResponse();
    const gateway = (data as unknown as { gateway: GatewayBlock }).gateway;
    const billed = await billedCost();
    assert.ok((billed['model-a'] ?? 0) > 0);
    assert.equal(gateway.cost_usd, billed['model-a']);
    assert.equal(Number(response.headers.get('x-gateway-cost-usd')), billed['model-a']);
    assert.equal(gateway.attempts[0]?.costUsd, billed['model-a']);
    assert.deepEqual(gateway.attempts[0]?.usage, { inputTokens: data.usage?.prompt_tokens, outputTokens: data.usage?.completion_tokens });

    const description = await harness.client.workflow.getHandle(gateway.workflow_id).describe();
    assert.equal(description.typedSearchAttributes.get(COST_ATTRIBUTE), billed['model-a']);
    assert.equal(description.typedSearchAttributes.get(FEATURE_ATTRIBUTE), 'pricing-faq');
  });

  test('a failed attempt the provider billed is part of the cost', async () => {
    // model-a answers, but not with the JSON asked for: billed, refused, and the chain goes on.
    await harness.setFault('model-a', { reply: 'Sorry, no JSON today.' });
    const { data, response } = await openai.chat.completions
      .create({ model: 'model-a', messages: [{ role: 'user', content: 'Give me a JSON object.' }], response_format: { type: 'json_object' } })
      .withResponse();
    const gateway = (data as unknown as { gateway: GatewayBlock }).gateway;
    assert.equal(gateway.attempts[0]?.model, 'model-a');
    assert.equal(gateway.attempts[0]?.outcome, 'failed');
    assert.equal(gateway.attempts.at(-1)?.outcome, 'success');
    const billed = await billedCost();
    assert.ok((billed['model-a'] ?? 0) > 0, 'the refused answer was billed');
    for (const attempt of gateway.attempts) assert.equal(attempt.costUsd, billed[attempt.model] ?? 0, `${attempt.model}'s attempt is priced from its billing`);
    const total = roundUsd(Object.values(billed).reduce((sum, usd) => sum + usd, 0));
    assert.equal(gateway.cost_usd, total);
    assert.equal(Number(response.headers.get('x-gateway-cost-usd')), total);
  });
});

describe('GET /v1/spend', () => {
  test('reports spend and cost per successful request by tenant, feature, model and day (admin only)', async () => {
    await harness.setFault('model-a', { reply: 'Sorry, no JSON today.', times: 1 });
    const asked = [
      openai.chat.completions.create({ model: 'model-a', messages: [{ role: 'user', content: 'JSON please' }], response_format: { type: 'json_object' } }, { headers: { 'x-gateway-feature': 'spend-report' } }),
      openai.chat.completions.create({ model: 'model-a', messages: [{ role: 'user', content: 'Hello' }] }, { headers: { 'x-gateway-feature': 'spend-report' } }),
      openai.chat.completions.create({ model: 'model-b', messages: [{ role: 'user', content: 'Hello again' }] }, { headers: { 'x-gateway-feature': 'spend-report' } }),
    ];
    const answers = await Promise.all(asked);
    const expected = roundUsd(answers.reduce((sum, answer) => sum + (answer as unknown as { gateway: GatewayBlock }).gateway.cost_usd, 0));
    const billed = await billedCost();
    assert.equal(expected, roundUsd(Object.values(billed).reduce((sum, usd) => sum + usd, 0)), 'the responses add up to the billing log');

    const tenantKey = await fetch(`${harness.apiUrl}/v1/spend`, { headers: { authorization: `Bearer ${TENANT_KEY}` } });
    assert.ok(tenantKey.status === 401 || tenantKey.status === 403, `a tenant key is refused (${tenantKey.status})`);

    // Visibility is eventually consistent: read until the three requests are listed.
    type Report = {
      totals: { requests: number };
      by_feature: { feature: string; requests: number; successful: number; cost_usd: number; cost_per_successful_request_usd: number | null }[];
      by_model: { model: string; cost_usd: number }[];
      rows: { day: string; tenant: string; feature: string; model: string; cost_usd: number }[];
    };
    let report: Report | undefined;
    for (let tries = 0; tries < 100; tries += 1) {
      const response = await fetch(`${harness.apiUrl}/v1/spend?since=1h&tenant=alpha`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
      assert.equal(response.status, 200);
      report = (await response.json()) as Report;
      if ((report.by_feature.find((row) => row.feature === 'spend-report')?.requests ?? 0) >= 3) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const feature = report?.by_feature.find((row) => row.feature === 'spend-report');
    assert.equal(feature?.requests, 3);
    assert.equal(feature?.successful, 3);
    assert.equal(feature?.cost_usd, expected);
    assert.ok((billed['model-a'] ?? 0) > 0);
    assert.equal(feature?.cost_per_successful_request_usd, roundUsd(expected / 3));
    const featureRows = report?.rows.filter((row) => row.feature === 'spend-report') ?? [];
    assert.ok(featureRows.every((row) => row.tenant === 'alpha' && /^\d{4}-\d{2}-\d{2}$/.test(row.day)));
    // The failed model-a attempt is spend on model-a, though model-b answered.
    const modelA = roundUsd(featureRows.filter((row) => row.model === 'model-a').reduce((sum, row) => sum + row.cost_usd, 0));
    assert.equal(modelA, billed['model-a']);

    const bad = await fetch(`${harness.apiUrl}/v1/spend?since=yesterday-ish`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    assert.equal(bad.status, 400);
  });
});
