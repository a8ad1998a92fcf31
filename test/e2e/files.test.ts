// OpenAI's Files API for batch input, through the official client: upload a
// JSONL file, read it back, list and delete it; bad files are refused with
// the line at fault, and a tenant never sees another tenant's files.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI, { toFile } from 'openai';
import { OTHER_TENANT_KEY, TENANT_KEY, startHarness, type Harness } from '../support/gateway-harness';

let harness: Harness;
let openai: OpenAI;
let other: OpenAI;

const line = (id: string, content: string) =>
  JSON.stringify({ custom_id: id, method: 'POST', url: '/v1/chat/completions', body: { model: 'model-a', messages: [{ role: 'user', content }] } });

before(async () => {
  harness = await startHarness();
  openai = new OpenAI({ baseURL: `${harness.apiUrl}/v1`, apiKey: TENANT_KEY, maxRetries: 0 });
  other = new OpenAI({ baseURL: `${harness.apiUrl}/v1`, apiKey: OTHER_TENANT_KEY, maxRetries: 0 });
});
after(() => harness?.stop());

async function refused(promise: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  const error = await promise.then(
    () => assert.fail('expected an error'),
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof OpenAI.APIError);
  return error;
}

test('a batch file uploads, reads back byte for byte, lists and deletes', async () => {
  const text = `${line('one', 'first')}\n${line('two', 'second')}\n`;
  const file = await openai.files.create({ file: await toFile(Buffer.from(text), 'requests.jsonl'), purpose: 'batch' });
  assert.match(file.id, /^file-[a-f0-9]{32}$/);
  assert.equal(file.bytes, Buffer.byteLength(text));
  assert.equal(file.filename, 'requests.jsonl');
  assert.equal(file.purpose, 'batch');
  assert.equal((await openai.files.retrieve(file.id)).id, file.id);
  assert.equal(await (await openai.files.content(file.id)).text(), text);
  assert.ok((await openai.files.list()).data.some((listed) => listed.id === file.id));

  // Another tenant does not see it.
  assert.equal((await refused(other.files.retrieve(file.id))).status, 404);
  assert.ok(!(await other.files.list()).data.some((listed) => listed.id === file.id));

  assert.deepEqual(await openai.files.delete(file.id), { id: file.id, object: 'file', deleted: true });
  assert.equal((await refused(openai.files.retrieve(file.id))).status, 404);
});

test('bad files are refused with the line at fault, and nothing is kept', async () => {
  const upload = (text: string, purpose = 'batch') => openai.files.create({ file: new File([text], 'bad.jsonl'), purpose: purpose as 'batch' });
  const before = (await openai.files.list()).data.length;
  assert.match((await refused(upload(`${line('a', 'x')}\nnot json\n`))).message, /line 2: not JSON/);
  assert.match((await refused(upload(`${line('a', 'x')}\n${line('a', 'y')}\n`))).message, /line 2: custom_id "a" is used twice/);
  assert.match((await refused(upload(JSON.stringify({ custom_id: 'a', method: 'POST', url: '/v1/embeddings', body: {} })))).message, /line 1: url must be one of \/v1\/chat\/completions/);
  assert.match((await refused(upload(''))).message, /no request/);
  const wrongPurpose = await refused(upload(line('a', 'x'), 'fine-tune'));
  assert.equal(wrongPurpose.status, 400);
  assert.match(wrongPurpose.message, /purpose must be "batch"/);
  assert.equal((await openai.files.list()).data.length, before);
});
