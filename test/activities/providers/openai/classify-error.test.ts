import assert from 'node:assert/strict';
import { test } from 'node:test';
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import { MalformedResponseError } from '../../../../activities/providers/classify-http-failure';
import { classifyOpenAiError } from '../../../../activities/providers/openai/classify-error';
import { GatewayError, type FailureType } from '../../../../common/failure-types';

const CONTEXT = { providerId: 'openai-main', apiKey: 'sk-live-abcdefghijklmnop', requestTimeoutMs: 30_000 };

/** The SDK's own error for an HTTP answer, built the way the SDK builds it. */
function httpError(status: number, error: Record<string, unknown> | string | undefined, headers: Record<string, string> = {}) {
  return APIError.generate(status, error === undefined ? undefined : { error }, undefined, new Headers(headers));
}

function body(message: string, code: string | number | null = null, type = 'invalid_request_error') {
  return { message, type, param: null, code };
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

const inOneMinute = new Date(Date.now() + 60_000).toUTCString();

const ROWS: Row[] = [
  { name: '400 invalid value', error: httpError(400, body("Invalid value for 'temperature'", 'invalid_value')), type: 'InvalidRequest', retryable: false, status: 400 },
  { name: '400 context_length_exceeded code', error: httpError(400, body('too long', 'context_length_exceeded')), type: 'ContextTooLong', retryable: false, status: 400 },
  { name: '400 "maximum context length" without a code (vLLM)', error: httpError(400, body("This model's maximum context length is 4096 tokens.", 400, 'BadRequestError')), type: 'ContextTooLong', retryable: false, status: 400 },
  { name: '400 exceed_context_size (llama.cpp)', error: httpError(400, body('the request exceeds the available context size, try increasing it', 400, 'exceed_context_size_error')), type: 'ContextTooLong', retryable: false, status: 400 },
  { name: '400 content_policy_violation', error: httpError(400, body('Your request was rejected as a result of our safety system.', 'content_policy_violation')), type: 'ContentRefused', retryable: false, status: 400 },
  { name: '400 invalid_prompt flagged by usage policy', error: httpError(400, body('Invalid prompt: your prompt was flagged as potentially violating our usage policy.', 'invalid_prompt')), type: 'ContentRefused', retryable: false, status: 400 },
  { name: '401 invalid key', error: httpError(401, body('Incorrect API key provided: sk-live-abcdefghijklmnop.', 'invalid_api_key')), type: 'AccessDenied', retryable: false, status: 401 },
  { name: '403 unsupported region', error: httpError(403, body('Country, region, or territory not supported', 'unsupported_country_region_territory')), type: 'AccessDenied', retryable: false, status: 403 },
  { name: '404 model not found', error: httpError(404, body('The model `gpt-retired` does not exist or you do not have access to it.', 'model_not_found')), type: 'AccessDenied', retryable: false, status: 404 },
  { name: '408 request timeout', error: httpError(408, body('Request timed out.')), type: 'Timeout', retryable: true, status: 408 },
  { name: '409 conflict', error: httpError(409, body('Conflict')), type: 'ProviderUnavailable', retryable: true, status: 409 },
  { name: '413 request too large', error: httpError(413, undefined), type: 'ContextTooLong', retryable: false, status: 413 },
  { name: '422 unprocessable', error: httpError(422, body('Unprocessable')), type: 'InvalidRequest', retryable: false, status: 422 },
  { name: '429 with retry-after seconds', error: httpError(429, body('Rate limit reached', 'rate_limit_exceeded', 'requests'), { 'retry-after': '3' }), type: 'RateLimited', retryable: true, status: 429, retryAfterMs: 3_000 },
  { name: '429 with retry-after-ms', error: httpError(429, body('Rate limit reached', 'rate_limit_exceeded'), { 'retry-after-ms': '250', 'retry-after': '9' }), type: 'RateLimited', retryable: true, status: 429, retryAfterMs: 250 },
  { name: '429 without retry headers', error: httpError(429, body('Rate limit reached', 'rate_limit_exceeded')), type: 'RateLimited', retryable: true, status: 429 },
  { name: '429 insufficient_quota', error: httpError(429, body('You exceeded your current quota.', 'insufficient_quota', 'insufficient_quota')), type: 'RateLimited', retryable: false, status: 429 },
  { name: '500 server error', error: httpError(500, body('The server had an error', null, 'server_error')), type: 'ProviderUnavailable', retryable: true, status: 500 },
  { name: '502 bad gateway without a body', error: httpError(502, undefined), type: 'ProviderUnavailable', retryable: true, status: 502 },
  { name: '503 with retry-after', error: httpError(503, body('Service unavailable', null, 'server_error'), { 'retry-after': '2' }), type: 'ProviderUnavailable', retryable: true, status: 503, retryAfterMs: 2_000 },
  { name: '504 gateway timeout', error: httpError(504, undefined), type: 'ProviderUnavailable', retryable: true, status: 504 },
  { name: '529 overloaded', error: httpError(529, body('overloaded', null, 'server_error')), type: 'ProviderUnavailable', retryable: true, status: 529 },
  { name: 'connection refused', error: new APIConnectionError({ cause: new TypeError('fetch failed', { cause: withCode('connect ECONNREFUSED 127.0.0.1:1', 'ECONNREFUSED') }) }), type: 'ProviderUnavailable', retryable: true, messageIncludes: 'ECONNREFUSED' },
  { name: 'connection reset (socket hang up)', error: new APIConnectionError({ cause: withCode('socket hang up', 'ECONNRESET') }), type: 'ProviderUnavailable', retryable: true, messageIncludes: 'ECONNRESET' },
  { name: 'body cut mid-way', error: new TypeError('terminated', { cause: withCode('other side closed', 'UND_ERR_SOCKET') }), type: 'ProviderUnavailable', retryable: true },
  { name: 'SDK timeout', error: new APIConnectionTimeoutError(), type: 'Timeout', retryable: true, messageIncludes: '30000 ms' },
  { name: 'abort by our deadline', error: new APIUserAbortError(), deadlineExceeded: true, type: 'Timeout', retryable: true },
  { name: 'abort by the caller', error: new APIUserAbortError(), type: 'Timeout', retryable: true, messageIncludes: 'aborted' },
  { name: 'abort while reading the body', error: new DOMException('This operation was aborted', 'AbortError'), deadlineExceeded: true, type: 'Timeout', retryable: true },
  { name: 'a 200 body that is not JSON', error: new SyntaxError('Unexpected end of JSON input'), type: 'ProviderUnavailable', retryable: true, messageIncludes: 'malformed' },
  { name: 'a 200 body without choices', error: new MalformedResponseError('choices: expected array'), type: 'ProviderUnavailable', retryable: true, messageIncludes: 'malformed' },
  { name: 'an unexpected error', error: new RangeError('boom'), type: 'ProviderUnavailable', retryable: true, messageIncludes: 'RangeError: boom' },
];

for (const row of ROWS) {
  test(`classifies ${row.name} as ${row.type}`, () => {
    const error = classifyOpenAiError(row.error, { ...CONTEXT, deadlineExceeded: row.deadlineExceeded ?? false });
    assert.ok(error instanceof GatewayError);
    assert.equal(error.type, row.type);
    assert.equal(error.retryable, row.retryable);
    assert.equal(error.status, row.status);
    assert.equal(error.retryAfterMs, row.retryAfterMs);
    assert.equal(error.provider, 'openai-main');
    assert.ok(error.message.startsWith('openai-main: '), error.message);
    assert.ok(!error.message.includes(CONTEXT.apiKey), error.message);
    if (row.messageIncludes) assert.ok(error.message.includes(row.messageIncludes), error.message);
  });
}

test('reads a Retry-After HTTP date as the time left until then', () => {
  const error = classifyOpenAiError(httpError(429, body('slow down'), { 'retry-after': inOneMinute }), CONTEXT);
  assert.equal(error.type, 'RateLimited');
  assert.ok(error.retryAfterMs !== undefined && error.retryAfterMs > 50_000 && error.retryAfterMs <= 60_000, String(error.retryAfterMs));
});

test('includes the vendor message, trimmed to about 300 characters', () => {
  const error = classifyOpenAiError(httpError(400, body(`Bad request: ${'x'.repeat(1_000)}`)), CONTEXT);
  assert.ok(error.message.includes('Bad request: xxx'));
  assert.ok(error.message.length < 400, String(error.message.length));
});

test('never repeats the key or anything shaped like one', () => {
  const error = classifyOpenAiError(
    httpError(401, body('Incorrect API key provided: sk-proj-****wxyz; also sk-live-abcdefghijklmnop', 'invalid_api_key')),
    CONTEXT,
  );
  assert.ok(!error.message.includes('sk-'), error.message);
  assert.ok(error.message.includes('[redacted]'));
});

test('passes a GatewayError through unchanged', () => {
  const original = new GatewayError('InvalidOutput', 'bad JSON', { provider: 'openai-main' });
  assert.equal(classifyOpenAiError(original, CONTEXT), original);
});
