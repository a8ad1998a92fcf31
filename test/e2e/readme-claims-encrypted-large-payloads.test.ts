// README, "Encrypted history" and "Large payloads", with the API and the
// worker as processes of their own sharing one key ring and one payload
// folder, as a deployment runs them:
// - the codec endpoint (`POST /codec/encode`, `/codec/decode`, admin key)
//   that the Temporal CLI and UI use, both ways, with the real `temporal` CLI;
// - encryption together with large-payload storage: a large prompt leaves
//   history (a reference stays), nothing in history or in the payload folder
//   is plaintext, and the answer is still right.
import assert from 'node:assert/strict';
import { execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { resolveTemporalCli } from '../../scripts/temporal-dev-server';
import { ADMIN_KEY, TENANT_KEY, startHarness, type Harness } from '../support/gateway-harness';
import { killAll, startEntryPoint } from '../support/processes';

/** Payloads of this size or more leave history; a prompt of a few times this stays under the mock's window. */
const THRESHOLD_BYTES = 16_384;

let harness: Harness;
let apiUrl: string;
let openai: OpenAI;
const children: ChildProcess[] = [];
const historyKeys = `k1:${randomBytes(32).toString('base64')}`;

before(async () => {
  harness = await startHarness({ embeddedGateway: false, largePayloadBytes: THRESHOLD_BYTES });
  const env = { ...harness.env, SWITCHYARD_HISTORY_KEYS: historyKeys };
  const worker = await startEntryPoint('worker/main.ts', 'worker started', env);
  children.push(worker.child);
  const api = await startEntryPoint('api/main.ts', 'api listening', env);
  children.push(api.child);
  apiUrl = String(api.line.url);
  openai = new OpenAI({ baseURL: `${apiUrl}/v1`, apiKey: TENANT_KEY, maxRetries: 0, timeout: 60_000 });
});

after(async () => {
  killAll(children);
  await harness?.stop();
});

interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

const text = (base64: string | undefined) => Buffer.from(base64 ?? '', 'base64').toString('utf8');
const base64 = (value: string) => Buffer.from(value, 'utf8').toString('base64');

/** The `temporal` CLI, never blocking this process (the mock provider runs in it). */
async function temporalCli(args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(resolveTemporalCli(), [...args, '--address', harness.devServer.address], { encoding: 'utf8', timeout: 60_000 });
  return stdout;
}

const withCodec = () => ['--codec-endpoint', `${apiUrl}/codec`, '--codec-auth', `Bearer ${ADMIN_KEY}`];

/** `temporal workflow show` as JSON; with `codec`, through the gateway's codec endpoint as the README shows. */
async function showHistory(workflowId: string, codec = false): Promise<{ events: Record<string, unknown>[] }> {
  const args = ['workflow', 'show', '--workflow-id', workflowId, '--output', 'json', ...(codec ? withCodec() : [])];
  return JSON.parse(await temporalCli(args)) as { events: Record<string, unknown>[] };
}

/** Every payload anywhere in a history but search attributes, which stay plain (README). */
function payloadsOf(value: unknown, found: JsonPayload[] = []): JsonPayload[] {
  if (Array.isArray(value)) for (const item of value) payloadsOf(item, found);
  else if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    if (typeof record.data === 'string' && record.metadata !== null && typeof record.metadata === 'object') found.push(record as JsonPayload);
    else for (const [key, item] of Object.entries(record)) if (key !== 'searchAttributes') payloadsOf(item, found);
  }
  return found;
}

const encodingOf = (payload: JsonPayload) => text(payload.metadata?.encoding);

