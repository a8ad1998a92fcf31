// Batches under chaos, on the real dev server with worker processes: a worker
// SIGKILLed in the middle of a 500-item batch, then the Temporal dev server
// itself stopped and started again (same SQLite file) mid-batch. Every item
// ends exactly once in the output file, and the provider is not billed for
// an item twice beyond what the crash left in flight.
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import OpenAI, { toFile } from 'openai';
import { startDevServer, type DevServer } from '../../scripts/temporal-dev-server';
import { TENANT_KEY, startHarness, type Harness } from '../support/gateway-harness';
import { waitFor } from '../support/processes';
import { startSplitGateway, type SplitGateway } from '../support/split-gateway';

const CONCURRENCY = 16;
let harness: Harness;
let gateway: SplitGateway;
let revived: DevServer | undefined;

before(async () => {
  harness = await startHarness({
    embeddedGateway: false,
    timeouts: { requestMs: 30_000, totalMs: 120_000, heartbeatMs: 1_000 },
    configure: (config) => ({ ...config, batch: { ...config.batch, pageSize: 100, concurrency: CONCURRENCY } }),
  });
  gateway = await startSplitGateway(harness);
});

after(async () => {
  await gateway?.stop();
  await revived?.stop();
  await harness?.stop();
});

const openai = () => new OpenAI({ baseURL: `${gateway.apiUrl}/v1`, apiKey: TENANT_KEY, maxRetries: 5, timeout: 60_000 });

async function submit(prefix: string, count: number): Promise<string> {
  const lines = Array.from({ length: count }, (_, index) =>
    JSON.stringify({ custom_id: `${prefix}-${index}`, method: 'POST', url: '/v1/chat/completions', body: { model: 'model-a', messages: [{ role: 'user', content: `${prefix} ${index}` }] } }),
  );
  const file = await openai().files.create({ file: await toFile(Buffer.from(`${lines.join('\n')}\n`), `${prefix}.jsonl`), purpose: 'batch' });
  return (await openai().batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' })).id;
}

async function finished(batchId: string) {
  for (let tries = 0; tries < 1_800; tries++) {
    const batch = await openai().batches.retrieve(batchId).catch(() => undefined);
    if (batch && ['completed', 'failed', 'cancelled'].includes(batch.status)) return batch;
    await sleep(100);
  }
  assert.fail(`batch ${batchId} did not finish`);
}

async function outputIds(fileId: string | null | undefined): Promise<string[]> {
  assert.ok(fileId);
  return (await (await openai().files.content(fileId)).text())
    .trim()
    .split('\n')
    .map((line) => (JSON.parse(line) as { custom_id: string; response: { status_code: number } }).custom_id);
}

test('a worker SIGKILLed mid-batch: every item ends exactly once, none billed twice beyond the crash', async () => {
  await harness.resetCalls();
  await harness.setFault('model-a', { latencyMs: 50 });
  const batchId = await submit('kill', 500);
  await waitFor(async () => ((await harness.calls())['model-a'] ?? 0) >= 150, '150 items under way');
  await gateway.replaceWorker();

  const batch = await finished(batchId);
  await harness.clearFaults();
  assert.equal(batch.status, 'completed');
  assert.deepEqual(batch.request_counts, { total: 500, completed: 500, failed: 0 });
  const ids = await outputIds(batch.output_file_id);
  assert.equal(ids.length, 500);
  assert.equal(new Set(ids).size, 500, 'no item twice in the output');
  // Items in flight when the worker died are called again; nothing else is.
  const { totals } = await harness.control.billing();
  const billed = totals['model-a']?.answers ?? 0;
  assert.ok(billed >= 500 && billed <= 500 + CONCURRENCY, `billed answers ${billed}: 500 plus at most the ${CONCURRENCY} in flight`);
});

test('the Temporal dev server stopped and started again mid-batch: the batch completes', async () => {
  await harness.resetCalls();
  await harness.setFault('model-a', { latencyMs: 50 });
  const batchId = await submit('restart', 300);
  await waitFor(async () => ((await harness.calls())['model-a'] ?? 0) >= 100, '100 items under way');
  const port = Number(harness.devServer.address.split(':').at(-1));
  await harness.devServer.stop();
  revived = await startDevServer({ dbFile: join(dirname(harness.configFile), 'temporal.db'), port });

  const batch = await finished(batchId);
  await harness.clearFaults();
  assert.equal(batch.status, 'completed');
  assert.deepEqual(batch.request_counts, { total: 300, completed: 300, failed: 0 });
  const ids = await outputIds(batch.output_file_id);
  assert.equal(new Set(ids).size, 300);
  assert.equal(ids.length, 300);
});
