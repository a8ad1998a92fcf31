// The dashboard in a real browser (Chromium from scripts/chromium.ts through playwright-core):
// after some traffic and a failover, the charts and the failover list show it.
// The screenshot is kept as a test artifact (test/artifacts/dashboard.png).
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { after, before, test } from 'node:test';
import OpenAI, { toFile } from 'openai';
import { evalRunWorkflow } from '../../workflows/evals/eval-run-workflow';
import { chromium, type Browser } from 'playwright-core';
import { CHROMIUM_FLAGS, resolveChromium } from '../../scripts/chromium';
import { GatewayClient } from '../../client/gateway-client';
import { ADMIN_KEY, TENANT_KEY, startHarness, type Harness } from '../support/gateway-harness';

const ARTIFACTS = resolve(__dirname, '../artifacts');

let harness: Harness;
let browser: Browser;

before(async () => {
  // First: a missing browser fails the test with its one-line reason before anything starts.
  const { command, env } = await resolveChromium();
  harness = await startHarness({ breakers: true });
  browser = await chromium.launch({ executablePath: command, env: { ...process.env, ...env }, args: [...CHROMIUM_FLAGS] });
});

after(async () => {
  await browser?.close();
  await harness?.stop();
});

test('after traffic and a failover, the dashboard charts them and links the failover to the Temporal UI', async () => {
  const openai = new OpenAI({ baseURL: `${harness.apiUrl}/v1`, apiKey: TENANT_KEY, maxRetries: 0, timeout: 60_000 });
  for (let index = 0; index < 5; index += 1) await openai.chat.completions.create({ model: 'model-a', messages: [{ role: 'user', content: `hello ${index}` }] });
  await harness.setFault('model-a', { status: 503, times: 3 });
  const { response } = await openai.chat.completions.create({ model: 'model-a', messages: [{ role: 'user', content: 'fall over' }] }).withResponse();
  const failoverId = response.headers.get('x-gateway-workflow-id') ?? '';
  assert.match(failoverId, /^llm-alpha-/);

  // Traffic on the other paths: an async request, the typed client, a JSON answer for a feature.
  const accepted = await fetch(`${harness.apiUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TENANT_KEY}`, 'content-type': 'application/json', prefer: 'respond-async' },
    body: JSON.stringify({ model: 'model-a', messages: [{ role: 'user', content: 'later' }] }),
  });
  assert.equal(accepted.status, 202);
  await harness.client.workflow.getHandle(((await accepted.json()) as { id: string }).id).result();
  await new GatewayClient({ client: harness.client, tenantId: 'alpha', taskQueue: harness.env.SWITCHYARD_TASK_QUEUE }).complete({ model: 'model-a', messages: [{ role: 'user', content: 'typed' }] });
  await openai.chat.completions.create(
    { model: 'model-a', response_format: { type: 'json_object' }, messages: [{ role: 'user', content: 'JSON, please' }] },
    { headers: { 'x-gateway-feature': 'search' } },
  );

  // An eval run of the shipped chat set: its scores show in the eval table.
  await harness.client.workflow.execute(evalRunWorkflow, {
    taskQueue: harness.env.SWITCHYARD_TASK_QUEUE ?? '',
    workflowId: 'dashboard-eval-run',
    args: [{ taskClass: 'chat' }],
  });

  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  await page.goto(`${harness.apiUrl}/dashboard`);
  // A tenant key is refused.
  await page.fill('#key', TENANT_KEY);
  await page.click('#enter');
  await page.locator('#login-error', { hasText: 'tenant key' }).waitFor();
  await page.fill('#key', ADMIN_KEY);
  await page.click('#enter');
  await page.waitForSelector('#dashboard:not([hidden])');

  // The failover appears once visibility has it (the page refreshes every 5 s).
  const link = page.locator(`#failovers a`, { hasText: failoverId });
  await link.waitFor({ timeout: 60_000 });
  assert.equal(await link.getAttribute('href'), `http://127.0.0.1:8233/namespaces/default/workflows/${failoverId}`);
  assert.equal(Number(await page.textContent('#requests')), 9, 'every request counts: sync, async, typed client');
  assert.match((await page.textContent('#reasons')) ?? '', /ProviderUnavailable/);
  const polyline = page.locator('#traffic-chart polyline').first();
  assert.ok(((await polyline.getAttribute('points')) ?? '').split(' ').length >= 2, 'the traffic chart has a line');
  const openaiRow = (await page.locator('#providers tr.provider', { hasText: 'mock-openai' }).textContent()) ?? '';
  assert.match(openaiRow, /closed/);
  assert.match(openaiRow, /%/);

  const evalRow = (await page.locator('table.eval[data-task-class="chat"] tr.score', { hasText: 'model-a' }).textContent()) ?? '';
  assert.match(evalRow, /\d+ % \(\d+\/4\)/, 'model-a has a pass rate over the 4 chat cases');
  assert.match((await page.textContent('#budgets')) ?? '', /no budget configured/);

  // A batch and an agent run: each shows as a row, the batch with its progress bar.
  const lines = Array.from({ length: 12 }, (_, index) =>
    JSON.stringify({ custom_id: `d-${index}`, method: 'POST', url: '/v1/chat/completions', body: { model: 'model-a', messages: [{ role: 'user', content: `d ${index}` }] } }),
  );
  const file = await openai.files.create({ file: await toFile(Buffer.from(`${lines.join('\n')}\n`), 'dashboard.jsonl'), purpose: 'batch' });
  const batch = await openai.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
  const run = (await (
    await fetch(`${harness.apiUrl}/v1/agent/runs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TENANT_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'model-a', messages: [{ role: 'user', content: 'What is 6 * 7?' }], tools: ['calculator'] }),
    })
  ).json()) as { id: string };
  const batchRow = page.locator('#batches tr.batch', { hasText: batch.id });
  await page.locator('#batches tr.batch', { hasText: '12/12' }).waitFor({ timeout: 60_000 });
  assert.match((await batchRow.textContent()) ?? '', /alpha.*completed.*12\/12/);
  assert.equal(await batchRow.locator('.progress .done').getAttribute('style'), 'width:100.0%');
  const runRow = page.locator('#agent-runs tr.agent-run', { hasText: run.id });
  await page.locator('#agent-runs tr.agent-run', { hasText: 'completed' }).waitFor({ timeout: 60_000 });
  assert.match((await runRow.textContent()) ?? '', /alpha.*completed.*2\/16.*The tool returned/);

  // Every path's requests, and what platform teams slice them by.
  for (const entry of ['chat', 'async', 'client', 'batch', 'agent']) await page.locator(`#entries tr.entry[data-entry="${entry}"]`).waitFor({ timeout: 60_000 });
  assert.match((await page.textContent('#entries tr.entry[data-entry="batch"]')) ?? '', /^batch12/);
  assert.match((await page.textContent('#entries tr.entry[data-entry="chat"]')) ?? '', /^chat77/, 'chat: 7 requests, 7 answered');
  assert.match((await page.locator('#cost-per-success tr.cost', { hasText: 'model-a' }).textContent()) ?? '', /\$0\.\d+$/, 'a cost per answer for model-a');
  assert.match((await page.locator('#validations tr.validation', { hasText: 'json_object' }).textContent()) ?? '', /model-ajson_object10100\.0 %/);
  assert.match((await page.textContent('#tokens-by-feature')) ?? '', /search\d+/);
  assert.match((await page.textContent('#errors-by-reason')) ?? '', /ProviderUnavailable\d+/);

  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: resolve(ARTIFACTS, 'dashboard.png'), fullPage: true });
  await page.close();
});
