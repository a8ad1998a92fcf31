// The typed client starts gateway workflows directly through Temporal (no HTTP)
// and gets the same routing, fallback and idempotency as the HTTP API.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { NativeConnection } from '@temporalio/worker';
import { ZodError } from 'zod';
import { GatewayClient } from '../../client/gateway-client';
import { createStreamWorker } from '../../worker/create-stream-worker';
import { ConfigStore } from '../../services/config-store';
import { loadConfigFile } from '../../runtime/load-config';
import { startHarness, type Harness } from '../support/gateway-harness';

let harness: Harness;
let gateway: GatewayClient;

before(async () => {
  harness = await startHarness();
  gateway = new GatewayClient({ client: harness.client, tenantId: 'alpha', taskQueue: harness.env.SWITCHYARD_TASK_QUEUE });
});

after(async () => {
  await harness?.stop();
});

afterEach(async () => {
  await harness.clearFaults();
  await harness.resetCalls();
});

test('complete() answers with the canonical response and its route', async () => {
  await harness.setFault('model-a', { status: 401 });
  const response = await gateway.complete({ model: 'model-a', messages: [{ role: 'user', content: 'typed hello' }] });
  assert.equal(response.model, 'model-b');
  assert.equal(response.fallbacks, 1);
  assert.equal(response.outcome, 'success');
  assert.match(response.text ?? '', /typed hello/);
  assert.deepEqual(response.attempts.map((attempt) => attempt.failureType ?? 'ok'), ['AccessDenied', 'ok']);
});

test('start() then result() and status(); a retried start with the same key is the same request', async () => {
  const request = { model: 'model-a', messages: [{ role: 'user' as const, content: 'once' }] };
  const first = await gateway.start(request, { idempotencyKey: 'job-7' });
  const again = await gateway.start(request, { idempotencyKey: 'job-7' });
  assert.equal(again.id, first.id);
  const response = await gateway.result(first.id);
  assert.equal(response.workflowId, first.id);
  assert.equal(await gateway.status(first.id), 'completed');
  assert.equal((await harness.calls())['model-a'], 1);
});

test('cancel() stops a running request', async () => {
  for (const model of ['model-a', 'model-b', 'model-c']) await harness.setFault(model, { hang: true });
  const { id } = await gateway.start({ model: 'model-a', messages: [{ role: 'user', content: 'stop me' }] });
  assert.equal(await gateway.status(id), 'running');
  await gateway.cancel(id);
  await assert.rejects(gateway.result(id), /cancelled/);
  assert.equal(await gateway.status(id), 'cancelled');
});

test('an invalid request is refused before anything starts', async () => {
  await assert.rejects(gateway.start({ model: 'model-a', messages: [] }), (error: unknown) => error instanceof ZodError);
  assert.deepEqual(await harness.calls(), {});
});

test('stream() hands over each piece while the model is still answering, then the whole response', async () => {
  const connection = await NativeConnection.connect({ address: harness.devServer.address });
  const streamWorker = await createStreamWorker({
    connection,
    namespace: 'default',
    taskQueue: harness.env.SWITCHYARD_TASK_QUEUE ?? '',
    store: new ConfigStore(loadConfigFile(harness.configFile, harness.env), harness.env),
  });
  const running = streamWorker.worker.run();
  try {
    const streaming = new GatewayClient({
      client: harness.client,
      tenantId: 'alpha',
      taskQueue: harness.env.SWITCHYARD_TASK_QUEUE,
      streaming: { taskQueue: streamWorker.taskQueue, relay: streamWorker.relay },
    });
    // model-a answers 503 (model-b streams instead); model-b parks after message_start, block start, ping and two words.
    await harness.setFault('model-a', { status: 503 });
    await harness.setFault('model-b', { holdStreamAfterChunks: 5, times: 1 });
    const pieces: { text: string; model: string }[] = [];
    let settled = false;
    const pending = streaming
      .stream({ model: 'model-a', messages: [{ role: 'user', content: 'typed stream of words' }] }, (delta, model) => {
        if (delta.type === 'text') pieces.push({ text: delta.text, model });
      })
      .finally(() => {
        settled = true;
      });
    for (let round = 0; round < 600 && pieces.length < 2; round += 1) await sleep(50);
    assert.equal(pieces.length, 2, 'two pieces arrived while the provider was parked');
    assert.equal(await harness.control.heldStreams(), 1);
    assert.equal(settled, false);
    await harness.control.releaseStreams();
    const response = await pending;
    assert.equal(response.model, 'model-b');
    assert.equal(pieces.map((piece) => piece.text).join(''), response.text);
    assert.ok(pieces.every((piece) => piece.model === 'model-b'));
  } finally {
    streamWorker.worker.shutdown();
    await running;
    await connection.close();
  }
});

test('stream() without a stream worker says what it needs', async () => {
  await assert.rejects(gateway.stream({ model: 'model-a', messages: [{ role: 'user', content: 'hi' }] }, () => undefined), /streaming/);
});

test('connect() reaches Temporal through an envconfig profile, as every Temporal application does', async () => {
  const folder = mkdtempSync(join(tmpdir(), 'gateway-client-profile-'));
  const file = join(folder, 'temporal.toml');
  writeFileSync(file, `[profile.gateway]\naddress = "${harness.devServer.address}"\nnamespace = "default"\n`);
  // No TEMPORAL_ADDRESS: the profile alone says where Temporal is.
  const env = { HOME: folder, TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'gateway' };
  const connected = await GatewayClient.connect({ tenantId: 'alpha', taskQueue: harness.env.SWITCHYARD_TASK_QUEUE, env });
  try {
    const response = await connected.complete({ model: 'model-a', messages: [{ role: 'user', content: 'hello through a profile' }] });
    assert.equal(response.outcome, 'success');
    assert.match(response.text ?? '', /hello through a profile/);
  } finally {
    await connected.close();
  }
  await assert.rejects(GatewayClient.connect({ tenantId: 'alpha', env: { ...env, TEMPORAL_PROFILE: 'missing' } }), /Profile 'missing' not found/);
});
