// With a known fake provider key, a run of requests (answers, failovers, a
// provider echoing the key in its error, a stream) leaves the key in no log
// line of the API or worker process and in no workflow history; the logs are
// JSON lines that name the workflow, tenant, model and failure types.
import assert from 'node:assert/strict';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { resolveTemporalCli } from '../../scripts/temporal-dev-server';
import { TENANT_KEY, startHarness, type Harness } from '../support/gateway-harness';
import { killAll, startEntryPoint } from '../support/processes';

const FAKE_KEY = 'sk-live-FAKE0123456789abcdefSECRETxyz';

let harness: Harness;
let openai: OpenAI;
const children: ChildProcess[] = [];
const lines: string[] = [];

before(async () => {
  // The mock requires this key of mock-openai, so the worker must really send it.
  harness = await startHarness({ embeddedGateway: false, env: { MOCK_PROVIDER_KEY: FAKE_KEY } });
  const env = harness.env;
  children.push((await startEntryPoint('worker/main.ts', 'worker started', env, (line) => lines.push(line))).child);
  const api = await startEntryPoint('api/main.ts', 'api listening', env, (line) => lines.push(line));
  children.push(api.child);
  openai = new OpenAI({ baseURL: `${String(api.line.url)}/v1`, apiKey: TENANT_KEY, maxRetries: 0, timeout: 60_000 });
});

after(async () => {
  killAll(children);
  await harness?.stop();
});

test('the provider key never reaches a log line or a workflow history', async () => {
  const plain = await openai.chat.completions.create({ model: 'model-a', messages: [{ role: 'user', content: 'plain request' }] });
  assert.equal(plain.model, 'model-a', 'the worker sent the fake key, which the mock requires');
  // A provider that echoes the key it was sent in its error message.
  await harness.setFault('model-a', { status: 401, message: `Incorrect API key provided: ${FAKE_KEY}.` });
  const failedOver = await openai.chat.completions.create({ model: 'model-a', messages: [{ role: 'user', content: 'fall over please' }] });
  assert.equal(failedOver.model, 'model-b');
  await harness.setFault('model-b', { status: 503 });
  const stream = await openai.chat.completions.create({ model: 'model-a', stream: true, messages: [{ role: 'user', content: 'stream please' }] });
  for await (const chunk of stream) assert.ok(chunk);
  await harness.clearFaults();

  // Give the processes a moment to write their last lines, then look.
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.ok(lines.length > 10, 'the processes logged');
  const leaking = lines.filter((line) => line.includes(FAKE_KEY) || line.includes('FAKE0123456789'));
  assert.deepEqual(leaking, []);
  // The provider's echo did reach the logs, scrubbed.
  assert.ok(lines.some((line) => line.includes('Incorrect API key provided')), 'the error that echoed the key was logged');

  const requestLines = lines
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((line) => line.msg === 'llm request');
  assert.equal(requestLines.length, 3);
  const fellOver = requestLines.find((line) => line.model === 'model-b' && Array.isArray(line.failures) && line.failures.length > 0);
  assert.ok(fellOver, JSON.stringify(requestLines));
  assert.equal(fellOver.tenant, 'alpha');
  assert.match(String(fellOver.workflowId), /^llm-alpha-/);
  assert.deepEqual(fellOver.failures, ['model-a:AccessDenied']);
  assert.equal(fellOver.prompt, undefined, 'no prompt text unless the config asks');

  const cli = resolveTemporalCli();
  const ids = JSON.parse(
    execFileSync(cli, ['workflow', 'list', '--address', harness.devServer.address, '--output', 'json', '--limit', '100'], { encoding: 'utf8' }),
  ) as { execution: { workflowId: string } }[];
  assert.ok(ids.length >= 3);
  for (const { execution } of ids) {
    const history = execFileSync(cli, ['workflow', 'show', '--workflow-id', execution.workflowId, '--address', harness.devServer.address, '--output', 'json'], {
      encoding: 'utf8',
    });
    const decoded = history.replace(/"data":\s*"([A-Za-z0-9+/=]+)"/g, (_match, data: string) => Buffer.from(data, 'base64').toString('utf8'));
    assert.ok(!decoded.includes(FAKE_KEY) && !decoded.includes('FAKE0123456789'), `history of ${execution.workflowId} holds the key`);
  }
});
