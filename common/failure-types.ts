// Runs in the workflow sandbox: deterministic, no I/O.

/**
 * The canonical failure types. Every adapter maps its vendor's errors onto
 * these; the workflow decides retry / fall over / stop on the type alone.
 */
export const FAILURE_TYPES = [
  'RateLimited',
  'ProviderUnavailable',
  'Timeout',
  'AccessDenied',
  'ContextTooLong',
  'ContentRefused',
  'InvalidOutput',
  'InvalidRequest',
  /** A streamed answer failed after part of it reached the caller; it cannot be retried or handed to another model. */
  'StreamInterrupted',
  /** The provider's shared circuit breaker is open: skipped without a call. */
  'BreakerOpen',
  /** A budget the request counts against cannot cover the attempt's worst case: skipped without a call. */
  'BudgetExceeded',
] as const;
export type FailureType = (typeof FAILURE_TYPES)[number];

export function isFailureType(value: unknown): value is FailureType {
  return typeof value === 'string' && (FAILURE_TYPES as readonly string[]).includes(value);
}

/**
 * Types that a retry of the same model cannot fix. They are listed in every
 * provider activity's `nonRetryableErrorTypes`, so Temporal never retries them
 * even if an adapter forgets to mark them.
 */
export const NON_RETRYABLE_FAILURE_TYPES: readonly FailureType[] = [
  'AccessDenied',
  'ContextTooLong',
  'ContentRefused',
  'InvalidOutput',
  'InvalidRequest',
  'StreamInterrupted',
  'BreakerOpen',
];

/**
 * Types that say the provider is unwell (not that the request was wrong):
 * they open breakers and lower a model's observed success rate.
 */
export const PROVIDER_HEALTH_FAILURE_TYPES: readonly FailureType[] = ['RateLimited', 'ProviderUnavailable', 'Timeout', 'AccessDenied'];

/**
 * Types after which no other model is tried: the request itself is wrong,
 * or the caller already holds part of a streamed answer.
 */
export const STOP_CHAIN_FAILURE_TYPES: readonly FailureType[] = ['InvalidRequest', 'StreamInterrupted'];

/**
 * How a refusal for want of a model begins, in the API's check and in the
 * workflow's own (an `InvalidRequest`): the API answers either with
 * `no_eligible_model`.
 */
export const NO_ELIGIBLE_MODEL_MESSAGE = 'no configured model may serve this request';

/**
 * A provider failure with everything the workflow needs to decide.
 * Thrown by adapters; turned into an `ApplicationFailure` at the activity
 * boundary (class identity does not survive serialization).
 */
export class GatewayError extends Error {
  readonly type: FailureType;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;
  readonly provider: string | undefined;
  readonly status: number | undefined;
  /**
   * Prompt- or output-derived text that helps debugging (e.g. the start of an
   * output that is not JSON). It travels in the failure's details, which the
   * history codec encrypts, never in the message.
   */
  readonly excerpt: string | undefined;

  constructor(
    type: FailureType,
    message: string,
    options: { retryable?: boolean; retryAfterMs?: number; provider?: string; status?: number; excerpt?: string; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GatewayError';
    this.type = type;
    this.retryable = options.retryable ?? !NON_RETRYABLE_FAILURE_TYPES.includes(type);
    this.retryAfterMs = options.retryAfterMs;
    this.provider = options.provider;
    this.status = options.status;
    this.excerpt = options.excerpt;
  }
}
