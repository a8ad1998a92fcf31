// History encryption: with keys set, no prompt is readable in Temporal's raw
// history, nor is model output, not even in failure messages; the codec
// endpoint decodes it for admins; a request started under one key finishes
// after a rotation to another.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { workflowIdFor } from '../../client/run-request';
import { startEmbeddedGateway, type EmbeddedGateway } from '../../scripts/embedded-gateway';
import { resolveTemporalCli } from '../../scripts/temporal-dev-server';
import { dataConverterFor } from '../../runtime/data-converter';
import type { HistoryKey } from '../../runtime/history-codec';
import { loadConfigFile } from '../../runtime/load-config';
import { ADMIN_KEY, TENANT_KEY, startHarness, type Harness } from '../support/gateway-harness';
import { plainTemporalConnection } from '../../runtime/temporal-connection';

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
    temporal: plainTemporalConnection(harness.devServer.address),
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

/** The raw history as text with every base64 payload decoded: what anyone with access to Temporal (but no key) reads. */
function readableWithoutKeys(history: { events: Record<string, unknown>[] }): string {
  return JSON.stringify(history).replace(/"data":\s*"([A-Za-z0-9+/=]+)"/g, (_match, data: string) => text(data));
}

interface RawFailure {
  message?: string;
  stackTrace?: string;
  encodedAttributes?: JsonPayload;
  cause?: RawFailure;
}

/** Every failure the history records: failed activities, and the workflow's own. */
function failuresOf(history: { events: Record<string, unknown>[] }): RawFailure[] {
  return history.events.flatMap((event) => {
    const attributes = (event.activityTaskFailedEventAttributes ?? event.workflowExecutionFailedEventAttributes) as { failure?: RawFailure } | undefined;
    return attributes?.failure ? [attributes.failure] : [];
  });
}

async function chatCompletion(gateway: EmbeddedGateway, body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${gateway.apiUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TENANT_KEY}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

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

test('failure messages are encrypted too: neither prompt nor output text is readable in the failures of a request', async () => {
  const gateway = await startGateway([first]);
  const promptCanary = 'prompt-canary-3b7e91';
  const outputCanary = 'output-canary-c40d2a';
  try {
    // model-a answers text that is not the JSON asked for; model-b's vendor error echoes the prompt, as vendors' errors do.
    await harness.setFault('model-a', { reply: `here you go: ${outputCanary}`, times: 1 });
    await harness.setFault('model-b', { status: 403, message: `this key may not answer "${promptCanary}"`, times: 1 });
    const response = await chatCompletion(gateway, {
      model: 'model-a',
      messages: [{ role: 'user', content: `keep this to yourself: ${promptCanary}` }],
      response_format: { type: 'json_object' },
    });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('x-gateway-model'), 'model-c');
    const history = rawHistory(response.headers.get('x-gateway-workflow-id') ?? '');
    const readable = readableWithoutKeys(history);
    assert.ok(!readable.includes(promptCanary), 'no prompt text in raw history');
    assert.ok(!readable.includes(outputCanary), 'no output text in raw history');
    // The failures are there, their message and stack inside an encrypted payload.
    const failures = failuresOf(history);
    assert.equal(failures.length, 2, 'model-a and model-b failed');
    for (const failure of failures) {
      assert.equal(failure.message, 'Encoded failure');
      assert.equal(text(failure.encodedAttributes?.metadata?.encoding), 'binary/encrypted');
    }

    // A vendor refusal that stops the chain fails the workflow itself: its failure is encrypted as well,
    // and the API, which has the keys, still tells the caller what the vendor said.
    await harness.setFault('model-a', { status: 400, message: `the request mentions ${promptCanary}`, times: 1 });
    // An idempotency key names the workflow, which a failed request's answer does not.
    const idempotencyKey = randomUUID();
    const refused = await chatCompletion(gateway, { model: 'model-a', messages: [{ role: 'user', content: `again: ${promptCanary}` }] }, { 'idempotency-key': idempotencyKey });
    assert.equal(refused.status, 400);
    assert.match(((await refused.json()) as { error: { message: string } }).error.message, new RegExp(promptCanary));
    const failedHistory = rawHistory(workflowIdFor('alpha', idempotencyKey).workflowId);
    const workflowFailure = failedHistory.events.find((event) => event.workflowExecutionFailedEventAttributes)?.workflowExecutionFailedEventAttributes as
      | { failure: RawFailure }
      | undefined;
    assert.ok(!readableWithoutKeys(failedHistory).includes(promptCanary), "no prompt text in the failed workflow's raw history");
    assert.equal(workflowFailure?.failure.message, 'Encoded failure');
  } finally {
    await harness.clearFaults();
    await gateway.stop();
  }
});
