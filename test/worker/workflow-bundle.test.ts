// The long-running processes bundle their workflow code in a process of
// their own, so the bundler (webpack, swc) never stays resident in them.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ENCODED_FAILURE_CONVERTER_PATH } from '../../runtime/data-converter';
import { bundleInOwnProcess } from '../../worker/workflow-bundle';

/** Modules only a bundling process loads (the `webpack` package's index is lazy and loads none of them). */
const BUNDLER_MODULES = /node_modules\/(webpack\/lib\/webpack\.js|@swc\/core\/|swc-loader\/)/;

test('the bundle comes from a process of its own, with the failure converter, and this process never loads the bundler', async () => {
  const bundle = await bundleInOwnProcess(ENCODED_FAILURE_CONVERTER_PATH);
  assert.match(bundle.code, /llmRequestWorkflow/, 'the bundle holds the gateway workflows');
  assert.match(bundle.code, /encodeCommonAttributes/, 'the bundle was built with the encoded failure converter');
  assert.ok(bundle.sourceMap.length > 0, 'the bundle keeps its source map');
  const loaded = Object.keys(require.cache).filter((path) => BUNDLER_MODULES.test(path));
  assert.deepEqual(loaded, [], 'bundler modules were loaded into this process');
});

test('a bundling process that fails rejects with its error', async () => {
  const folder = mkdtempSync(join(tmpdir(), 'bundle-test-'));
  const broken = join(folder, 'broken-converter.js');
  writeFileSync(broken, 'export const failureConverter = (;\n');
  try {
    await assert.rejects(bundleInOwnProcess(broken), /bundling the workflow code failed \(exit 1\): .*broken-converter/s);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});
