// Determinism: recorded histories (scripts/record-replay-histories.ts) must
// replay on the current workflow code without a non-determinism error.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { Worker } from '@temporalio/worker';
import { getWorkflowBundle } from '../../worker/create-worker';

const DIRECTORY = resolve(__dirname, '../fixtures/histories');

test('every recorded llmRequestWorkflow history replays on the current code', async () => {
  const files = readdirSync(DIRECTORY).filter((file) => file.endsWith('.json'));
  assert.ok(files.length >= 4, 'recorded histories are present');
  const workflowBundle = await getWorkflowBundle();
  for (const file of files) {
    const history = JSON.parse(readFileSync(resolve(DIRECTORY, file), 'utf8'));
    await Worker.runReplayHistory({ workflowBundle }, history, file.replace(/\.json$/, ''));
  }
});
