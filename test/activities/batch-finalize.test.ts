import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createBatchActivities } from '../../activities/batch/batch-activities';
import { fileStoreFor } from '../../services/file-store';
import { AtRestCipher } from '../../runtime/at-rest-cipher';
import { harnessConfig } from '../support/gateway-harness';
import { ConfigStore } from '../../services/config-store';
import { parseConfig } from '../../runtime/load-config';

const dataDir = mkdtempSync(join(tmpdir(), 'switchyard-finalize-'));
after(() => rmSync(dataDir, { recursive: true, force: true }));

test('finalizing a batch folds its pages into two files once: a retry returns the same files, and the pages are removed', async () => {
  const store = new ConfigStore(parseConfig(harnessConfig('http://127.0.0.1:1')), { SWITCHYARD_DATA_DIR: dataDir });
  const activities = createBatchActivities({ store });
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
