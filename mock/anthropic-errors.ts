import { randomUUID } from 'node:crypto';
import type { Response } from 'express';
import type { VendorErrorOptions } from './apply-fault';

/** Anthropic error options beyond the shared ones: the model, for 404s. */
export interface AnthropicErrorOptions extends VendorErrorOptions {
  model?: string;
}

/** Anthropic's error `type` and wording for each status, as its API documents them. */
function errorShape(status: number, model: string): { type: string; message: string } {
  switch (status) {
    case 400:
      return { type: 'invalid_request_error', message: 'Invalid request.' };
    case 401:
      return { type: 'authentication_error', message: 'invalid x-api-key' };
    case 403:
      return {
        type: 'permission_error',
        message: 'Your API key does not have permission to use the specified resource.',
      };
    case 404:
      return { type: 'not_found_error', message: `model: ${model}` };
    case 413:
      return { type: 'request_too_large', message: 'Request exceeds the maximum allowed number of bytes.' };
    case 429:
      return {
        type: 'rate_limit_error',
        message: 'This request would exceed the rate limit for your organization of requests per minute.',
      };
    case 504:
      return { type: 'timeout_error', message: 'Request timed out.' };
    case 529:
      return { type: 'overloaded_error', message: 'Overloaded' };
    default:
      return status >= 500
        ? { type: 'api_error', message: 'Internal server error' }
        : { type: 'invalid_request_error', message: `Request failed with status ${status}.` };
  }
}

/**
 * Answers with Anthropic's error body,
 * `{"type":"error","error":{"type","message"},"request_id"}`, a `request-id`
 * header and, when given, `retry-after` in seconds.
 */
export function sendAnthropicError(response: Response, status: number, options: AnthropicErrorOptions = {}): void {
  const shape = errorShape(status, options.model ?? 'unknown');
  const requestId = `req_mock${randomUUID().replaceAll('-', '')}`;
  response.setHeader('request-id', requestId);
  if (options.retryAfterSeconds !== undefined) response.setHeader('retry-after', String(options.retryAfterSeconds));
  response.status(status).json({
    type: 'error',
    error: { type: shape.type, message: options.message ?? shape.message },
    request_id: requestId,
  });
}
