import { randomUUID } from 'node:crypto';
import type { Response } from 'express';
import type { VendorErrorOptions } from './apply-fault';

/** OpenAI error options beyond the shared ones: the model (for 404s) and the offending parameter. */
export interface OpenAiErrorOptions extends VendorErrorOptions {
  model?: string;
  param?: string;
  /** Overrides the status's usual code; null for none. */
  code?: string | null;
}

interface ErrorShape {
  type: string;
  code: string | null;
  message: string;
}

/** OpenAI's error `type`, `code` and wording for each status, as its API documents them. */
function errorShape(status: number, model: string): ErrorShape {
  switch (status) {
    case 400:
      return { type: 'invalid_request_error', code: null, message: 'Invalid request.' };
    case 401:
      return { type: 'invalid_request_error', code: 'invalid_api_key', message: 'Incorrect API key provided.' };
    case 403:
      return {
        type: 'invalid_request_error',
        code: 'permission_denied',
        message: 'You are not allowed to use this model.',
      };
    case 404:
      return {
        type: 'invalid_request_error',
        code: 'model_not_found',
        message: `The model \`${model}\` does not exist or you do not have access to it.`,
      };
    case 429:
      return {
        type: 'requests',
        code: 'rate_limit_exceeded',
        message: `Rate limit reached for ${model} on requests per min (RPM).`,
      };
    case 503:
      return {
        type: 'server_error',
        code: null,
        message: 'The engine is currently overloaded, please try again later.',
      };
    default:
      return status >= 500
        ? {
            type: 'server_error',
            code: null,
            message: 'The server had an error while processing your request. Sorry about that!',
          }
        : { type: 'invalid_request_error', code: null, message: `Request failed with status ${status}.` };
  }
}

/**
 * Answers with OpenAI's error body,
 * `{"error":{"message","type","param","code"}}`, an `x-request-id` header
 * and, when given, `retry-after` in seconds.
 */
export function sendOpenAiError(response: Response, status: number, options: OpenAiErrorOptions = {}): void {
  const shape = errorShape(status, options.model ?? 'unknown');
  response.setHeader('x-request-id', `req_${randomUUID().replaceAll('-', '')}`);
  if (options.retryAfterSeconds !== undefined) response.setHeader('retry-after', String(options.retryAfterSeconds));
  response.status(status).json({
    error: {
      message: options.message ?? shape.message,
      type: shape.type,
      param: options.param ?? null,
      code: options.code === undefined ? shape.code : options.code,
    },
  });
}
