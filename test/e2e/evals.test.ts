// Evals through the real path: `switchyard eval run` (CLI → Temporal → the
// eval workflow → worker → mock provider through the same adapters as
// requests), scores recorded where routing reads them, and a model whose
// answers turn wrong losing its place in the route after the next run.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import OpenAI from 'openai';
import { readEvalScores } from '../../services/quality-board';
import { EVAL_SCHEDULE_ID, ensureEvalSchedule } from '../../worker/eval-schedule';
import { ADMIN_KEY, TENANT_KEY, startHarness, type Harness } from '../support/gateway-harness';
import { parseExposition, total, value } from '../support/metrics-exposition';

const run = promisify(execFile);
let harness: Harness;
let directory: string;

// A set the mock can pass honestly: it echoes the question back, and never refuses.
const CHAT_SET = [
  { id: 'echo-fox', messages: [{ role: 'user', content: 'Repeat after me: the quick brown fox' }], checks: [{ type: 'regex', pattern: 'quick brown fox' }] },
  { id: 'echo-whales', messages: [{ role: 'user', content: 'Repeat after me: seven blue whales' }], checks: [{ type: 'regex', pattern: 'seven blue whales' }] },
  { id: 'answers', messages: [{ role: 'user', content: 'Name a colour.' }], checks: [{ type: 'refusal', expected: false }] },
];

before(async () => {
  directory = mkdtempSync(join(tmpdir(), 'switchyard-evals-'));
  writeFileSync(join(directory, 'chat.jsonl'), `${CHAT_SET.map((line) => JSON.stringify(line)).join('\n')}\n`);
  writeFileSync(join(directory, 'summarize.jsonl'), '{"id":"broken", "messages": []}\n');
  harness = await startHarness({ configure: (config) => ({ ...config, evals: { dir: directory } }) });
});
after(async () => {
  await harness?.stop();
  rmSync(directory, { recursive: true, force: true });
});

async function cli(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run(process.execPath, ['--import', 'tsx', 'cli/switchyard.ts', ...args], { env: { ...process.env, ...harness.env }, timeout: 120_000 });
}

/** The order a `chat` request would try its models in (a high-criticality request: quality weighs most). */
async function chatRoute(): Promise<string[]> {
  const openai = new OpenAI({ baseURL: `${harness.apiUrl}/v1`, apiKey: TENANT_KEY, maxRetries: 0 });
  const { data } = await openai.chat.completions
    .create({ model: 'chat', messages: [{ role: 'user', content: 'hello' }] }, { headers: { 'x-gateway-criticality': 'high' } })
    .withResponse();
  return (data as unknown as { gateway: { route: { candidates: { model: string }[] } } }).gateway.route.candidates.map((candidate) => candidate.model);
}

/** `model  pass rate …` rows of the CLI's table for one task class. */
function passRates(table: string): Record<string, string> {
  return Object.fromEntries(
    table
      .split('\n')
      .map((line) => /^(model-[a-z]+)\s+(\d+%) \((\d+\/\d+)\)/.exec(line))
      .filter((match) => match !== null)
      .map((match) => [match[1] ?? '', `${match[2]} (${match[3]})`]),
  );
}

