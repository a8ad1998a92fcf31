// OpenAI's Batch API through the official client: upload a JSONL file, create
// a batch, watch it drain (each line a request workflow of its own, a page at
// a time), read the output and error files; cancel a running batch.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import OpenAI, { toFile } from 'openai';
import { OTHER_TENANT_KEY, TENANT_KEY, startHarness, type Harness } from '../support/gateway-harness';

let harness: Harness;
let openai: OpenAI;

before(async () => {
  // Small pages, so a test batch spans several of them (and continues as new between them).
  // model-b's provider takes at most 5 batch items a second.
  harness = await startHarness({
    configure: (config) => ({ ...config, batch: { ...config.batch, pageSize: 10, concurrency: 4, ratePerProvider: { 'mock-anthropic': 5 } } }),
  });
  openai = new OpenAI({ baseURL: `${harness.apiUrl}/v1`, apiKey: TENANT_KEY, maxRetries: 0 });
});
after(() => harness?.stop());

const request = (id: string, content: string) =>
  JSON.stringify({ custom_id: id, method: 'POST', url: '/v1/chat/completions', body: { model: 'model-a', messages: [{ role: 'user', content }] } });

async function upload(lines: string[]) {
  return openai.files.create({ file: await toFile(Buffer.from(`${lines.join('\n')}\n`), 'batch.jsonl'), purpose: 'batch' });
}

async function settled(batchId: string) {
  for (let tries = 0; tries < 1_200; tries++) {
    const batch = await openai.batches.retrieve(batchId);
    if (['completed', 'failed', 'cancelled', 'expired'].includes(batch.status)) return batch;
    await sleep(100);
  }
  assert.fail(`batch ${batchId} did not finish`);
}

test('a batch drains every line once, into the output and error files', async () => {
  const lines = Array.from({ length: 24 }, (_, index) => request(`item-${index}`, `question ${index}`));
  // One line the chat-completions schema refuses: it goes to the error file.
  lines.splice(7, 0, JSON.stringify({ custom_id: 'bad-one', method: 'POST', url: '/v1/chat/completions', body: { model: 'model-a', messages: 'not a list' } }));
  const file = await upload(lines);
  const created = await openai.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h', metadata: { job: 'nightly' } });
  assert.match(created.id, /^batch_[a-f0-9]{32}$/);
  assert.deepEqual(created.metadata, { job: 'nightly' });

  const batch = await settled(created.id);
  assert.equal(batch.status, 'completed');
  assert.deepEqual(batch.request_counts, { total: 25, completed: 24, failed: 1 });
  assert.ok(batch.output_file_id && batch.error_file_id);

  const output = (await (await openai.files.content(batch.output_file_id)).text()).trim().split('\n').map((line) => JSON.parse(line) as {
    custom_id: string;
    response: { status_code: number; body: { choices: { message: { content: string } }[]; model: string } };
    error: null;
  });
  assert.equal(output.length, 24);
  assert.deepEqual(output.map((line) => line.custom_id).sort(), Array.from({ length: 24 }, (_, index) => `item-${index}`).sort());
  for (const line of output) {
    assert.equal(line.response.status_code, 200);
    assert.equal(line.response.body.model, 'model-a');
    assert.match(line.response.body.choices[0]?.message.content ?? '', new RegExp(`question ${line.custom_id.slice(5)}\\b`));
  }
  const errors = (await (await openai.files.content(batch.error_file_id)).text()).trim().split('\n').map((line) => JSON.parse(line) as { custom_id: string; error: { code: string; message: string } });
  assert.deepEqual(errors.map((line) => [line.custom_id, line.error.code]), [['bad-one', 'invalid_request']]);
  assert.match(errors[0]?.error.message ?? '', /messages/);
  // One provider call per line, none twice.
  assert.equal((await harness.calls())['model-a'], 24);
  // The page files were folded into the output and error files, then removed.
  assert.equal(existsSync(join(dirname(harness.configFile), 'files', '.batches', 'alpha', batch.id)), false);

  // Pages of 10: the batch ran as three workflow runs (continue-as-new between pages).
  const runs: string[] = [];
  for await (const execution of harness.client.workflow.list({ query: `WorkflowId = '${batch.id}'` })) runs.push(execution.runId);
  assert.equal(runs.length, 3);

  // Listed once, although it ran as three workflow runs.
  assert.equal((await openai.batches.list()).data.filter((listed) => listed.id === batch.id).length, 1);
  const other = new OpenAI({ baseURL: `${harness.apiUrl}/v1`, apiKey: OTHER_TENANT_KEY, maxRetries: 0 });
  const hidden = await other.batches.retrieve(batch.id).then(() => undefined, (error: unknown) => error);
  assert.ok(hidden instanceof OpenAI.APIError && hidden.status === 404);
  const late = await openai.batches.cancel(batch.id).then(() => undefined, (error: unknown) => error);
  assert.ok(late instanceof OpenAI.APIError && late.status === 409);
});

