import { ApplicationFailure } from '@temporalio/common';
import { GatewayError } from '../common/failure-types';

/** Non-secret facts about a failed try, readable by the workflow and in the UI. */
export interface FailureDetails {
  provider: string | undefined;
  status: number | undefined;
  retryAfterMs: number | undefined;
  /** Temporal's attempt number of the try that failed (1-based). */
  attempt: number;
  /** Prompt- or output-derived text kept out of the message (see `GatewayError.excerpt`). */
  excerpt?: string;
}

/**
 * The one place a `GatewayError` becomes an `ApplicationFailure`: the type is
 * the canonical failure type, and retrying is decided here per the design:
 * `Timeout` is retried once at most, a `Retry-After` longer than the provider
 * allows falls over at once, and Temporal waits exactly the Retry-After.
 * With `failoverAtOnce` (another model follows in the chain), an answer that
 * says the provider is down or throttling — a 5xx, a 429, a timeout — is not
 * retried here at all: the next model is asked at once, and only brief
 * transients (a refused or reset connection, a malformed body, a 409) keep
 * the provider's retries.
 */
export function toApplicationFailure(error: unknown, maxRetryAfterMs: number, attempt: number, failoverAtOnce = false): ApplicationFailure {
  const gatewayError =
    error instanceof GatewayError
      ? error
      : new GatewayError('ProviderUnavailable', `unexpected adapter error: ${describe(error)}`, { retryable: true });
  let nonRetryable = !gatewayError.retryable;
  if (gatewayError.type === 'Timeout' && attempt >= 2) nonRetryable = true;
  if (failoverAtOnce && isOutageAnswer(gatewayError)) nonRetryable = true;
  const retryAfterMs = gatewayError.type === 'RateLimited' ? gatewayError.retryAfterMs : undefined;
  if (retryAfterMs !== undefined && retryAfterMs > maxRetryAfterMs) nonRetryable = true;
  const details: FailureDetails = {
    provider: gatewayError.provider,
    status: gatewayError.status,
    retryAfterMs,
    attempt,
    ...(gatewayError.excerpt === undefined ? {} : { excerpt: gatewayError.excerpt }),
  };
  return ApplicationFailure.create({
    type: gatewayError.type,
    message: gatewayError.message,
    nonRetryable,
    details: [details],
    // Zero would mean "use the backoff"; the SDK needs a positive delay.
    nextRetryDelay: retryAfterMs !== undefined && !nonRetryable ? Math.max(retryAfterMs, 1) : undefined,
  });
}

/** The provider said it is down, overloaded or throttling, or did not answer in time: not a blip a retry rides out. */
function isOutageAnswer(error: GatewayError): boolean {
  if (error.type === 'RateLimited' || error.type === 'Timeout') return true;
  return error.type === 'ProviderUnavailable' && error.status !== undefined && error.status >= 500;
}

function describe(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`.slice(0, 300);
  return String(error).slice(0, 300);
}