async function codec(direction: 'encode' | 'decode', payloads: JsonPayload[], key = ADMIN_KEY): Promise<{ status: number; payloads: JsonPayload[] }> {
  const response = await fetch(`${apiUrl}/codec/${direction}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'x-namespace': 'default' },
    body: JSON.stringify({ payloads }),
  });
  const body = (await response.json()) as { payloads?: JsonPayload[] };
  return { status: response.status, payloads: body.payloads ?? [] };
}

test('POST /codec/encode encrypts a payload for an admin, and /codec/decode gives it back', async () => {
  const plain: JsonPayload = { metadata: { encoding: base64('json/plain') }, data: base64(JSON.stringify({ note: 'ops-secret-7731' })) };
  assert.equal((await codec('encode', [plain], TENANT_KEY)).status, 403, 'a tenant key may not encode');

  const encoded = await codec('encode', [plain]);
  assert.equal(encoded.status, 200);
  const [sealed] = encoded.payloads;
  assert.ok(sealed);
  assert.equal(encodingOf(sealed), 'binary/encrypted');
  assert.equal(text(sealed.metadata?.['encryption-key-id']), 'k1');
  assert.ok(!text(sealed.data).includes('ops-secret-7731'), 'the encoded payload is not plaintext');

  const decoded = await codec('decode', [sealed]);
  assert.equal(decoded.status, 200);
  assert.deepEqual(decoded.payloads, [{ metadata: plain.metadata, data: plain.data }]);
});

test('an admin’s temporal CLI starts a request through /codec/encode and reads its answer through /codec/decode', async () => {
  // An ordinary request first: its input, decoded, is what the CLI sends again under another id.
  const first = await openai.chat.completions.create({ model: 'model-a', messages: [{ role: 'user', content: 'started from the CLI' }] }).withResponse();
  const firstId = first.response.headers.get('x-gateway-workflow-id') ?? '';
  const started = (await showHistory(firstId, true)).events[0]?.workflowExecutionStartedEventAttributes as { input: { payloads: JsonPayload[] } };
  const [input] = started.input.payloads;
  assert.equal(encodingOf(input ?? {}), 'json/plain', 'the CLI decodes history through the codec endpoint');
  const inputFile = join(harness.env.SWITCHYARD_LARGE_PAYLOADS_DIR ?? '', '..', 'cli-input.json');
  writeFileSync(inputFile, text(input?.data));

  const workflowId = `llm-alpha-cli-${Date.now()}`;
  const cli = (...args: string[]) => temporalCli([...args, ...withCodec()]);
  await cli('workflow', 'start', '--type', 'llmRequestWorkflow', '--task-queue', harness.env.SWITCHYARD_TASK_QUEUE ?? '', '--workflow-id', workflowId, '--input-file', inputFile);
  const result = JSON.parse(await cli('workflow', 'result', '--workflow-id', workflowId, '--output', 'json')) as { result?: { text?: string; outcome?: string } };
  assert.equal(result.result?.outcome, 'success');
  assert.match(result.result?.text ?? '', /started from the CLI/);

  // The worker could read the input only because the endpoint encrypted it with the deployment's key.
  const raw = (await showHistory(workflowId)).events[0]?.workflowExecutionStartedEventAttributes as { input: { payloads: JsonPayload[] } };
  const [sealed] = raw.input.payloads;
  assert.equal(encodingOf(sealed ?? {}), 'binary/encrypted');
  assert.equal(text(sealed?.metadata?.['encryption-key-id']), 'k1');
});

test('a large prompt leaves history as a reference, nothing in history or the payload folder is plaintext, and the answer is right', async () => {
  const marker = 'needle-in-the-haystack-5521';
  const filler = 'lorem ipsum dolor sit amet consectetur adipiscing elit. ';
  const prompt = `Echo this back please. ${filler.repeat(600)} ${marker} ${filler.repeat(600)}`;
  assert.ok(Buffer.byteLength(prompt) > 4 * THRESHOLD_BYTES);

  const { data, response } = await openai.chat.completions.create({ model: 'model-a', messages: [{ role: 'user', content: prompt }] }).withResponse();
  assert.equal(response.headers.get('x-gateway-model'), 'model-a');
  assert.match(data.choices[0]?.message.content ?? '', /^\[model-a\] Echo this back please\./);
  // The provider got the whole prompt, marker included.
  assert.match(JSON.stringify((await harness.control.receivedRequests('model-a')).at(-1)), new RegExp(marker));

  const workflowId = response.headers.get('x-gateway-workflow-id') ?? '';
  const history = await showHistory(workflowId);
  const isReference = (payload: JsonPayload | undefined) => text(payload?.metadata?.messageType) === 'temporal.api.sdk.v1.ExternalStorageReference';
  const started = history.events[0]?.workflowExecutionStartedEventAttributes as { input: { payloads: JsonPayload[] } };
  assert.ok(isReference(started.input.payloads[0]), 'the request (with its prompt) left history: a reference stands in for it');
  const completed = history.events.find((event) => event.workflowExecutionCompletedEventAttributes)?.workflowExecutionCompletedEventAttributes as {
    result: { payloads: JsonPayload[] };
  };
  assert.equal(encodingOf(completed.result.payloads[0] ?? {}), 'binary/encrypted', 'the answer is encrypted in history');
  // Every payload left in history, the SDK's own marker bookkeeping included, is small and holds no prompt.
  const payloads = payloadsOf(history);
  for (const payload of payloads) {
    assert.ok(Buffer.from(payload.data ?? '', 'base64').length < THRESHOLD_BYTES, `no payload of ${THRESHOLD_BYTES} bytes or more stays in history`);
    assert.ok(!text(payload.data).includes(marker) && !text(payload.data).includes('lorem ipsum'), 'no plaintext prompt in history');
  }

  const folder = join(harness.env.SWITCHYARD_LARGE_PAYLOADS_DIR ?? '', 'default');
  const files = readdirSync(folder).filter((name) => /^[0-9a-f]{64}$/.test(name));
  assert.ok(files.length >= 1, 'the large payload is in the folder');
  for (const file of files) {
    const bytes = readFileSync(join(folder, file));
    assert.ok(!bytes.includes(marker) && !bytes.includes('lorem ipsum'), `${file} holds ciphertext only`);
  }
});