test('progress counts each item as it ends, not only when its page is written', async () => {
  // One page of 10: three quick items (model-c), then seven that take a second each (model-a).
  await harness.setFault('model-a', { latencyMs: 1_000 });
  const lines = Array.from({ length: 10 }, (_, index) =>
    JSON.stringify({ custom_id: `p-${index}`, method: 'POST', url: '/v1/chat/completions', body: { model: index < 3 ? 'model-c' : 'model-a', messages: [{ role: 'user', content: `p ${index}` }] } }),
  );
  const created = await openai.batches.create({ input_file_id: (await upload(lines)).id, endpoint: '/v1/chat/completions', completion_window: '24h' });
  let midPage: OpenAI.Batches.Batch | undefined;
  for (let tries = 0; tries < 600 && midPage === undefined; tries++) {
    const batch = await openai.batches.retrieve(created.id);
    if (batch.status !== 'in_progress') break;
    if ((batch.request_counts?.completed ?? 0) >= 3) midPage = batch;
    else await sleep(50);
  }
  await harness.clearFaults();
  assert.ok(midPage, 'the counts moved while the page was still running');
  assert.ok((midPage.request_counts?.completed ?? 0) < 10, `mid-page: ${midPage.request_counts?.completed} of 10`);
  assert.deepEqual((await settled(created.id)).request_counts, { total: 10, completed: 10, failed: 0 });
});

test('cancelling a running batch stops new items and lets running ones finish', async () => {
  await harness.resetCalls();
  await harness.setFault('model-a', { latencyMs: 300 });
  const file = await upload(Array.from({ length: 40 }, (_, index) => request(`slow-${index}`, `slow ${index}`)));
  const created = await openai.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
  for (let tries = 0; tries < 600 && ((await harness.calls())['model-a'] ?? 0) < 1; tries++) await sleep(50);
  const cancelling = await openai.batches.cancel(created.id);
  assert.equal(cancelling.status, 'cancelling');
  const batch = await settled(created.id);
  await harness.clearFaults();
  assert.equal(batch.status, 'cancelled');
  assert.ok(batch.request_counts && batch.request_counts.completed < 40, `stopped early: ${batch.request_counts?.completed} of 40`);
  const output = batch.output_file_id ? (await (await openai.files.content(batch.output_file_id)).text()).trim().split('\n') : [];
  assert.equal(output.length, batch.request_counts?.completed);
  assert.equal((await harness.calls())['model-a'], batch.request_counts?.completed, 'no item started after the cancel went unrecorded');
});

test('a batch needs a batch file of the tenant', async () => {
  const missing = await openai.batches
    .create({ input_file_id: 'file-00000000000000000000000000000000', endpoint: '/v1/chat/completions', completion_window: '24h' })
    .then(() => undefined, (error: unknown) => error);
  assert.ok(missing instanceof OpenAI.APIError && missing.status === 404);
  const badWindow = await openai.batches
    .create({ input_file_id: 'file-00000000000000000000000000000000', endpoint: '/v1/chat/completions', completion_window: '1h' as '24h' })
    .then(() => undefined, (error: unknown) => error);
  assert.ok(badWindow instanceof OpenAI.APIError && badWindow.status === 400);
});