test('an eval run scores every candidate of a task class, and routing follows the scores', async () => {
  const first = await cli('eval', 'run', '--task', 'chat');
  assert.deepEqual(passRates(first.stdout), { 'model-a': '100% (3/3)', 'model-b': '100% (3/3)', 'model-c': '100% (3/3)' });
  assert.match(first.stderr, /3\/9 cases|9\/9 cases/, 'progress is shown while it runs');
  assert.deepEqual(await chatRoute(), ['model-a', 'model-b', 'model-c']);

  // model-a starts answering wrong: the next run measures it, and it loses its place without a config change.
  await harness.setFault('model-a', { reply: 'I do not know.' });
  const second = await cli('eval', 'run', '--task', 'chat');
  assert.deepEqual(passRates(second.stdout), { 'model-a': '33% (1/3)', 'model-b': '100% (3/3)', 'model-c': '100% (3/3)' });
  await harness.clearFaults();
  assert.deepEqual(await chatRoute(), ['model-b', 'model-a', 'model-c']);

  // The report, in the CLI and from the API.
  const report = await cli('eval', 'report');
  assert.deepEqual(passRates(report.stdout), passRates(second.stdout));
  const response = await fetch(`${harness.apiUrl}/v1/evals`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
  const body = (await response.json()) as { data: { task_class: string; model: string; pass_rate: number; failures: string[]; cost_per_pass_usd: number | null }[] };
  const modelA = body.data.find((score) => score.model === 'model-a');
  assert.equal(modelA?.task_class, 'chat');
  assert.ok(Math.abs((modelA?.pass_rate ?? 0) - 1 / 3) < 1e-9);
  assert.equal(modelA?.failures.length, 2);
  assert.match(modelA?.failures[0] ?? '', /does not match \/quick brown fox\/|does not match \/seven blue whales\//);
  assert.equal(body.data.find((score) => score.model === 'model-c')?.cost_per_pass_usd, 0, 'the free model costs nothing per passing answer');

  // Metrics: the latest pass rate and its change since the run before, which SwitchyardEvalPassRateDropped reads.
  const samples = parseExposition(await (await fetch(`${harness.apiUrl}/metrics`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })).text());
  const gauge = (name: string, model: string) => value(samples, name, { model, task_class: 'chat' }) ?? Number.NaN;
  assert.ok(Math.abs(gauge('switchyard_eval_pass_rate', 'model-a') - 1 / 3) < 1e-9);
  assert.ok(Math.abs(gauge('switchyard_eval_pass_rate_change', 'model-a') - (1 / 3 - 1)) < 1e-9, 'model-a dropped two thirds since the run before');
  assert.equal(gauge('switchyard_eval_pass_rate_change', 'model-b'), 0);
  // Each case's call counts once under the eval entry (two runs of 9), its tokens and spend under the evals tenant.
  assert.equal(total(samples, 'switchyard_requests_total', { entry: 'eval' }), 18, 'two runs of 9 cases, each counted once');
  assert.equal(total(samples, 'switchyard_requests_total', { entry: 'eval', tenant: 'evals', model: 'model-a', outcome: 'success' }), 6);
  assert.ok(total(samples, 'switchyard_tokens_total', { entry: 'eval', tenant: 'evals', feature: 'chat', model: 'model-b', direction: 'output' }) > 0, 'eval tokens');
  assert.ok(total(samples, 'switchyard_cost_usd_total', { entry: 'eval', tenant: 'evals', feature: 'chat', model: 'model-a' }) > 0, 'eval spend');
});

test('a broken eval set or an unknown task class is a clear error', async () => {
  const broken = await cli('eval', 'run', '--task', 'summarize').then(
    () => assert.fail('expected a failure'),
    (error: { code: number; stderr: string }) => error,
  );
  assert.equal(broken.code, 1);
  assert.match(broken.stderr, /summarize\.jsonl:1: .*messages/);
  const unknown = await cli('eval', 'run', '--task', 'poetry').then(
    () => assert.fail('expected a failure'),
    (error: { code: number; stderr: string }) => error,
  );
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown task class "poetry"/);
});

test('evals.every keeps a Temporal Schedule that runs every task class, and unsetting it removes the Schedule', async () => {
  const taskQueue = harness.env.SWITCHYARD_TASK_QUEUE ?? '';
  const before = (await readEvalScores(harness.client)).updatedAt ?? 0;
  assert.equal(await ensureEvalSchedule(harness.client, taskQueue, { dir: directory, every: '1d', concurrency: 2 }), 'created');
  assert.equal(await ensureEvalSchedule(harness.client, taskQueue, { dir: directory, every: '12h', concurrency: 2 }), 'updated');
  const schedule = harness.client.schedule.getHandle(EVAL_SCHEDULE_ID);
  const described = await schedule.describe();
  assert.equal(described.spec.intervals?.[0]?.every, 12 * 3_600_000);
  assert.equal(described.action.type, 'startWorkflow');
  assert.equal(described.action.type === 'startWorkflow' ? described.action.workflowType : '', 'evalRunWorkflow');

  // Run it now instead of waiting half a day: the scheduled run records fresh scores.
  await schedule.trigger();
  for (let tries = 0; tries < 600 && ((await readEvalScores(harness.client)).updatedAt ?? 0) <= before; tries++) await new Promise((wake) => setTimeout(wake, 100));
  const scores = await readEvalScores(harness.client);
  assert.ok((scores.updatedAt ?? 0) > before, 'the scheduled run recorded scores');
  // It ran every task class with a set: chat scored, the broken summarize set failed the run before any case.
  assert.ok(scores.byTaskClass.chat?.['model-b']);

  assert.equal(await ensureEvalSchedule(harness.client, taskQueue, { dir: directory, concurrency: 2 }), 'deleted');
  assert.equal(await ensureEvalSchedule(harness.client, taskQueue, { dir: directory, concurrency: 2 }), 'none');
});
