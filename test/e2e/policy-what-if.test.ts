// `switchyard policy what-if` over recorded requests: the draft's routing
// re-run on each request's own routing snapshot from history, reporting the
// requests that would move, what they would cost, and the sensitivity
// violations a stricter draft prevents.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import OpenAI from 'openai';
import { roundUsd } from '../../common/pricing';
import type { GatewayConfigInput } from '../../common/config-schema';
import type { WhatIfReport } from '../../cli/policy-what-if';
import { TENANT_KEY, harnessConfig, startHarness, type Harness } from '../support/gateway-harness';

const run = promisify(execFile);
let harness: Harness;
/** What each request that model-a answered used, by workflow id. */
const answeredByA = new Map<string, { inputTokens: number; outputTokens: number; costUsd: number }>();

before(async () => {
  harness = await startHarness();
  const openai = new OpenAI({ baseURL: `${harness.apiUrl}/v1`, apiKey: TENANT_KEY, maxRetries: 0 });
  const ask = async (model: string, content: string, headers: Record<string, string> = {}) => {
    const { data } = await openai.chat.completions.create({ model, messages: [{ role: 'user', content }] }, { headers }).withResponse();
    return data as unknown as { model: string; usage: { prompt_tokens: number; completion_tokens: number }; gateway: { workflow_id: string; cost_usd: number } };
  };
  for (const content of ['first question', 'second question', 'third question']) {
    const answer = await ask('default', content);
    assert.equal(answer.model, 'model-a');
    answeredByA.set(answer.gateway.workflow_id, { inputTokens: answer.usage.prompt_tokens, outputTokens: answer.usage.completion_tokens, costUsd: answer.gateway.cost_usd });
  }
  assert.equal((await ask('default', 'a confidential question', { 'x-gateway-sensitivity': 'confidential' })).model, 'model-c');
  assert.equal((await ask('model-b', 'straight to model-b')).model, 'model-b');
});
after(() => harness?.stop());

async function whatIf(draft: GatewayConfigInput, name: string): Promise<WhatIfReport> {
  const file = join(harness.configFile, '..', `${name}.json`);
  writeFileSync(file, JSON.stringify(draft));
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'cli/switchyard.ts', 'policy', 'what-if', '--draft', file, '--since', '1h', '--json'], {
    env: { ...process.env, ...harness.env },
    timeout: 120_000,
  });
  return JSON.parse(stdout) as WhatIfReport;
}

test('a draft that removes a provider reports the requests that would move, and their cost', async () => {
  const current = harnessConfig(harness.mockUrl);
  const { 'mock-openai': _removed, ...providers } = current.providers;
  const { 'model-a': _a, 'model-small': _small, ...models } = current.models;
  const draft: GatewayConfigInput = {
    ...current,
    providers,
    models: { ...models, 'model-b': { ...models['model-b'], provider: 'mock-anthropic' } },
    routes: { default: ['model-b', 'model-c'] },
    taskClasses: { summarize: { models: ['model-b', 'model-c'] }, chat: { models: ['model-b', 'model-c'] } },
  };
  const report = await whatIf(draft, 'no-openai');
  assert.equal(report.requests, 5);
  assert.equal(report.changed, 3);
  assert.equal(report.moved, 3);
  assert.deepEqual(new Set(report.changes.map((change) => change.workflowId)), new Set(answeredByA.keys()));
  for (const change of report.changes) {
    const usage = answeredByA.get(change.workflowId);
    assert.ok(usage);
    assert.equal(change.before, 'model-a');
    assert.equal(change.after, 'model-b');
    assert.equal(change.reason, 'model-a is not in the draft');
    assert.equal(change.costBeforeUsd, usage.costUsd);
    // The same answer at model-b's prices ($3 / $15 per million tokens).
    assert.equal(change.costAfterUsd, roundUsd((usage.inputTokens * 3 + usage.outputTokens * 15) / 1e6));
  }
  assert.deepEqual(report.shifts.map((shift) => [shift.from, shift.to, shift.requests]), [['model-a', 'model-b', 3]]);
  assert.equal(report.sensitivityViolationsPrevented, 0);
  assert.ok(report.costAfterUsd < report.costBeforeUsd, 'model-b is cheaper on input tokens');
});

test('a stricter sensitivity draft reports the violations it prevents', async () => {
  const current = harnessConfig(harness.mockUrl);
  const draft: GatewayConfigInput = { ...current, models: { ...current.models, 'model-a': { ...current.models['model-a'], provider: 'mock-openai', approvedFor: ['public'] } } };
  const report = await whatIf(draft, 'strict');
  assert.equal(report.sensitivityViolationsPrevented, 3);
  assert.ok(report.changes.every((change) => change.reason === 'model-a: not approved for internal data'));
  assert.ok(report.changes.every((change) => change.after === 'model-b'));
  assert.ok(report.changes.every((change) => change.rejected.some((model) => model.model === 'model-a' && model.reason === 'not approved for internal data')));
});

test('an invalid draft is refused with the reason', async () => {
  const current = harnessConfig(harness.mockUrl);
  const error = await whatIf({ ...current, routes: { default: ['ghost'] } }, 'broken').then(
    () => assert.fail('expected a refusal'),
    (caught: { code: number; stderr: string }) => caught,
  );
  assert.equal(error.code, 2);
  assert.match(error.stderr, /the draft is not a valid config: [^]*routes.default.0: unknown model "ghost"/);
});
