// An unexpected failure through the real path (the API process loses its
// Temporal server after Temporal took the request, while it waits for the
// answer): the caller gets a generic 500 with an error id, never the internal
// text; the API's log holds the detail under the same id. (Temporal down
// before a request is taken is a 503: test/e2e/temporal-down.test.ts.)
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, test } from 'node:test';
import { TENANT_KEY, startHarness, type Harness } from '../support/gateway-harness';
import { killAll, startEntryPoint, waitFor } from '../support/processes';

let harness: Harness;
let apiUrl: string;
const children: ChildProcess[] = [];
const lines: string[] = [];

before(async () => {
  harness = await startHarness({ embeddedGateway: false });
  const api = await startEntryPoint('api/main.ts', 'api listening', harness.env, (line) => lines.push(line));
  children.push(api.child);
  apiUrl = String(api.line.url);
});

after(async () => {
  killAll(children);
  await harness?.stop().catch(() => undefined);
});

test('an unexpected error answers a generic 500 with an error id; the log holds the detail under that id', async () => {
  // No worker runs here: the request Temporal took waits for its answer until Temporal goes.
  const answer = fetch(`${apiUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TENANT_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'model-a', messages: [{ role: 'user', content: 'hello' }] }),
  });
  await waitFor(async () => (await harness.client.workflow.count(`WorkflowType = 'llmRequestWorkflow'`)).count > 0, 'Temporal to take the request');
  await harness.devServer.stop();
  const response = await answer;
  assert.equal(response.status, 500);
  const text = await response.text();
  const { error } = JSON.parse(text) as { error: { type: string; code: string | null; message: string } };
  assert.equal(error.type, 'server_error');
  assert.equal(error.code, 'internal_error');
  const errorId = /error id (err_[0-9a-f]{32})/.exec(error.message)?.[1];
  assert.ok(errorId, `no error id in ${JSON.stringify(error.message)}`);
  assert.equal(response.headers.get('x-gateway-error-id'), errorId);
  assert.equal(error.message, `internal error in the gateway (error id ${errorId})`);
  assert.ok(!text.includes(harness.devServer.address.split(':').at(-1) ?? '-'), `the body names the Temporal address: ${text}`);

  let logged: Record<string, unknown> | undefined;
  for (let tries = 0; tries < 50 && !logged; tries++) {
    logged = lines.flatMap((line) => (line.includes(errorId) ? [JSON.parse(line) as Record<string, unknown>] : []))[0];
    if (!logged) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.equal(logged?.errorId, errorId);
  assert.equal(logged?.level, 'error');
  assert.ok(String(logged?.error).length > 0 && String(logged?.error) !== error.message, `detail logged: ${String(logged?.error)}`);
});
