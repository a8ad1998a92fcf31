// What an API process spends on a caller, through the real HTTP path: agent
// event streams are capped per tenant and end when idle or done; uploads go
// to disk as they arrive; /codec and /admin check the admin key before they
// read a body; the codec binds payload metadata and takes its CORS origins
// from the config.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ADMIN_KEY, TENANT_KEY, type Harness } from '../support/gateway-harness';
import { harnessPerFile } from '../support/harness-per-file';

let harness: Harness;
const UI_ORIGIN = 'https://temporal-ui.example.com';
const IDLE_MS = 1_500;

harnessPerFile(
  (started) => {
    harness = started.harness;
  },
  {
    env: { SWITCHYARD_HISTORY_KEYS: `k1:${randomBytes(32).toString('base64')}` },
    configPatch: {
      agents: { eventStreams: { maxPerTenant: 2, idleTimeoutMs: IDLE_MS, pollIntervalMs: 50 } },
      codec: { corsOrigins: [UI_ORIGIN] },
    },
  },
);

async function api(method: string, path: string, body?: unknown, key = TENANT_KEY): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${harness.apiUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

async function waitingRun(): Promise<string> {
  const runId = String((await api('POST', '/v1/agent/runs', { model: 'model-a', messages: [{ role: 'user', content: 'Book a table' }], tools: ['ask_human'] })).json.id);
  for (let tries = 0; tries < 300; tries++) {
    if ((await api('GET', `/v1/agent/runs/${runId}`)).json.status === 'waiting_for_input') return runId;
    await sleep(100);
  }
  return assert.fail(`run ${runId} never waited for input`);
}

const openStream = (runId: string) =>
  fetch(`${harness.apiUrl}/v1/agent/runs/${runId}/events`, { headers: { authorization: `Bearer ${TENANT_KEY}` }, signal: AbortSignal.timeout(60_000) });

test('a tenant holds at most the configured event streams; an idle stream ends, and a finished run\'s stream ends with done', async () => {
  const [first, second] = [await waitingRun(), await waitingRun()];
  const streams = [await openStream(first), await openStream(second)];
  assert.deepEqual(streams.map((stream) => stream.status), [200, 200]);
  const refused = await openStream(first);
  assert.equal(refused.status, 429);
  const refusal = (await refused.json()) as { error: { type: string; code: string } };
  assert.equal(refusal.error.type, 'rate_limit_error');
  assert.equal(refusal.error.code, 'too_many_event_streams');

  // Nothing happens on a run waiting for a person: both streams end on their own, and free their places.
  for (const stream of streams) {
    const text = await stream.text();
    assert.deepEqual([...text.matchAll(/^event: (\w+)$/gm)].map((match) => match[1]), ['model', 'question', 'idle']);
  }
  assert.equal((await api('POST', `/v1/agent/runs/${first}/input`, { text: 'for two' })).status, 202);
  for (let tries = 0; tries < 300 && (await api('GET', `/v1/agent/runs/${first}`)).json.status !== 'completed'; tries++) await sleep(100);
  const finished = await openStream(first);
  assert.equal(finished.status, 200);
  assert.match(await finished.text(), /event: done\ndata: \{"status":"completed"/);
});

/** Sends the request head and `firstPart`, then waits for `ready` before the rest: a bounded wait, no timing. */
function sendInTwoParts(
  path: string,
  headers: Record<string, string | number>,
  firstPart: Buffer,
  options: { rest?: Buffer; ready?: () => boolean } = {},
): Promise<{ status: number; body: string; sentAll: boolean }> {
  return new Promise((resolve, reject) => {
    let sentAll = false;
    const request = httpRequest(`${harness.apiUrl}${path}`, { method: 'POST', headers }, (response: IncomingMessage) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => {
        request.destroy();
        resolve({ status: response.statusCode ?? 0, body, sentAll });
      });
    });
    request.on('error', (error) => (sentAll ? reject(error) : undefined));
    request.write(firstPart);
    if (!options.rest) return;
    const rest = options.rest;
    void (async () => {
      for (let tries = 0; tries < 200 && !options.ready?.(); tries++) await sleep(50);
      sentAll = true;
      request.end(rest);
    })();
  });
}

