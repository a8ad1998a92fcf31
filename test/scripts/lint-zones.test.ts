// The import directions of docs/architecture.md hold however a path is
// written: each deliberate violation below is linted as if it were the file
// it names (the real config, the real resolver), and must fail.
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { ESLint } from 'eslint';

const ROOT = resolve(__dirname, '..', '..');
const eslint = new ESLint({ cwd: ROOT });

/** The rules that report `code` as the content of `file` (a path in the repository). */
async function violations(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: resolve(ROOT, file) });
  return (result?.messages ?? []).map((message) => `${message.ruleId ?? 'parse'}: ${message.message}`);
}

test('a workflow in a subfolder may not import the runtime, however deep its relative path', async () => {
  const found = await violations('workflows/breaker/breaker-state.ts', "import { metrics } from '../../runtime/metrics';\nexport const probe = metrics;\n");
  assert.ok(found.some((line) => line.startsWith('import-x/no-restricted-paths') && line.includes('workflows/ imports only from')), found.join('\n'));
});

test('a workflow imports activities as types only', async () => {
  const typeOnly = await violations(
    'workflows/batch/batch-workflow.ts',
    "import type { createActivities } from '../../activities/create-activities';\nexport type Probe = ReturnType<typeof createActivities>;\n",
  );
  assert.deepEqual(typeOnly, []);
  const value = await violations('workflows/batch/batch-workflow.ts', "import { createActivities } from '../../activities/create-activities';\nexport const probe = createActivities;\n");
  assert.ok(value.some((line) => line.includes('workflows import activities as types only')), value.join('\n'));
});

test('common/ imports nothing of ours', async () => {
  const found = await violations('common/own.ts', "import { planRoute } from '../workflows/plan-route';\nexport const probe = planRoute;\n");
  assert.ok(found.some((line) => line.includes('common/ imports nothing of ours')), found.join('\n'));
});

test('a vendor adapter knows nothing of Temporal activities or the runtime', async () => {
  const found = await violations('activities/providers/registry.ts', "import { logLine } from '../../runtime/json-logger';\nexport const probe = logLine;\n");
  assert.ok(found.some((line) => line.includes('activities/providers/ imports only from common/')), found.join('\n'));
});

test('services may not reach up into activities, and the API not into the worker', async () => {
  const services = await violations('services/breaker-board.ts', "import { createActivities } from '../activities/create-activities';\nexport const probe = createActivities;\n");
  assert.ok(services.some((line) => line.includes('services/ imports only from')), services.join('\n'));
  const api = await violations('api/routes/models.ts', "import { createWorker } from '../../worker/create-worker';\nexport const probe = createWorker;\n");
  assert.ok(api.some((line) => line.includes('api/ imports only from')), api.join('\n'));
});

test('an import cycle fails lint', async () => {
  // services/process-services.ts imports the breaker board: the board importing it back closes a cycle.
  const found = await violations('services/breaker-board.ts', "import { startProcessServices } from './process-services';\nexport const probe = startProcessServices;\n");
  assert.ok(found.some((line) => line.startsWith('import-x/no-cycle')), found.join('\n'));
});
