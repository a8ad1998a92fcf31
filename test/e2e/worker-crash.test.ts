// A worker SIGKILLed in the middle of a provider call: the accepted request
// still completes once a new worker starts, and the provider was not called
// more often than the retry policy allows.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import OpenAI from 'openai';
import { createApp } from '../../api/create-app';
import { listen, type RunningServer } from '../../runtime/listen';
import { ConfigStore } from '../../services/config-store';
import { loadConfigFile } from '../../runtime/load-config';
import { TEST_RETRY, TENANT_KEY, startHarness, type Harness } from '../support/gateway-harness';
import { spawnWorkerProcess, waitFor } from '../support/processes';

let harness: Harness;
let api: RunningServer;
let connection: Connection;
const workers: ChildProcess[] = [];

function startWorkerProcess(): ChildProcess {
  const child = spawnWorkerProcess(harness.env);
  workers.push(child);
  return child;
}

before(async () => {
  // Calls are slow enough to kill the worker mid-call; heartbeats detect the crash in a second.
  harness = await startHarness({ embeddedGateway: false, timeouts: { requestMs: 30_000, totalMs: 120_000, heartbeatMs: 1_000 } });
  connection = await Connection.connect({ address: harness.devServer.address });
  const client = new Client({ connection });
  const config = loadConfigFile(harness.configFile, harness.env);
  api = await listen(createApp({ client, store: new ConfigStore(config, harness.env), taskQueue: harness.env.SWITCHYARD_TASK_QUEUE ?? '', eagerStart: false }), '127.0.0.1', 0);
});

after(async () => {
  for (const worker of workers) if (worker.exitCode === null && worker.signalCode === null) worker.kill('SIGKILL');
  await api?.close();
  await connection?.close();
  await harness?.stop();
});

test('a request survives its worker being killed mid-call', async () => {
  await harness.setFault('model-a', { latencyMs: 20_000, times: 1 });
  const first = startWorkerProcess();
  const openai = new OpenAI({ baseURL: `${api.url}/v1`, apiKey: TENANT_KEY, maxRetries: 0, timeout: 120_000 });
  const pending = openai.chat.completions
    .create({ model: 'model-a', messages: [{ role: 'user', content: 'survive a crash' }] })
    .withResponse();

  await waitFor(async () => ((await harness.calls())['model-a'] ?? 0) >= 1, 'the first provider call');
  first.kill('SIGKILL');
  await new Promise((resolve) => first.once('exit', resolve));
  startWorkerProcess();

  const { data, response } = await pending;
  assert.equal(response.headers.get('x-gateway-model'), 'model-a');
  assert.equal(response.headers.get('x-gateway-fallbacks'), '0');
  assert.match(data.choices[0]?.message.content ?? '', /survive a crash/);
  const calls = await harness.calls();
  assert.ok((calls['model-a'] ?? 0) >= 2, 'the call was retried after the crash');
  assert.ok((calls['model-a'] ?? 0) <= TEST_RETRY.maximumAttempts, `no more calls than the retry policy allows: ${calls['model-a']}`);
  assert.equal(calls['model-b'] ?? 0, 0);
});
