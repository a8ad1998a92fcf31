import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { defaultPayloadConverter } from '@temporalio/common';
import { HistoryCodec, parseHistoryKeys } from '../../worker/history-codec';

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

test('a payload whose key is gone fails loudly; a tampered one fails authentication; plain payloads pass through', async () => {
  const [encrypted] = await new HistoryCodec([k1]).encode([defaultPayloadConverter.toPayload('x')]);
  await assert.rejects(new HistoryCodec([k2]).decode([encrypted!]), /no history key "k1"/);
  const tampered = { ...encrypted!, data: Uint8Array.from(encrypted!.data!, (byte, index) => (index === 20 ? byte ^ 1 : byte)) };
  await assert.rejects(new HistoryCodec([k1]).decode([tampered]), /auth|unable/i);
  const plain = defaultPayloadConverter.toPayload('not encrypted');
  assert.deepEqual(await new HistoryCodec([k1]).decode([plain]), [plain]);
});

test('key rings are read from "id:base64" entries and bad ones are named', () => {
  const text = `# rotated 2026-11\nk2:${k2.key.toString('base64')}\nk1:${k1.key.toString('base64')}\n`;
  assert.deepEqual(parseHistoryKeys(text).map((entry) => entry.id), ['k2', 'k1']);
  assert.deepEqual(parseHistoryKeys(`a:${k1.key.toString('base64')},b:${k2.key.toString('base64')}`).map((entry) => entry.id), ['a', 'b']);
  assert.throws(() => parseHistoryKeys('short:AAAA'), /must be 32 bytes/);
  assert.throws(() => parseHistoryKeys('no-separator'), /id:base64key/);
});
