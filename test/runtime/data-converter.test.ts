import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
// The SDK's own encode/decode of failures, as the worker and client run them.
import { decodeOptionalFailureToOptionalError, encodeErrorToFailure, loadDataConverter } from '@temporalio/common/lib/internal-non-workflow';
import { dataConverterFor } from '../../runtime/data-converter';

const withKeys = dataConverterFor({ historyKeys: [{ id: 'k1', key: randomBytes(32) }], largePayloads: undefined });

test('with history keys, a failure keeps no readable message or stack, and the same converter reads them back', async () => {
  assert.ok(withKeys);
  const converter = loadDataConverter(withKeys);
  const error = ApplicationFailure.create({ type: 'InvalidRequest', message: 'vendor echoed the prompt: secret-canary-9f', nonRetryable: true });
  const failure = await encodeErrorToFailure(converter, error);
  assert.equal(failure.message, 'Encoded failure');
  assert.equal(failure.stackTrace, '');
  const stored = JSON.stringify(failure, (_key, value: unknown) => (value instanceof Uint8Array ? Buffer.from(value).toString('utf8') : value));
  assert.ok(!stored.includes('secret-canary-9f'), stored);
  const decoded = await decodeOptionalFailureToOptionalError(converter, failure);
  assert.ok(decoded instanceof ApplicationFailure);
  assert.equal(decoded.message, 'vendor echoed the prompt: secret-canary-9f');
  assert.equal(decoded.type, 'InvalidRequest');
});

test('without history keys, failures stay as Temporal stores them by default', async () => {
  const converter = loadDataConverter(dataConverterFor({ historyKeys: [], largePayloads: undefined }));
  const failure = await encodeErrorToFailure(converter, ApplicationFailure.create({ message: 'plain' }));
  assert.equal(failure.message, 'plain');
});
