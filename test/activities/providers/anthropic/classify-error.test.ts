import assert from 'node:assert/strict';
import { test } from 'node:test';
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from '@anthropic-ai/sdk';
import { classifyAnthropicError } from '../../../../activities/providers/anthropic/classify-error';
import { MalformedResponseError } from '../../../../activities/providers/classify-http-failure';
import { GatewayError, type FailureType } from '../../../../common/failure-types';

const CONTEXT = { providerId: 'anthropic-main', apiKey: 'sk-ant-fake-key-02', requestTimeoutMs: 30_000 };

/** The SDK's own error for an HTTP answer with Anthropic's `{type: 'error', error: {...}}` body. */
function httpError(
  status: number,
  error: { type: string; message: string; details?: Record<string, unknown> } | undefined,
  headers: Record<string, string> = {},
) {
  const body = error === undefined ? undefined : { type: 'error', error, request_id: 'req_1' };
  return APIError.generate(status, body, undefined, new Headers(headers));
}

function withCode(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

interface Row {
  name: string;
  error: unknown;
  type: FailureType;
  retryable: boolean;
  status?: number;
  retryAfterMs?: number;
  deadlineExceeded?: boolean;
  messageIncludes?: string;
}

const ROWS: Row[] = [
  { name: '400 invalid request', error: httpError(400, { type: 'invalid_request_error', message: 'messages: roles must alternate' }), type: 'InvalidRequest', retryable: false, status: 400, messageIncludes: 'roles must alternate' },
  { name: '400 "prompt is too long"', error: httpError(400, { type: 'invalid_request_error', message: 'prompt is too long: 215000 tokens > 200000 maximum' }), type: 'ContextTooLong', retryable: false, status: 400 },
  { name: '400 blocked by content filtering', error: httpError(400, { type: 'invalid_request_error', message: 'Output blocked by content filtering policy' }), type: 'ContentRefused', retryable: false, status: 400 },
  { name: '401 authentication error', error: httpError(401, { type: 'authentication_error', message: 'invalid x-api-key' }), type: 'AccessDenied', retryable: false, status: 401 },
  { name: '402 billing error', error: httpError(402, { type: 'billing_error', message: 'Your credit balance is too low.' }), type: 'AccessDenied', retryable: false, status: 402 },
  { name: '403 permission error', error: httpError(403, { type: 'permission_error', message: 'Your API key does not have permission to use the specified resource.' }), type: 'AccessDenied', retryable: false, status: 403 },
  { name: '404 model not found', error: httpError(404, { type: 'not_found_error', message: 'model: claude-retired' }), type: 'AccessDenied', retryable: false, status: 404 },
  { name: '413 request too large', error: httpError(413, { type: 'request_too_large', message: 'Request exceeds the maximum allowed number of bytes.' }), type: 'ContextTooLong', retryable: false, status: 413 },
  { name: '422 unprocessable', error: httpError(422, { type: 'invalid_request_error', message: 'bad' }), type: 'InvalidRequest', retryable: false, status: 422 },
  { name: '429 with retry-after seconds', error: httpError(429, { type: 'rate_limit_error', message: 'Number of requests has exceeded your rate limit' }, { 'retry-after': '12' }), type: 'RateLimited', retryable: true, status: 429, retryAfterMs: 12_000 },
  { name: '429 with retry-after-ms', error: httpError(429, { type: 'rate_limit_error', message: 'slow down' }, { 'retry-after-ms': '1500' }), type: 'RateLimited', retryable: true, status: 429, retryAfterMs: 1_500 },
  { name: '429 over a spending limit', error: httpError(429, { type: 'rate_limit_error', message: 'spend limit reached', details: { error_code: 'enforced_spend_limit_reached' } }), type: 'RateLimited', retryable: false, status: 429 },
  { name: '500 api error', error: httpError(500, { type: 'api_error', message: 'Internal server error' }), type: 'ProviderUnavailable', retryable: true, status: 500 },
  { name: '502 without a body', error: httpError(502, undefined), type: 'ProviderUnavailable', retryable: true, status: 502 },
  { name: '503 with retry-after', error: httpError(503, { type: 'api_error', message: 'unavailable' }, { 'retry-after': '4' }), type: 'ProviderUnavailable', retryable: true, status: 503, retryAfterMs: 4_000 },
  { name: '504 timeout error', error: httpError(504, { type: 'timeout_error', message: 'Request timed out' }), type: 'ProviderUnavailable', retryable: true, status: 504 },
  { name: '529 overloaded', error: httpError(529, { type: 'overloaded_error', message: 'Overloaded' }), type: 'ProviderUnavailable', retryable: true, status: 529, messageIncludes: 'Overloaded' },
  { name: 'connection refused', error: new APIConnectionError({ cause: new TypeError('fetch failed', { cause: withCode('connect ECONNREFUSED 127.0.0.1:1', 'ECONNREFUSED') }) }), type: 'ProviderUnavailable', retryable: true, messageIncludes: 'ECONNREFUSED' },
  { name: 'connection reset (socket hang up)', error: new APIConnectionError({ cause: withCode('socket hang up', 'ECONNRESET') }), type: 'ProviderUnavailable', retryable: true },
  { name: 'body cut mid-way', error: new TypeError('terminated', { cause: withCode('other side closed', 'UND_ERR_SOCKET') }), type: 'ProviderUnavailable', retryable: true },
  { name: 'SDK timeout', error: new APIConnectionTimeoutError(), type: 'Timeout', retryable: true },
  { name: 'abort by our deadline', error: new APIUserAbortError(), deadlineExceeded: true, type: 'Timeout', retryable: true },
  { name: 'abort by the caller', error: new APIUserAbortError(), type: 'Timeout', retryable: true },
  { name: 'a 200 body that is not JSON', error: new SyntaxError('Unexpected token < in JSON'), type: 'ProviderUnavailable', retryable: true },
  { name: 'a 200 body that is not a message', error: new MalformedResponseError('content: expected array'), type: 'ProviderUnavailable', retryable: true },
];

for (const row of ROWS) {
  test(`classifies ${row.name} as ${row.type}`, () => {
    const error = classifyAnthropicError(row.error, { ...CONTEXT, deadlineExceeded: row.deadlineExceeded ?? false });
    assert.ok(error instanceof GatewayError);
    assert.equal(error.type, row.type);
    assert.equal(error.retryable, row.retryable);
    assert.equal(error.status, row.status);
    assert.equal(error.retryAfterMs, row.retryAfterMs);
    assert.equal(error.provider, 'anthropic-main');
    assert.ok(error.message.startsWith('anthropic-main: '), error.message);
    if (row.messageIncludes) assert.ok(error.message.includes(row.messageIncludes), error.message);
  });
}

test('uses the vendor message, not the whole JSON body', () => {
  const error = classifyAnthropicError(httpError(529, { type: 'overloaded_error', message: 'Overloaded' }), CONTEXT);
  assert.equal(error.message, 'anthropic-main: unavailable (HTTP 529): Overloaded');
});

test('never repeats the key', () => {
  const error = classifyAnthropicError(
    httpError(401, { type: 'authentication_error', message: `invalid key ${CONTEXT.apiKey}` }),
    CONTEXT,
  );
  assert.ok(!error.message.includes(CONTEXT.apiKey), error.message);
});
