// A batch whose completion window runs out: items running then finish, the
// rest are never started and go to the error file as `batch_expired` (as
// OpenAI writes them), and the batch ends `expired`.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import OpenAI, { toFile } from 'openai';
import { TENANT_KEY, startHarness, type Harness } from '../support/gateway-harness';

/**
 * The completion window. Batch times are whole epoch seconds (as OpenAI's), so
 * the window really lasts between WINDOW_SECONDS - 1 and WINDOW_SECONDS: the
 * first item must start within the shorter, which leaves a slow machine 3 s.
 */
const WINDOW_SECONDS = 4;
/** Each item's latency at the provider: ten in a row take 6 s, more than the whole window. */
const ITEM_LATENCY_MS = 600;

let harness: Harness;
let openai: OpenAI;

before(async () => {
  // A short window, items one at a time in pages of 4.
  harness = await startHarness({
    configure: (config) => ({ ...config, batch: { ...config.batch, expireAfterSeconds: WINDOW_SECONDS, pageSize: 4, concurrency: 1 } }),
  });
  openai = new OpenAI({ baseURL: `${harness.apiUrl}/v1`, apiKey: TENANT_KEY, maxRetries: 0 });
});
after(() => harness?.stop());

test('items not started within the completion window are expired, each written once', async () => {
  // Each item takes at least ITEM_LATENCY_MS (timers never fire early), so ten in a row cannot fit in the window.
  await harness.setFault('model-a', { latencyMs: ITEM_LATENCY_MS });
  const lines = Array.from({ length: 10 }, (_, index) =>
    JSON.stringify({ custom_id: `e-${index}`, method: 'POST', url: '/v1/chat/completions', body: { model: 'model-a', messages: [{ role: 'user', content: `e ${index}` }] } }),
  );
  const file = await openai.files.create({ file: await toFile(Buffer.from(`${lines.join('\n')}\n`), 'expiry.jsonl'), purpose: 'batch' });
  const created = await openai.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
  assert.equal(created.expires_at, created.created_at + WINDOW_SECONDS);

  let batch = created;
  for (let tries = 0; tries < 600 && !['completed', 'expired', 'failed', 'cancelled'].includes(batch.status); tries++) {
    await sleep(100);
    batch = await openai.batches.retrieve(created.id);
  }
  await harness.clearFaults();
  assert.equal(batch.status, 'expired');
  assert.ok(batch.expired_at && batch.expired_at >= created.expires_at);
  const counts = batch.request_counts!;
  assert.equal(counts.total, 10);
  assert.ok(counts.completed >= 1, `no item started within the window (at least ${WINDOW_SECONDS - 1} s)`);
  assert.ok(counts.completed < 10, `all ${counts.completed} items completed: the window did not stop the batch`);
  assert.equal(counts.completed + counts.failed, 10);

  const output = batch.output_file_id ? (await (await openai.files.content(batch.output_file_id)).text()).trim().split('\n').map((line) => JSON.parse(line) as { custom_id: string }) : [];
  const errors = (await (await openai.files.content(batch.error_file_id!)).text())
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { custom_id: string; response: unknown; error: { code: string } });
  assert.equal(output.length, counts.completed);
  assert.equal(errors.length, counts.failed);
  for (const line of errors) {
    assert.equal(line.error.code, 'batch_expired');
    assert.equal(line.response, null);
  }
  const ids = [...output, ...errors].map((line) => line.custom_id).sort();
  assert.deepEqual(ids, Array.from({ length: 10 }, (_, index) => `e-${index}`).sort(), 'every line once, in the output or the error file');
  // Items never started were never sent to the provider.
  assert.equal((await harness.calls())['model-a'], counts.completed);
  const late = await openai.batches.cancel(batch.id).then(() => undefined, (error: unknown) => error);
  assert.ok(late instanceof OpenAI.APIError && late.status === 409);
});
