import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createBatchActivities, type BatchItem } from '../../activities/batch/batch-activities';
import { fileStoreFor } from '../../services/file-store';
import { AtRestCipher } from '../../runtime/at-rest-cipher';
import { harnessConfig } from '../support/gateway-harness';
import { ConfigStore } from '../../services/config-store';
import { parseConfig } from '../../runtime/load-config';

const dataDir = mkdtempSync(join(tmpdir(), 'switchyard-finalize-'));
after(() => rmSync(dataDir, { recursive: true, force: true }));

test('finalizing a batch folds its pages into two files once: a retry returns the same files, and the pages are removed', async () => {
  const store = new ConfigStore(parseConfig(harnessConfig('http://127.0.0.1:1')), { SWITCHYARD_DATA_DIR: dataDir });
  const activities = inActivity(createBatchActivities({ store }));
  const batchId = 'batch_00000000000000000000000000000001';
  const failed = { ok: false as const, status: 400, code: 'invalid_request', message: 'messages: required' };
  await activities.writeBatchPage('alpha', batchId, 0, [{ index: 0, customId: 'a', ...failed }]);
  await activities.writeBatchPage('alpha', batchId, 1, [{ index: 1, customId: 'b', ...failed }]);

  const first = await activities.finalizeBatch('alpha', batchId);
  assert.equal(first.outputFileId, null, 'no item answered: no output file');
  assert.match(first.errorFileId ?? '', /^file-[a-f0-9]{32}$/);
  const files = fileStoreFor(dataDir, { filesDir: 'files', fileRetentionSeconds: 86_400 }, new AtRestCipher([]));
  const content = files.readContent('alpha', first.errorFileId!);
  assert.ok(content);
  assert.deepEqual(content.toString('utf8').trim().split('\n').map((line) => (JSON.parse(line) as { custom_id: string }).custom_id), ['a', 'b']);
  assert.equal(existsSync(join(files.root, '.batches', 'alpha', batchId)), false, 'the pages are gone');

  // The activity retried (its completion was lost): the same files, nothing new.
  assert.deepEqual(await activities.finalizeBatch('alpha', batchId), first);
  assert.equal(files.list('alpha').length, 1);
});

test('reading a large input heartbeats its progress, so a worker lost mid-read is noticed by its heartbeat timeout', async () => {
  const store = new ConfigStore(parseConfig(harnessConfig('http://127.0.0.1:1')), { SWITCHYARD_DATA_DIR: dataDir });
  const environment = new MockActivityEnvironment();
  const beats: unknown[] = [];
  environment.on('heartbeat', (details: unknown) => beats.push(details));
  const activities = createBatchActivities({ store });
  const files = fileStoreFor(dataDir, { filesDir: 'files', fileRetentionSeconds: 86_400 }, new AtRestCipher([]));
  const lines = Array.from({ length: 1_200 }, (_, index) => JSON.stringify({ custom_id: `c-${index}`, body: { model: 'model-a', messages: [{ role: 'user', content: 'hi' }] } }));
  const input = files.create('alpha', `${lines.join('\n')}\n`, { filename: 'big.jsonl', purpose: 'batch' });

  assert.deepEqual(await environment.run(activities.openBatch, 'alpha', input.id), { total: 1_200 });
  assert.deepEqual(beats, [
    { doing: 'counting lines', done: 500 },
    { doing: 'counting lines', done: 1_000 },
  ]);
  beats.length = 0;
  const page = (await environment.run(activities.readBatchPage, 'alpha', 'batch_00000000000000000000000000000002', input.id, 0, 1_000)) as BatchItem[];
  assert.equal(page.length, 1_000);
  assert.deepEqual(beats, [
    { doing: 'reading lines', done: 500 },
    { doing: 'reading lines', done: 1_000 },
  ]);
});

/** The activities, each run inside a mock activity context (they heartbeat). */
function inActivity<T extends Record<string, (...args: never[]) => Promise<unknown>>>(activities: T): T {
  const environment = new MockActivityEnvironment();
  return Object.fromEntries(
    Object.entries(activities).map(([name, run]) => [name, (...args: Parameters<typeof run>) => environment.run(run, ...args)]),
  ) as T;
}
