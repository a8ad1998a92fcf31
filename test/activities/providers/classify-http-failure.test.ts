import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRetryAfterMs, scrubSecrets } from '../../../activities/providers/classify-http-failure';

const NOW = Date.parse('2026-01-01T00:00:00Z');

const RETRY_AFTER_ROWS: { name: string; headers: Record<string, string>; expected: number | undefined }[] = [
  { name: 'delta-seconds', headers: { 'retry-after': '5' }, expected: 5_000 },
  { name: 'fractional seconds', headers: { 'retry-after': '0.25' }, expected: 250 },
  { name: 'an HTTP date', headers: { 'retry-after': 'Thu, 01 Jan 2026 00:00:30 GMT' }, expected: 30_000 },
  { name: 'an HTTP date in the past', headers: { 'retry-after': 'Wed, 31 Dec 2025 23:59:00 GMT' }, expected: 0 },
  { name: 'retry-after-ms, which wins over retry-after', headers: { 'retry-after-ms': '120', 'retry-after': '5' }, expected: 120 },
  { name: 'an unreadable retry-after-ms, falling back to retry-after', headers: { 'retry-after-ms': 'soon', 'retry-after': '2' }, expected: 2_000 },
  { name: 'an unreadable value', headers: { 'retry-after': 'later' }, expected: undefined },
  { name: 'no header', headers: {}, expected: undefined },
];

for (const row of RETRY_AFTER_ROWS) {
  test(`reads Retry-After given as ${row.name}`, () => {
    assert.equal(parseRetryAfterMs(new Headers(row.headers), NOW), row.expected);
  });
}

test('reads no Retry-After when there are no headers at all', () => {
  assert.equal(parseRetryAfterMs(undefined, NOW), undefined);
});

test('scrubs the key in use, key-shaped strings and bearer tokens', () => {
  const scrubbed = scrubSecrets('key my-own-secret-key, sk-proj-abc123XYZ, header Bearer abc.def', 'my-own-secret-key');
  assert.equal(scrubbed, 'key [redacted], [redacted], header Bearer [redacted]');
});
