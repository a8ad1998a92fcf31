// Data at rest through the real path (HTTP → Temporal → worker → mock
// provider): with history keys set, neither the SQLite cache file nor any
// batch file on disk holds a prompt's or an answer's canary, yet a repeated
// request is still a hit and a batch's output reads back through the
// official client; purging a tenant's cache makes its next request a miss
// and leaves other tenants' entries alone.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import OpenAI, { toFile } from 'openai';
import { harnessPerFile } from '../support/harness-per-file';
import { ADMIN_KEY, OTHER_TENANT_KEY, TENANT_KEY, type Harness } from '../support/gateway-harness';

const keys = `k1:${randomBytes(32).toString('base64')}`;
let cacheFile = '';
let started: Harness | undefined;
const harness = (): Harness => started ?? assert.fail('the harness is not started');
harnessPerFile((value) => (started = value.harness), {
  env: { SWITCHYARD_HISTORY_KEYS: keys },
  configure: (config) => {
    cacheFile = join(String(config.batch?.filesDir), '..', 'cache.sqlite');
    return { ...config, cache: { enabled: true, sqliteFile: cacheFile } };
  },
});

const client = (key = TENANT_KEY) => new OpenAI({ baseURL: `${harness().apiUrl}/v1`, apiKey: key, maxRetries: 0 });
const ask = (content: string, key = TENANT_KEY) =>
  client(key).chat.completions.create({ model: 'model-a', temperature: 0, messages: [{ role: 'user', content }] }).withResponse();

/** Every file under `folder`, read raw. */
function everyByte(folder: string): Buffer {
  return Buffer.concat(
    readdirSync(folder, { recursive: true, encoding: 'utf8' })
      .map((name) => join(folder, name))
      .filter((path) => statSync(path).isFile())
      .map((path) => readFileSync(path)),
  );
}

function sqliteBytes(): Buffer {
  const folder = join(cacheFile, '..');
  return Buffer.concat(readdirSync(folder).filter((name) => name.startsWith('cache.sqlite')).map((name) => readFileSync(join(folder, name))));
}

test('with history keys a cached answer is sealed in the SQLite file and still a hit', async () => {
  const canary = `canary-${randomUUID()}`;
  const first = await ask(`Repeat ${canary}`);
  assert.equal(first.response.headers.get('x-gateway-cache'), 'miss');
  assert.ok(first.data.choices[0]?.message.content?.includes(canary), 'the mock answers with the prompt, so the answer holds the canary too');
  const second = await ask(`Repeat ${canary}`);
  assert.equal(second.response.headers.get('x-gateway-cache'), 'hit');
  assert.equal(second.data.choices[0]?.message.content, first.data.choices[0]?.message.content);
  assert.ok(sqliteBytes().length > 0);
  assert.equal(sqliteBytes().includes(canary), false, 'no canary in the SQLite file or its WAL');
});

test("a tenant's purge makes its next identical request a miss and leaves other tenants' entries", async () => {
  const prompt = `purge me ${randomUUID()}`;
  await ask(prompt);
  await ask(prompt, OTHER_TENANT_KEY);
  assert.equal((await ask(prompt)).response.headers.get('x-gateway-cache'), 'hit');

  const purged = await fetch(`${harness().apiUrl}/v1/cache`, { method: 'DELETE', headers: { authorization: `Bearer ${TENANT_KEY}` } });
  assert.equal(purged.status, 200);
  const body = (await purged.json()) as { tenant: string; deleted: number };
  assert.equal(body.tenant, 'alpha');
  assert.ok(body.deleted >= 1);
  assert.equal((await ask(prompt)).response.headers.get('x-gateway-cache'), 'miss');
  assert.equal((await ask(prompt, OTHER_TENANT_KEY)).response.headers.get('x-gateway-cache'), 'hit', "beta's entry survives alpha's purge");

  // The admin variant purges any tenant; a tenant key may not use it.
  const refused = await fetch(`${harness().apiUrl}/admin/cache/beta`, { method: 'DELETE', headers: { authorization: `Bearer ${TENANT_KEY}` } });
  assert.equal(refused.status, 403);
  const admin = await fetch(`${harness().apiUrl}/admin/cache/beta`, { method: 'DELETE', headers: { authorization: `Bearer ${ADMIN_KEY}` } });
  assert.equal(admin.status, 200);
  assert.equal((await ask(prompt, OTHER_TENANT_KEY)).response.headers.get('x-gateway-cache'), 'miss');
  assert.equal((await ask(prompt)).response.headers.get('x-gateway-cache'), 'hit', "alpha's new entry survives beta's purge");
});

test('with history keys batch files on disk hold no canary and the output reads back through the client', async () => {
  const canary = `canary-${randomUUID()}`;
  const openai = client();
  const lines = ['one', 'two'].map((id) =>
    JSON.stringify({ custom_id: id, method: 'POST', url: '/v1/chat/completions', body: { model: 'model-a', messages: [{ role: 'user', content: `${id} ${canary}` }] } }),
  );
  const text = `${lines.join('\n')}\n`;
  const file = await openai.files.create({ file: await toFile(Buffer.from(text), 'batch.jsonl'), purpose: 'batch' });
  assert.equal(file.bytes, Buffer.byteLength(text), 'the size is the plaintext size');
  assert.ok(typeof file.expires_at === 'number' && file.expires_at > file.created_at);
  assert.equal(await (await openai.files.content(file.id)).text(), text);
  const filesDir = join(cacheFile, '..', 'files');
  assert.equal(everyByte(filesDir).includes(canary), false, 'the upload is sealed');

  const created = await openai.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
  let batch = created;
  for (let tries = 0; tries < 1_200 && !['completed', 'failed', 'cancelled', 'expired'].includes(batch.status); tries++) {
    await sleep(100);
    batch = await openai.batches.retrieve(created.id);
  }
  assert.equal(batch.status, 'completed');
  const output = (await (await openai.files.content(batch.output_file_id ?? '')).text()).trim().split('\n');
  assert.equal(output.length, 2);
  for (const line of output) {
    const parsed = JSON.parse(line) as { response: { body: { choices: { message: { content: string } }[] } } };
    assert.ok(parsed.response.body.choices[0]?.message.content.includes(canary), 'the answers hold the canary');
  }
  assert.equal(everyByte(filesDir).includes(canary), false, 'input, output and page files are sealed');
});
