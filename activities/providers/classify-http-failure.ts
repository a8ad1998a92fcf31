import type { CallDeadline } from './call-deadline';
import type { AdapterSettings } from './model-adapter';
import { GatewayError, type FailureType } from '../../common/failure-types';

/**
 * The vendor-neutral half of error classification, shared by every adapter's
 * classifier: the status → failure-type table, Retry-After parsing, transport
 * failures (refused, reset, cut, aborted) and message hygiene.
 */

/** What a classifier knows about the call that failed. */
export interface FailureContext {
  /** Provider id from config, named in every message. */
  providerId: string;
  /** The key in use, scrubbed from any message that might echo it. */
  apiKey?: string | undefined;
  /** The adapter's own deadline passed: an abort is then a Timeout. */
  deadlineExceeded?: boolean;
  /** The per-call timeout, named in Timeout messages. */
  requestTimeoutMs?: number;
}

/** What a vendor classifier reads out of one HTTP error response. */
export interface HttpFailureFacts {
  status: number;
  headers: Headers | undefined;
  /** The vendor's own message (trimmed and scrubbed here). */
  vendorMessage: string | undefined;
  /** The vendor said the prompt does not fit the model's window. */
  contextTooLong: boolean;
  /** The vendor blocked the request on content policy. */
  contentRefused: boolean;
  /** The account is out of quota: waiting for Retry-After will not help. */
  quotaExhausted?: boolean;
}

/** The provider answered 200 with a body we cannot read. */
export class MalformedResponseError extends Error {
  constructor(detail: string) {
    super(detail);
    this.name = 'MalformedResponseError';
  }
}

/** Vendor messages are kept short: they travel in Temporal failures and logs. */
export const MAX_VENDOR_MESSAGE_CHARS = 300;

const SUMMARIES: Record<FailureType, string> = {
  RateLimited: 'rate limited',
  ProviderUnavailable: 'unavailable',
  Timeout: 'timed out',
  AccessDenied: 'access denied',
  ContextTooLong: 'prompt exceeds the context window',
  ContentRefused: 'refused by content policy',
  InvalidOutput: 'returned invalid output',
  InvalidRequest: 'rejected the request',
  StreamInterrupted: 'broke off a stream',
  BreakerOpen: 'skipped: breaker open',
  BudgetExceeded: 'skipped: over budget',
};

/** Matches vendor wording for "the prompt is longer than the model's window". */
export const CONTEXT_TOO_LONG_PATTERN =
  /maximum context length|context length|context window|context size|prompt is too long|too many (input )?tokens/i;

/** Status (plus the vendor's markers) → failure type, as the README's "Failure handling" table lists them. */
export function failureTypeForHttp(facts: HttpFailureFacts): FailureType {
  const { status } = facts;
  if (status === 429) return 'RateLimited';
  if (facts.contextTooLong || status === 413) return 'ContextTooLong';
  if (status >= 500) return 'ProviderUnavailable';
  if (facts.contentRefused) return 'ContentRefused';
  switch (status) {
    case 401: // bad or revoked key
    case 402: // billing
    case 403:
    case 404: // model unknown or retired for this key
      return 'AccessDenied';
    case 408:
      return 'Timeout';
    case 409: // a lock or concurrent change upstream: transient
      return 'ProviderUnavailable';
  }
  return status >= 400 ? 'InvalidRequest' : 'ProviderUnavailable';
}

/**
 * The HTTP status an error event inside a 200 stream stands for, from the
 * vendor's error `type`/`code` (OpenAI: `{"error":{…}}` data; Anthropic:
 * `event: error`), so an overloaded or rate-limited stream is classified as
 * the same answer before the stream would be. Undefined when unrecognised.
 */
export function statusOfStreamError(type: string | null | undefined, code: string | null | undefined): number | undefined {
  const names = `${type ?? ''} ${code ?? ''}`;
  if (/rate_limit|insufficient_quota/.test(names)) return 429;
  if (/overloaded/.test(names)) return 529;
  if (/authentication/.test(names)) return 401;
  if (/permission/.test(names)) return 403;
  if (/not_found/.test(names)) return 404;
  if (/context_length_exceeded/.test(names)) return 400;
  if (/invalid_request/.test(names)) return 400;
  if (/server_error|api_error|timeout/.test(names)) return 500;
  return undefined;
}

export function classifyHttpFailure(facts: HttpFailureFacts, context: FailureContext): GatewayError {
  const type = failureTypeForHttp(facts);
  const waitsForRetryAfter = type === 'RateLimited' || type === 'ProviderUnavailable';
  const retryAfterMs = waitsForRetryAfter ? parseRetryAfterMs(facts.headers) : undefined;
  const summary = `${SUMMARIES[type]} (HTTP ${facts.status})`;
  return new GatewayError(type, describeFailure(context, summary, facts.vendorMessage), {
    provider: context.providerId,
    status: facts.status,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    ...(facts.quotaExhausted ? { retryable: false } : {}),
  });
}

/**
 * Milliseconds to wait before the next try, from `retry-after-ms` or
 * `retry-after` (delta-seconds or an HTTP date); undefined when absent or unreadable.
 */