test('items towards a rate-limited provider start no faster than its rate', async () => {
  const lines = Array.from({ length: 6 }, (_, index) =>
    JSON.stringify({ custom_id: `b-${index}`, method: 'POST', url: '/v1/chat/completions', body: { model: 'model-b', messages: [{ role: 'user', content: `b ${index}` }] } }),
  );
  const created = await openai.batches.create({ input_file_id: (await upload(lines)).id, endpoint: '/v1/chat/completions', completion_window: '24h' });
  const batch = await settled(created.id);
  assert.deepEqual(batch.request_counts, { total: 6, completed: 6, failed: 0 });
  // When the batch took each item's slot, in workflow time: the start of the workflow task that
  // started the child (the time the rate limit reads). Server-side start times add each task's
  // scheduling delay, which a busy machine makes uneven.
  const slots: number[] = [];
  const runs = new Set<string>();
  for await (const execution of harness.client.workflow.list({ query: `WorkflowType = 'batchWorkflow' AND WorkflowId = '${batch.id}'` })) runs.add(execution.runId);
  assert.ok(runs.size > 0, 'the batch workflow is listed');
  for (const runId of runs) {
    const history = await harness.client.workflow.getHandle(batch.id, runId).fetchHistory();
    let taskStartedAt: number | undefined;
    for (const event of history.events ?? []) {
      if (event.workflowTaskStartedEventAttributes) taskStartedAt = Number(event.eventTime?.seconds ?? 0) * 1_000 + Math.floor((event.eventTime?.nanos ?? 0) / 1e6);
      if (event.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId?.startsWith(`${batch.id}-`)) {
        assert.ok(taskStartedAt !== undefined);
        slots.push(taskStartedAt);
      }
    }
  }
  slots.sort((left, right) => left - right);
  assert.equal(slots.length, 6);
  for (let index = 1; index < slots.length; index++) {
    assert.ok((slots[index] ?? 0) - (slots[index - 1] ?? 0) >= 200, `slots at ${slots.map((at) => at - (slots[0] ?? 0)).join(', ')} ms are 200 ms apart`);
  }
});

test('switchyard batch submit --wait shows progress, then results writes the output file', async () => {
  const directory = mkdtempSync(join(tmpdir(), 'switchyard-batch-cli-'));
  try {
    const input = join(directory, 'input.jsonl');
    writeFileSync(input, `${Array.from({ length: 12 }, (_, index) => request(`cli-${index}`, `cli ${index}`)).join('\n')}\n`);
    const env = { ...process.env, SWITCHYARD_URL: harness.apiUrl, SWITCHYARD_API_KEY: TENANT_KEY };
    const cli = (...args: string[]) => promisify(execFile)(process.execPath, ['--import', 'tsx', 'cli/switchyard.ts', 'batch', ...args], { env, timeout: 120_000 });
    const submitted = await cli('submit', input, '--wait');
    const summary = JSON.parse(submitted.stdout) as { id: string; status: string; request_counts: { total: number; completed: number } };
    assert.equal(summary.status, 'completed');
    assert.deepEqual(summary.request_counts, { total: 12, completed: 12, failed: 0 });
    assert.match(submitted.stderr, /completed: 12\/12 \(0 failed\)/, 'the progress ends at 12/12');
    const out = join(directory, 'output.jsonl');
    await cli('results', summary.id, '--out', out);
    const ids = readFileSync(out, 'utf8').trim().split('\n').map((line) => (JSON.parse(line) as { custom_id: string }).custom_id);
    assert.deepEqual(ids.sort(), Array.from({ length: 12 }, (_, index) => `cli-${index}`).sort());
    const status = JSON.parse((await cli('status', summary.id)).stdout) as { status: string };
    assert.equal(status.status, 'completed');
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
});
