import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { FileStore } from '../../services/file-store';
import { AtRestCipher, UnreadableAtRestError } from '../../runtime/at-rest-cipher';

const root = mkdtempSync(join(tmpdir(), 'switchyard-file-store-'));
after(() => rmSync(root, { recursive: true, force: true }));

const cipher = new AtRestCipher([{ id: 'k1', key: randomBytes(32) }]);
const description = { filename: 'batch.jsonl', purpose: 'batch' } as const;

/** A store over its own folder whose clock the test moves. */
function storeAt(name: string, options: { seconds: number; sealed?: boolean }) {
  const clock = { now: 1_700_000_000_000 };
  const store = new FileStore(join(root, name), { retentionSeconds: options.seconds, now: () => clock.now, cipher: options.sealed ? cipher : undefined });
  return { store, clock };
}

test('a file expires retentionSeconds after it was made: until then it reads, from then on it is missing and deleted', () => {
  const { store, clock } = storeAt('expiry', { seconds: 60 });
  const file = store.create('alpha', 'line\n', description);
  assert.equal(file.expires_at, file.created_at + 60);

  clock.now += 59_999;
  assert.equal(store.readContent('alpha', file.id)?.toString('utf8'), 'line\n');
  assert.deepEqual(store.list('alpha').map((listed) => listed.id), [file.id]);

  clock.now += 1;
  assert.equal(store.get('alpha', file.id), undefined);
  assert.equal(store.readContent('alpha', file.id), undefined);
  assert.deepEqual(store.list('alpha'), []);
  assert.deepEqual(readdirSync(join(store.root, 'alpha')), [], 'content and description are deleted');
});

test('sweeping deletes every tenant’s expired files and keeps the rest', () => {
  const { store, clock } = storeAt('sweep', { seconds: 100 });
  const old = store.create('alpha', 'old\n', description);
  store.create('beta', 'old\n', description);
  clock.now += 50_000;
  const fresh = store.create('alpha', 'fresh\n', description);
  clock.now += 50_000;
  assert.equal(store.sweepExpired(), 2);
  assert.equal(store.get('alpha', old.id), undefined);
  assert.deepEqual(store.list('alpha').map((listed) => listed.id), [fresh.id]);
  assert.deepEqual(store.list('beta'), []);
});

test('a file written before expiry existed (expires_at null) takes the retention from its creation', () => {
  const { store, clock } = storeAt('legacy', { seconds: 10 });
  const file = store.create('alpha', 'line\n', description);
  const path = join(store.root, 'alpha', `${file.id}.json`);
  writeFileSync(path, JSON.stringify({ ...file, expires_at: null }));
  assert.equal(store.get('alpha', file.id)?.expires_at, file.created_at + 10);
  clock.now += 10_000;
  assert.equal(store.get('alpha', file.id), undefined);
  assert.equal(existsSync(path), false);
});

test('with a cipher the content on disk is sealed, reads back as written, and does not open under another tenant', () => {
  const { store } = storeAt('sealed', { seconds: 60, sealed: true });
  const file = store.create('alpha', 'canary-123\n', description);
  const onDisk = readFileSync(join(store.root, 'alpha', `${file.id}.jsonl`));
  assert.equal(onDisk.includes('canary-123'), false);
  assert.equal(file.bytes, Buffer.byteLength('canary-123\n'), 'the size is the plaintext size');
  assert.equal(store.readContent('alpha', file.id)?.toString('utf8'), 'canary-123\n');

  // Copied into another tenant's folder under the same id, it does not authenticate.
  const copy = store.create('beta', 'placeholder\n', { ...description, id: file.id });
  writeFileSync(join(store.root, 'beta', `${copy.id}.jsonl`), onDisk);
  assert.throws(() => store.readContent('beta', copy.id), UnreadableAtRestError);
});

test('adopting an upload seals it and leaves no plaintext temporary file behind', () => {
  const { store } = storeAt('adopt', { seconds: 60, sealed: true });
  const temporary = join(store.uploadsFolder(), 'upload-1');
  writeFileSync(temporary, 'canary-456\n');
  const file = store.adopt('alpha', temporary, description);
  assert.equal(existsSync(temporary), false);
  assert.equal(readFileSync(join(store.root, 'alpha', `${file.id}.jsonl`)).includes('canary-456'), false);
  assert.equal(store.readContent('alpha', file.id)?.toString('utf8'), 'canary-456\n');
});

test('without a cipher adopting an upload moves it in as it is', () => {
  const { store } = storeAt('plain', { seconds: 60 });
  const temporary = join(store.uploadsFolder(), 'upload-1');
  writeFileSync(temporary, 'plain\n');
  const file = store.adopt('alpha', temporary, description);
  assert.equal(existsSync(temporary), false);
  assert.equal(readFileSync(join(store.root, 'alpha', `${file.id}.jsonl`), 'utf8'), 'plain\n');
  assert.equal(file.bytes, 6);
});

test('a batch page file written through the store is sealed on disk and reads back', () => {
  const { store } = storeAt('pages', { seconds: 60, sealed: true });
  const path = join(store.uploadsFolder(), 'page-000000.out.jsonl');
  store.writePrivate(path, 'canary-789\n');
  assert.equal(readFileSync(path).includes('canary-789'), false);
  assert.equal(store.readPrivate(path), 'canary-789\n');
});