export function parseRetryAfterMs(headers: Headers | undefined, nowMs: number = Date.now()): number | undefined {
  const milliseconds = headers?.get('retry-after-ms')?.trim();
  if (milliseconds && /^\d+(\.\d+)?$/.test(milliseconds)) return Math.ceil(Number(milliseconds));
  const retryAfter = headers?.get('retry-after')?.trim();
  if (!retryAfter) return undefined;
  if (/^\d+(\.\d+)?$/.test(retryAfter)) return Math.ceil(Number(retryAfter) * 1000);
  const date = Date.parse(retryAfter);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

/** The SDK's own timeout fired, or the server stopped answering in time. */
export function timeoutFailure(context: FailureContext): GatewayError {
  const limit = context.requestTimeoutMs === undefined ? 'in time' : `within ${context.requestTimeoutMs} ms`;
  return new GatewayError('Timeout', `${context.providerId}: no answer ${limit}`, { provider: context.providerId });
}

/** The call was aborted: by our deadline (a Timeout) or by the caller (activity cancelled). */
export function abortFailure(context: FailureContext): GatewayError {
  if (context.deadlineExceeded) return timeoutFailure(context);
  return new GatewayError('Timeout', `${context.providerId}: call aborted before an answer`, {
    provider: context.providerId,
  });
}

/** The connection failed, was refused, reset or cut mid-response. */
export function connectionFailure(error: unknown, context: FailureContext): GatewayError {
  const code = findErrorCode(error);
  const summary = code ? `connection failed (${code})` : 'connection failed';
  return new GatewayError('ProviderUnavailable', `${context.providerId}: ${summary}`, { provider: context.providerId });
}

const TIMEOUT_CODES = new Set([
  'ETIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);
const CONNECTION_MESSAGE = /socket hang up|other side closed|terminated|fetch failed|network/i;

/**
 * Everything that is not an HTTP error answer: our own GatewayErrors pass
 * through, aborts and transport timeouts are Timeout, a body we cannot parse
 * and a dropped connection are ProviderUnavailable (a flaky server, retryable).
 */
export function classifyTransportFailure(error: unknown, context: FailureContext): GatewayError {
  if (error instanceof GatewayError) return error;
  if (isAbortError(error)) return abortFailure(context);
  const code = findErrorCode(error);
  if (code !== undefined && TIMEOUT_CODES.has(code)) return timeoutFailure(context);
  if (error instanceof MalformedResponseError || error instanceof SyntaxError) {
    return new GatewayError('ProviderUnavailable', describeFailure(context, 'returned a malformed response', error.message), {
      provider: context.providerId,
    });
  }
  if ((code !== undefined && CONNECTION_CODES.has(code)) || causeChain(error).some(hasConnectionMessage)) {
    return connectionFailure(error, context);
  }
  const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return new GatewayError('ProviderUnavailable', describeFailure(context, 'call failed', detail), {
    provider: context.providerId,
  });
}

/** `<provider>: <summary>: <vendor message, scrubbed and trimmed>`. */
export function describeFailure(context: FailureContext, summary: string, vendorMessage: string | undefined): string {
  const detail = vendorMessage ? trimMessage(scrubSecrets(vendorMessage, context.apiKey)) : '';
  return detail ? `${context.providerId}: ${summary}: ${detail}` : `${context.providerId}: ${summary}`;
}

/** Removes the key in use and anything shaped like a key or bearer token. */
export function scrubSecrets(text: string, apiKey: string | undefined): string {
  let scrubbed = text;
  if (apiKey && apiKey.length >= 8) scrubbed = scrubbed.split(apiKey).join('[redacted]');
  return scrubbed.replace(/\bsk-[A-Za-z0-9_*.-]{4,}/g, '[redacted]').replace(/\bBearer\s+[^\s,;]+/gi, 'Bearer [redacted]');
}

function trimMessage(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > MAX_VENDOR_MESSAGE_CHARS ? `${oneLine.slice(0, MAX_VENDOR_MESSAGE_CHARS - 1)}…` : oneLine;
}

function isAbortError(error: unknown): boolean {
  return error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError');
}

function hasConnectionMessage(error: unknown): boolean {
  return error instanceof Error && CONNECTION_MESSAGE.test(error.message);
}

/** The first Node/undici error code along the `cause` chain (fetch wraps the socket error). */
function findErrorCode(error: unknown): string | undefined {
  for (const link of causeChain(error)) {
    const code = (link as { code?: unknown }).code;
    if (typeof code === 'string' && /^[A-Z][A-Z0-9_]+$/.test(code)) return code;
  }
  return undefined;
}

function causeChain(error: unknown): unknown[] {
  const chain: unknown[] = [];
  let current: unknown = error;
  while (current !== null && typeof current === 'object' && chain.length < 6) {
    chain.push(current);
    current = (current as { cause?: unknown }).cause;
  }
  return chain;
}

/** The facts a classifier needs about one call of an adapter. */
export function failureContextFor(settings: AdapterSettings, deadline: CallDeadline): FailureContext {
  return {
    providerId: settings.providerId,
    apiKey: settings.apiKey,
    deadlineExceeded: deadline.exceeded,
    requestTimeoutMs: settings.requestTimeoutMs,
  };
}
