// Batch files expire through the real API: with a one-second
// `batch.fileRetentionSeconds`, an upload carries `expires_at` one second
// after `created_at`, and once that has passed it reads as 404 (retrieve and
// content), is gone from the list, and its bytes are deleted from disk.
// The test waits for the expiry by polling, and asserts no durations.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import OpenAI, { toFile } from 'openai';
import { harnessPerFile } from '../support/harness-per-file';
import type { Harness } from '../support/gateway-harness';

let started: { harness: Harness; openai: OpenAI } | undefined;
let filesDir = '';
const openai = (): OpenAI => started?.openai ?? assert.fail('the harness is not started');
harnessPerFile((value) => (started = value), {
  configure: (config) => {
    filesDir = String(config.batch?.filesDir);
    return { ...config, batch: { ...config.batch, fileRetentionSeconds: 1 } };
  },
});

test('a file past its expires_at reads as 404, leaves the list and is deleted from disk', async () => {
  const text = `${JSON.stringify({ custom_id: 'one', method: 'POST', url: '/v1/chat/completions', body: { model: 'model-a', messages: [{ role: 'user', content: 'hi' }] } })}\n`;
  const file = await openai().files.create({ file: await toFile(Buffer.from(text), 'batch.jsonl'), purpose: 'batch' });
  assert.equal(file.expires_at, file.created_at + 1);
  const content = join(filesDir, 'alpha', `${file.id}.jsonl`);
  assert.ok(existsSync(content));

  let status = 200;
  for (let tries = 0; tries < 100 && status === 200; tries++) {
    await sleep(100);
    status = (await openai().files.retrieve(file.id).then(() => 200, (error: unknown) => (error instanceof OpenAI.APIError ? (error.status ?? 0) : 0)));
  }
  assert.equal(status, 404);
  await assert.rejects(openai().files.content(file.id), (error: unknown) => error instanceof OpenAI.APIError && error.status === 404);
  assert.equal((await openai().files.list()).data.some((listed) => listed.id === file.id), false);
  assert.equal(existsSync(content), false, 'the content is deleted');
});
