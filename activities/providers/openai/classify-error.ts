import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import type { GatewayError } from '../../../common/failure-types';
import {
  CONTEXT_TOO_LONG_PATTERN,
  abortFailure,
  classifyHttpFailure,
  classifyTransportFailure,
  connectionFailure,
  statusOfStreamError,
  timeoutFailure,
  type FailureContext,
} from '../classify-http-failure';

const CONTEXT_TOO_LONG_CODES = new Set(['context_length_exceeded', 'string_above_max_length']);
// `content_filter` is Azure OpenAI's code; `invalid_prompt` is OpenAI's "flagged as violating our usage policy".
const CONTENT_REFUSED_CODES = new Set(['content_policy_violation', 'content_filter', 'invalid_prompt']);
const CONTENT_REFUSED_PATTERN = /content (management )?policy|usage polic|safety system|content filter/i;

/**
 * The one classifier for OpenAI Chat Completions (and servers that speak it):
 * any error the SDK or the adapter throws → a canonical GatewayError.
 */
export function classifyOpenAiError(error: unknown, context: FailureContext): GatewayError {
  // Subclasses first: the timeout and abort errors are APIConnectionErrors too.
  if (error instanceof APIConnectionTimeoutError) return timeoutFailure(context);
  if (error instanceof APIUserAbortError) return abortFailure(context);
  if (error instanceof APIConnectionError) return connectionFailure(error, context);
  // An error event inside a stream has no status of its own: read one from its type and code.
  const status = error instanceof APIError ? (error.status ?? statusOfStreamError(error.type, error.code)) : undefined;
  if (error instanceof APIError && status !== undefined) {
    const body = readErrorBody(error.error);
    const code = error.code ?? body.code;
    const message = body.message ?? error.message;
    return classifyHttpFailure(
      {
        status,
        headers: error.headers,
        vendorMessage: message,
        contextTooLong: (code !== undefined && CONTEXT_TOO_LONG_CODES.has(code)) || CONTEXT_TOO_LONG_PATTERN.test(message),
        contentRefused: (code !== undefined && CONTENT_REFUSED_CODES.has(code)) || CONTENT_REFUSED_PATTERN.test(message),
        quotaExhausted: code === 'insufficient_quota' || error.type === 'insufficient_quota',
      },
      context,
    );
  }
  return classifyTransportFailure(error, context);
}

/** OpenAI's `{error: {message, type, code}}`; compatible servers vary (numeric codes, missing fields). */
function readErrorBody(body: unknown): { message: string | undefined; code: string | undefined } {
  if (body === null || typeof body !== 'object') return { message: undefined, code: undefined };
  const { message, code } = body as { message?: unknown; code?: unknown };
  return {
    message: typeof message === 'string' ? message : undefined,
    code: typeof code === 'string' ? code : undefined,
  };
}
