// History encryption: with keys set, no prompt is readable in Temporal's raw
// history; the codec endpoint decodes it for admins; a request started under
// one key finishes after a rotation to another.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { startEmbeddedGateway, type EmbeddedGateway } from '../../scripts/embedded-gateway';
import { resolveTemporalCli } from '../../scripts/temporal-dev-server';
import { dataConverterFor } from '../../worker/data-converter';
import type { HistoryKey } from '../../worker/history-codec';
import { loadConfigFile } from '../../worker/load-config';
import { ADMIN_KEY, TENANT_KEY, startHarness, type Harness } from '../support/gateway-harness';

let harness: Harness;
const gateways: EmbeddedGateway[] = [];
const first: HistoryKey = { id: 'k1', key: randomBytes(32) };
const second: HistoryKey = { id: 'k2', key: randomBytes(32) };

before(async () => {
  harness = await startHarness({ embeddedGateway: false });
});

after(async () => {
  for (const gateway of gateways) await gateway.stop();
  await harness?.stop();
});

async function startGateway(keys: HistoryKey[]): Promise<EmbeddedGateway> {
  const gateway = await startEmbeddedGateway({
    temporalAddress: harness.devServer.address,
    namespace: 'default',
    taskQueue: harness.env.SWITCHYARD_TASK_QUEUE ?? '',
    config: loadConfigFile(harness.configFile, harness.env),
    env: harness.env,
    apiHost: '127.0.0.1',
    apiPort: 0,
    breakers: false,
    dataConverter: dataConverterFor({ historyKeys: keys, largePayloads: undefined }),
  });
  gateways.push(gateway);
  return gateway;
}

interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

function rawHistory(workflowId: string): { events: Record<string, unknown>[] } {
  return JSON.parse(
    execFileSync(resolveTemporalCli(), ['workflow', 'show', '--workflow-id', workflowId, '--address', harness.devServer.address, '--output', 'json'], {
      encoding: 'utf8',
    }),
  ) as { events: Record<string, unknown>[] };
}

function startPayload(history: { events: Record<string, unknown>[] }): JsonPayload {
  const started = history.events[0]?.workflowExecutionStartedEventAttributes as { input: { payloads: JsonPayload[] } };
  return started.input.payloads[0]!;
}

function resultPayload(history: { events: Record<string, unknown>[] }): JsonPayload {
  const completed = history.events.find((event) => event.workflowExecutionCompletedEventAttributes)?.workflowExecutionCompletedEventAttributes as {
    result: { payloads: JsonPayload[] };
  };
  return completed.result.payloads[0]!;
}

const text = (base64: string | undefined) => Buffer.from(base64 ?? '', 'base64').toString('utf8');

test('a prompt is unreadable in raw history, and the codec endpoint decodes it for an admin', async () => {
  const gateway = await startGateway([first]);
  const prompt = 'the launch code is blue-falcon-42';
  const response = await fetch(`${gateway.apiUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TENANT_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'model-a', messages: [{ role: 'user', content: prompt }] }),
  });
  assert.equal(response.status, 200);
  assert.match(((await response.json()) as { choices: { message: { content: string } }[] }).choices[0]?.message.content ?? '', /blue-falcon-42/);
  const workflowId = response.headers.get('x-gateway-workflow-id') ?? '';

  const history = rawHistory(workflowId);
  const raw = JSON.stringify(history);
  const everyPayloadDecoded = raw.replace(/"data":\s*"([A-Za-z0-9+/=]+)"/g, (_match, data: string) => text(data));
  assert.ok(!everyPayloadDecoded.includes('blue-falcon-42'), 'no plaintext prompt or answer in history');
  const input = startPayload(history);
  assert.equal(text(input.metadata?.encoding), 'binary/encrypted');
  assert.equal(text(input.metadata?.['encryption-key-id']), 'k1');

  const decode = (key: string) =>
    fetch(`${gateway.apiUrl}/codec/decode`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'x-namespace': 'default', origin: 'http://localhost:8233' },
      body: JSON.stringify({ payloads: [input] }),
    });
  assert.equal((await decode(TENANT_KEY)).status, 403);
  assert.equal((await decode('not-a-key')).status, 401);
  const decoded = await decode(ADMIN_KEY);
  assert.equal(decoded.status, 200);
  assert.equal(decoded.headers.get('access-control-allow-origin'), 'http://localhost:8233');
  const [plain] = ((await decoded.json()) as { payloads: JsonPayload[] }).payloads;
  assert.equal(text(plain?.metadata?.encoding), 'json/plain');
  assert.ok(text(plain?.data).includes(prompt));
  await gateway.stop();
});

test('a request started before a key rotation completes after it', async () => {
  const before = await startGateway([first]);
  // The model answers slowly, so the request is still running when its gateway stops.
  await harness.setFault('model-a', { latencyMs: 2_000, times: 1 });
  const accepted = await fetch(`${before.apiUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TENANT_KEY}`, 'content-type': 'application/json', prefer: 'respond-async' },
    body: JSON.stringify({ model: 'model-a', messages: [{ role: 'user', content: 'outlive the rotation' }] }),
  });
  assert.equal(accepted.status, 202);
  const { id } = (await accepted.json()) as { id: string };
  await before.stop();

  // New key first; the old one stays to decrypt what it encrypted.
  const after = await startGateway([second, first]);
  let status = '';
  let body: { status: string; result?: { choices: { message: { content: string } }[] } } = { status: '' };
  for (let round = 0; round < 300 && status !== 'completed'; round += 1) {
    const read = await fetch(`${after.apiUrl}/v1/requests/${id}`, { headers: { authorization: `Bearer ${TENANT_KEY}` } });
    body = (await read.json()) as typeof body;
    status = body.status;
    if (status !== 'completed') await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.equal(status, 'completed');
  assert.match(body.result?.choices[0]?.message.content ?? '', /outlive the rotation/);
  const history = rawHistory(id);
  assert.equal(text(startPayload(history).metadata?.['encryption-key-id']), 'k1');
  assert.equal(text(resultPayload(history).metadata?.['encryption-key-id']), 'k2');
});