test('an upload is written to the files folder as it arrives, then checked line by line from there', async () => {
  const uploads = join(dirname(harness.configFile), 'files', '.uploads');
  const line = (index: number) => `${JSON.stringify({ custom_id: `item-${index}`, method: 'POST', url: '/v1/chat/completions', body: { model: 'model-a', messages: [{ role: 'user', content: 'x'.repeat(200) }] } })}\n`;
  const content = Buffer.from(Array.from({ length: 20_000 }, (_, index) => line(index)).join(''));
  const boundary = 'switchyard-upload-boundary';
  const head = Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="purpose"\r\n\r\nbatch\r\n--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="big.jsonl"\r\ncontent-type: application/jsonl\r\n\r\n`);
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const half = Math.floor(content.length / 2);
  const partOnDisk = () => {
    try {
      return readdirSync(uploads).some((name) => statSync(join(uploads, name)).size > 0);
    } catch {
      return false;
    }
  };
  const answer = await sendInTwoParts(
    '/v1/files',
    { authorization: `Bearer ${TENANT_KEY}`, 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': head.length + content.length + tail.length },
    Buffer.concat([head, content.subarray(0, half)]),
    { rest: Buffer.concat([content.subarray(half), tail]), ready: partOnDisk },
  );
  assert.equal(answer.status, 200, answer.body);
  assert.equal((JSON.parse(answer.body) as { bytes: number }).bytes, content.length);
  // The first half was on disk before the second was sent: multer's disk storage, not a buffer in memory.
  assert.ok(answer.sentAll);
  const misnumbered = Buffer.concat([head, content.subarray(0, line(0).length * 3), Buffer.from('{not json}\n'), tail]);
  const refused = await sendInTwoParts('/v1/files', { authorization: `Bearer ${TENANT_KEY}`, 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': misnumbered.length }, misnumbered);
  assert.equal(refused.status, 400);
  assert.match(refused.body, /line 4: not JSON/);
});

test('/codec and /admin answer an unauthenticated request before reading its body', async () => {
  for (const [path, declared] of [
    ['/codec/decode', 30_000_000],
    ['/admin/breakers/mock-openai', 2_000_000],
  ] as const) {
    // Declares a body near the limit, sends 64 KiB of it, and never the rest: only an answer before the body is read arrives.
    const answer = await sendInTwoParts(path, { 'content-type': 'application/json', 'content-length': declared }, Buffer.alloc(65_536, 0x20));
    assert.equal(answer.status, 401, path);
    assert.equal(answer.sentAll, false);
    assert.equal((JSON.parse(answer.body) as { error: { code: string } }).error.code, 'invalid_admin_key');
  }
  const tenant = await sendInTwoParts('/codec/encode', { authorization: `Bearer ${TENANT_KEY}`, 'content-type': 'application/json', 'content-length': 30_000_000 }, Buffer.alloc(65_536, 0x20));
  assert.equal(tenant.status, 403);
});

async function codec(direction: 'encode' | 'decode', payloads: { metadata: Record<string, string>; data: string }[]) {
  const response = await fetch(`${harness.apiUrl}/codec/${direction}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ payloads }),
  });
  return { status: response.status, json: (await response.json()) as { payloads: { metadata: Record<string, string>; data: string }[]; error?: { code: string } } };
}

test('the codec binds metadata to the ciphertext: tampered metadata does not decode; old plaintext is shown as it is', async () => {
  const b64 = (text: string) => Buffer.from(text).toString('base64');
  const plain = { metadata: { encoding: b64('json/plain') }, data: b64('"hello"') };
  const encoded = await codec('encode', [plain]);
  assert.equal(encoded.status, 200);
  const [sealed] = encoded.json.payloads;
  assert.ok(sealed);
  assert.equal(Buffer.from(sealed.metadata.encoding ?? '', 'base64').toString(), 'binary/encrypted');
  assert.deepEqual((await codec('decode', [sealed])).json.payloads, [plain]);
  for (const metadata of [
    { ...sealed.metadata, 'encryption-cipher': b64('AES-128-GCM') },
    { ...sealed.metadata, 'encryption-format': b64('1') },
    { ...sealed.metadata, note: b64('added') },
  ]) {
    const tampered = await codec('decode', [{ ...sealed, metadata }]);
    assert.equal(tampered.status, 400);
    assert.equal(tampered.json.error?.code, 'undecodable_payload');
  }
  // History from before the keys were set: the UI shows it as it is.
  assert.deepEqual((await codec('decode', [plain])).json.payloads, [plain]);
});

test("the codec's CORS origins come from the config", async () => {
  const preflight = (origin: string) => fetch(`${harness.apiUrl}/codec/decode`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST' } });
  const allowed = await preflight(UI_ORIGIN);
  assert.equal(allowed.status, 204);
  assert.equal(allowed.headers.get('access-control-allow-origin'), UI_ORIGIN);
  // The dev server's UI origin is the default, replaced by the config's list.
  assert.equal((await preflight('http://localhost:8233')).headers.get('access-control-allow-origin'), null);
});
