import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from '@anthropic-ai/sdk';
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

const CONTENT_REFUSED_PATTERN = /content filtering|content policy|usage polic|safety/i;
// Spending limits behave like an exhausted quota: Retry-After will not lift them.
const QUOTA_ERROR_CODES = new Set(['contract_spend_limit_reached', 'enforced_spend_limit_reached']);

/**
 * The one classifier for the Anthropic Messages API: any error the SDK or the
 * adapter throws → a canonical GatewayError. Anthropic's body is
 * `{type: 'error', error: {type, message, details?}}`; 529 is "overloaded".
 */
export function classifyAnthropicError(error: unknown, context: FailureContext): GatewayError {
  // Subclasses first: the timeout and abort errors are APIConnectionErrors too.
  if (error instanceof APIConnectionTimeoutError) return timeoutFailure(context);
  if (error instanceof APIUserAbortError) return abortFailure(context);
  if (error instanceof APIConnectionError) return connectionFailure(error, context);
  // An `event: error` inside a stream has no status of its own: read one from its type.
  const status = error instanceof APIError ? (error.status ?? statusOfStreamError(error.type, error.errorCode)) : undefined;
  if (error instanceof APIError && status !== undefined) {
    const message = error.apiMessage ?? error.message;
    return classifyHttpFailure(
      {
        status,
        headers: error.headers,
        vendorMessage: message,
        contextTooLong: CONTEXT_TOO_LONG_PATTERN.test(message),
        contentRefused: CONTENT_REFUSED_PATTERN.test(message),
        quotaExhausted: error.type === 'billing_error' || (error.errorCode !== null && QUOTA_ERROR_CODES.has(error.errorCode)),
      },
      context,
    );
  }
  return classifyTransportFailure(error, context);
}
