import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { defaultPayloadConverter } from '@temporalio/common';
import { encodeReferencePayload } from '@temporalio/common/lib/internal-non-workflow';
import { decodeHistoryPayload, dataConverterFor } from '../../runtime/data-converter';
import { FolderStorageDriver, sweepLargePayloads } from '../../runtime/payload-storage';
import { readSettings } from '../../runtime/settings';

const root = mkdtempSync(join(tmpdir(), 'switchyard-payloads-'));
after(() => rmSync(root, { recursive: true, force: true }));
const context = { target: { kind: 'workflow' as const, namespace: 'default', id: 'run_1' } };

test('a payload is stored once by its hash and read back whole', async () => {
  const driver = new FolderStorageDriver(join(root, 'a'));
  const payload = defaultPayloadConverter.toPayload({ transcript: 'x'.repeat(300_000) });
  const [first] = await driver.store(context, [payload]);
  const [second] = await driver.store(context, [payload]);
  assert.deepEqual(first?.claimData, second?.claimData);
  assert.match(first?.claimData.sha256 ?? '', /^[a-f0-9]{64}$/);
  assert.deepEqual(readdirSync(join(root, 'a', 'default')), [first?.claimData.sha256], 'one file, no partial left over');
  const [read] = await driver.retrieve({}, [first!]);
  assert.deepEqual(defaultPayloadConverter.fromPayload(read!), { transcript: 'x'.repeat(300_000) });
});

test('a missing, corrupt or foreign claim fails with a clear error', async () => {
  const driver = new FolderStorageDriver(join(root, 'b'));
  const [claim] = await driver.store(context, [defaultPayloadConverter.toPayload('hello')]);
  const file = join(root, 'b', 'default', claim!.claimData.sha256!);
  writeFileSync(file, 'tampered');
  await assert.rejects(driver.retrieve({}, [claim!]), /corrupt/);
  rmSync(file);
  await assert.rejects(driver.retrieve({}, [claim!]), /is not in .*must share this folder/);
  await assert.rejects(driver.retrieve({}, [{ claimData: { namespace: '../etc', sha256: 'a'.repeat(64) } }]), /not a claim of this store/);
});

test('the sweep deletes files unused for the retention, and keeps the rest', async () => {
  const settings = { dir: join(root, 'c'), thresholdBytes: 1_024, retentionDays: 30 };
  const driver = new FolderStorageDriver(settings.dir);
  const [old, fresh] = await driver.store(context, [defaultPayloadConverter.toPayload('old'), defaultPayloadConverter.toPayload('fresh')]);
  const longAgo = new Date(Date.now() - 31 * 86_400_000);
  utimesSync(join(settings.dir, 'default', old!.claimData.sha256!), longAgo, longAgo);
  assert.equal(await sweepLargePayloads(settings), 1);
  assert.deepEqual(readdirSync(join(settings.dir, 'default')), [fresh?.claimData.sha256]);
});

test('a raw history payload is decoded through the reference, the codecs and the converter', async () => {
  const key = randomBytes(32).toString('base64');
  const settings = readSettings({ SWITCHYARD_HISTORY_KEYS: `k1:${key}`, SWITCHYARD_LARGE_PAYLOADS_DIR: join(root, 'd') });
  const converter = dataConverterFor(settings);
  assert.ok(converter?.payloadCodecs?.[0] && converter.externalStorage);
  // As the SDK writes it: converted, encrypted, then stored with a reference left in history.
  const [encrypted] = await converter.payloadCodecs[0].encode([defaultPayloadConverter.toPayload({ messages: ['a long transcript'] })]);
  const driver = converter.externalStorage.getDriver('switchyard-folder');
  assert.ok(driver && encrypted);
  const [claim] = await driver.store(context, [encrypted]);
  const reference = encodeReferencePayload({ driverName: driver.name, claim: claim!, sizeBytes: 100 });
  assert.deepEqual(await decodeHistoryPayload(reference, converter), { messages: ['a long transcript'] });
  await assert.rejects(decodeHistoryPayload(reference, undefined), /large-payload storage "switchyard-folder"/);
  assert.equal(readSettings({ SWITCHYARD_LARGE_PAYLOADS_DIR: 'off' }).largePayloads, undefined);
  assert.throws(() => readSettings({ SWITCHYARD_LARGE_PAYLOAD_BYTES: '12' }), /SWITCHYARD_LARGE_PAYLOAD_BYTES must be a whole number of at least 1024/);
});
