import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toApplicationFailure } from '../../activities/to-application-failure';
import { GatewayError, type FailureType } from '../../common/failure-types';

const rows: { name: string; error: unknown; attempt: number; nonRetryable: boolean; type: FailureType; delayMs?: number; failoverAtOnce?: boolean }[] = [
  { name: '5xx retries', error: new GatewayError('ProviderUnavailable', 'x'), attempt: 1, nonRetryable: false, type: 'ProviderUnavailable' },
  { name: '401 never retries', error: new GatewayError('AccessDenied', 'x'), attempt: 1, nonRetryable: true, type: 'AccessDenied' },
  { name: 'invalid request never retries', error: new GatewayError('InvalidRequest', 'x'), attempt: 1, nonRetryable: true, type: 'InvalidRequest' },
  { name: 'invalid output never retries', error: new GatewayError('InvalidOutput', 'x'), attempt: 1, nonRetryable: true, type: 'InvalidOutput' },
  { name: 'first timeout retries', error: new GatewayError('Timeout', 'x'), attempt: 1, nonRetryable: false, type: 'Timeout' },
  { name: 'second timeout falls over', error: new GatewayError('Timeout', 'x'), attempt: 2, nonRetryable: true, type: 'Timeout' },
  { name: '429 waits Retry-After', error: new GatewayError('RateLimited', 'x', { retryAfterMs: 2_000 }), attempt: 1, nonRetryable: false, type: 'RateLimited', delayMs: 2_000 },
  { name: '429 without Retry-After uses the backoff', error: new GatewayError('RateLimited', 'x'), attempt: 1, nonRetryable: false, type: 'RateLimited' },
  { name: '429 beyond the allowed wait falls over', error: new GatewayError('RateLimited', 'x', { retryAfterMs: 60_000 }), attempt: 1, nonRetryable: true, type: 'RateLimited' },
  { name: 'an unexpected error counts as unavailable', error: new TypeError('boom'), attempt: 1, nonRetryable: false, type: 'ProviderUnavailable' },
  // Another model follows: an outage answer moves on, a brief transient is still retried.
  { name: 'failover at once: a 503 is not retried', error: new GatewayError('ProviderUnavailable', 'x', { status: 503 }), attempt: 1, nonRetryable: true, type: 'ProviderUnavailable', failoverAtOnce: true },
  { name: 'failover at once: a 429 is not waited out', error: new GatewayError('RateLimited', 'x', { status: 429, retryAfterMs: 1_000 }), attempt: 1, nonRetryable: true, type: 'RateLimited', failoverAtOnce: true },
  { name: 'failover at once: a first timeout is not retried', error: new GatewayError('Timeout', 'x'), attempt: 1, nonRetryable: true, type: 'Timeout', failoverAtOnce: true },
  { name: 'failover at once: a reset connection is still retried', error: new GatewayError('ProviderUnavailable', 'x'), attempt: 1, nonRetryable: false, type: 'ProviderUnavailable', failoverAtOnce: true },
  { name: 'failover at once: a 409 is still retried', error: new GatewayError('ProviderUnavailable', 'x', { status: 409 }), attempt: 1, nonRetryable: false, type: 'ProviderUnavailable', failoverAtOnce: true },
  { name: 'the last model retries a 503', error: new GatewayError('ProviderUnavailable', 'x', { status: 503 }), attempt: 1, nonRetryable: false, type: 'ProviderUnavailable', failoverAtOnce: false },
];

for (const row of rows) {
  test(`${row.name}`, () => {
    const failure = toApplicationFailure(row.error, 10_000, row.attempt, row.failoverAtOnce);
    assert.equal(failure.type, row.type);
    assert.equal(failure.nonRetryable, row.nonRetryable);
    if (row.delayMs === undefined) assert.equal(failure.nextRetryDelay, undefined);
    else assert.equal(failure.nextRetryDelay, row.delayMs);
    assert.equal((failure.details?.[0] as { attempt: number }).attempt, row.attempt);
  });
}
