import assert from 'node:assert/strict';
import { createCipheriv, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { defaultPayloadConverter } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { HistoryCodec, parseHistoryKeys } from '../../runtime/history-codec';

const k1 = { id: 'k1', key: randomBytes(32) };
const k2 = { id: 'k2', key: randomBytes(32) };

test('payloads round-trip, encrypted under the first key and named by it', async () => {
  const payload = defaultPayloadConverter.toPayload({ prompt: 'top secret' });
  const [encrypted] = await new HistoryCodec([k1]).encode([payload]);
  assert.ok(encrypted);
  assert.ok(!Buffer.from(encrypted.data ?? []).toString('utf8').includes('top secret'));
  assert.equal(Buffer.from(encrypted.metadata?.['encryption-key-id'] ?? []).toString(), 'k1');
  const [decoded] = await new HistoryCodec([k2, k1]).decode([encrypted]);
  assert.deepEqual(defaultPayloadConverter.fromPayload(decoded!), { prompt: 'top secret' });
});

test('a payload whose key is gone fails loudly; a tampered one fails authentication; plaintext is refused unless accepted', async () => {
  const [encrypted] = await new HistoryCodec([k1]).encode([defaultPayloadConverter.toPayload('x')]);
  await assert.rejects(new HistoryCodec([k2]).decode([encrypted!]), /no history key "k1"/);
  const tampered = { ...encrypted!, data: Uint8Array.from(encrypted!.data!, (byte, index) => (index === 20 ? byte ^ 1 : byte)) };
  await assert.rejects(new HistoryCodec([k1]).decode([tampered]), /failed authentication/);
  const plain = defaultPayloadConverter.toPayload('not encrypted');
  await assert.rejects(new HistoryCodec([k1]).decode([plain]), /not encrypted/);
  assert.deepEqual(await new HistoryCodec([k1], { plaintext: 'accept' }).decode([plain]), [plain]);
});

test('the metadata is bound as associated data: changing, adding or dropping an entry fails authentication', async () => {
  const [encrypted] = await new HistoryCodec([k1]).encode([defaultPayloadConverter.toPayload('bound')]);
  const codec = new HistoryCodec([k1]);
  const withMetadata = (metadata: Record<string, Uint8Array>) => ({ ...encrypted!, metadata });
  const { ['encryption-format']: _format, ...withoutFormat } = encrypted!.metadata!;
  for (const metadata of [
    { ...encrypted!.metadata!, 'encryption-cipher': new TextEncoder().encode('AES-256-GCM ') },
    { ...encrypted!.metadata!, extra: new TextEncoder().encode('1') },
    // Dropping the format entry does not downgrade the payload to format 1 (no associated data).
    withoutFormat,
  ]) {
    await assert.rejects(codec.decode([withMetadata(metadata as Record<string, Uint8Array>)]), /failed authentication/);
  }
  assert.deepEqual(defaultPayloadConverter.fromPayload((await codec.decode([encrypted!]))[0]!), 'bound');
});

test('format 1 payloads (no associated data, no format entry) still decrypt', async () => {
  const payload = defaultPayloadConverter.toPayload({ old: true });
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', k1.key, iv);
  const body = Buffer.concat([cipher.update(temporal.api.common.v1.Payload.encode(payload).finish()), cipher.final()]);
  const encoder = new TextEncoder();
  const formatOne = {
    metadata: { encoding: encoder.encode('binary/encrypted'), 'encryption-key-id': encoder.encode('k1'), 'encryption-cipher': encoder.encode('AES-256-GCM') },
    data: new Uint8Array(Buffer.concat([iv, body, cipher.getAuthTag()])),
  };
  assert.deepEqual(defaultPayloadConverter.fromPayload((await new HistoryCodec([k1]).decode([formatOne]))[0]!), { old: true });
});

test('key rings are read from "id:base64" entries and bad ones are named', () => {
  const text = `# rotated 2026-11\nk2:${k2.key.toString('base64')}\nk1:${k1.key.toString('base64')}\n`;
  assert.deepEqual(parseHistoryKeys(text).map((entry) => entry.id), ['k2', 'k1']);
  assert.deepEqual(parseHistoryKeys(`a:${k1.key.toString('base64')},b:${k2.key.toString('base64')}`).map((entry) => entry.id), ['a', 'b']);
  assert.throws(() => parseHistoryKeys('short:AAAA'), /must be 32 bytes/);
  assert.throws(() => parseHistoryKeys('no-separator'), /id:base64key/);
});
