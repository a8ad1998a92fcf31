import { WorkflowExecutionAlreadyStartedError, WorkflowFailedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { TemporalFailure } from '@temporalio/common';
import { logLine } from '../runtime/json-logger';
import { temporalReachable } from '../runtime/temporal-reachability';
import { HttpError } from '../dialects/http-error';

/**
 * How long the API waits for Temporal to take one of its calls (a workflow
 * start, a describe, a list) before it answers 503. Below the 2 s a caller
 * is promised, with room for the rest of the request.
 * A healthy server takes a start in milliseconds; only an unreachable or
 * badly overloaded one takes this long.
 */
export const TEMPORAL_CALL_BOUND_MS = 1_500;

/**
 * The gRPC deadline of a bounded call. A call still running at the bound
 * while the frontend accepts connections is a busy server, not a down one: it
 * is waited for up to this long rather than answered 503.
 */
const BUSY_SERVER_DEADLINE_MS = 10_000;

/**
 * `Retry-After` of a 503 for Temporal being unreachable (seconds). The
 * official OpenAI and Anthropic clients honour it: with their default two
 * retries a caller rides out about five seconds of outage (a frontend restart,
 * a failover) and gives up soon after on a longer one.
 */
export const TEMPORAL_RETRY_AFTER_SECONDS = 2;

/**
 * gRPC status codes (the wire values of the gRPC spec, the same in grpc-js
 * and in Core's tonic client). Either one on a call to Temporal means the
 * server was not reached in time.
 */
const GRPC_DEADLINE_EXCEEDED = 4;
const GRPC_UNAVAILABLE = 14;

/** Socket errors of a connection that could not be made or was lost. */
const CONNECTION_ERROR_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EPIPE']);

/** The API's own bound on a Temporal call ran out (see `boundedTemporalCall`). */
export class TemporalCallTimeoutError extends Error {
  constructor(readonly boundMs: number) {
    super(`Temporal did not answer within ${boundMs} ms`);
    this.name = 'TemporalCallTimeoutError';
  }
}

/**
 * Whether an error from a call to Temporal means Temporal could not be
 * reached: gRPC UNAVAILABLE or DEADLINE_EXCEEDED (also as the cause of the
 * client's `ServiceError`), a connection error, or the API's own bound. A
 * workflow's outcome (a `WorkflowFailedError`, a failure from history) never
 * is, whatever its causes say: that answer came from a reachable server.
 */
export function isTemporalUnavailable(error: unknown): boolean {
  return unavailability(error) !== undefined;
}

/**
 * How a call to Temporal failed for want of Temporal: `unreached` (it could
 * not be sent: no connection, UNAVAILABLE) or `timedOut` (it may have reached
 * the server, which may yet act on it: DEADLINE_EXCEEDED, the API's bound).
 */
function unavailability(error: unknown): 'unreached' | 'timedOut' | undefined {
  for (let current: unknown = error, depth = 0; current instanceof Error && depth < 8; current = current.cause, depth++) {
    if (current instanceof WorkflowFailedError || current instanceof TemporalFailure) return undefined;
    if (current instanceof TemporalCallTimeoutError) return 'timedOut';
    // Core's connection (a NativeConnection) throws this when it cannot connect at all.
    if (current.name === 'TransportError') return 'unreached';
    const { code } = current as { code?: unknown };
    if (isGrpcStatus(current) && code === GRPC_UNAVAILABLE) return 'unreached';
    if (isGrpcStatus(current) && code === GRPC_DEADLINE_EXCEEDED) return 'timedOut';
    if (typeof code === 'string' && CONNECTION_ERROR_CODES.has(code)) return 'unreached';
  }
  return undefined;
}

/**
 * A gRPC status error as grpc-js and Core raise them: a numeric `code` with
 * `details` and `metadata` (the check `isGrpcServiceError` of
 * `@temporalio/client` makes, plus the code).
 */
function isGrpcStatus(error: Error): boolean {
  const candidate = error as { code?: unknown; details?: unknown; metadata?: unknown };
  return typeof candidate.code === 'number' && typeof candidate.details === 'string' && typeof candidate.metadata === 'object' && candidate.metadata !== null;
}

/** The 503 for Temporal being unreachable; `what` says what did not happen, `cause` is for the log. */
export function temporalUnavailableError(what = 'the gateway cannot reach Temporal', cause?: unknown): HttpError {
  const error = new HttpError(503, 'service_unavailable', `${what}; retry in a few seconds`, {
    code: 'temporal_unavailable',
    retryAfterSeconds: TEMPORAL_RETRY_AFTER_SECONDS,
  });
  if (cause !== undefined) error.cause = cause;
  return error;
}

/**
 * Runs one call to Temporal and answers within `boundMs` whatever the
 * connection does (Core's client retries an unreachable server for about ten
 * seconds, deadline or not): past it, unless the frontend still accepts TCP
 * connections (busy, not down: then the call is waited for, up to its 10 s
 * deadline), or on an unavailability error, throws `temporalUnavailableError(what)`. Other
 * errors pass unchanged. `onLate` receives the call when it may yet take
 * effect (the bound ran out with it still running, or it timed out on the
 * wire), for a caller that must undo what it may have done (a start).
 * Never wrap a wait that may legitimately take long (a request's result).
 */
export async function boundedTemporalCall<T>(
  client: Pick<Client, 'withDeadline'>,
  call: () => Promise<T>,
  options: { what?: string; boundMs?: number; onLate?: (pending: Promise<T>) => void } = {},
): Promise<T> {
  const boundMs = options.boundMs ?? TEMPORAL_CALL_BOUND_MS;
  const pending = client.withDeadline(Date.now() + Math.max(boundMs, BUSY_SERVER_DEADLINE_MS), call);
  const unavailable = (error: unknown): never => {
    const how = unavailability(error);
    if (how === undefined) throw error;
    if (how === 'timedOut') options.onLate?.(pending);
    throw temporalUnavailableError(options.what, error);
  };
  try {
    return await withinBound(pending, boundMs);
  } catch (error) {
    // Past the bound, a frontend that accepts connections is busy, not down: its answer is worth the wait.
    if (!(error instanceof TemporalCallTimeoutError) || (await temporalReachable(client)) !== true) return unavailable(error);
  }
  try {
    return await pending;
  } catch (error) {
    return unavailable(error);
  }
}

/** `pending`, or a `TemporalCallTimeoutError` once `boundMs` has passed (`pending` is left to settle unobserved). */
export function withinBound<T>(pending: Promise<T>, boundMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new TemporalCallTimeoutError(boundMs)), boundMs);
  });
  // A call that fails after the bound must not become an unhandled rejection.
  pending.catch(() => undefined);
  return Promise.race([pending, bound]).finally(() => clearTimeout(timer));
}

/**
 * For a start whose caller was answered 503 while the start may still take
 * effect (Core's client keeps retrying it; a timed-out call may have reached
 * the server): if Temporal took it after all, the workflow is cancelled, so
 * a request the caller was told did not start does not run beside its
 * retry. Not for a start under an idempotency key: its retry attaches to the
 * run instead.
 */
export function cancelLateStart(
  client: Client,
  workflowId: string,
  pending: Promise<unknown>,
  log: (line: Record<string, unknown>) => void = logLine,
): void {
  // Every start watched here ends in exactly one line: cancelled, never taken, or cancelling it failed.
  log({ level: 'info', msg: 'start answered 503 may still reach Temporal; watching it', workflowId });
  const neverTaken = (): void => log({ level: 'info', msg: 'start answered 503 never reached Temporal', workflowId });
  const cancel = async (known: boolean): Promise<void> => {
    try {
      await boundedTemporalCall(client, () => client.workflow.getHandle(workflowId).cancel());
      log({ level: 'warn', msg: 'workflow started after its caller was answered 503; cancelled', workflowId });
    } catch (error) {
      // Probing a start that timed out: no such workflow is the usual answer, and an unreachable
      // server has most likely taken nothing either.
      if (!known && (error instanceof WorkflowNotFoundError || (error instanceof HttpError && error.status === 503))) return neverTaken();
      log({ level: 'error', msg: 'workflow may have started after its caller was answered 503; cancelling it failed', workflowId, error: error instanceof Error ? error.message : String(error) });
    }
  };
  pending
    .then(
      () => cancel(true),
      // Core resent a start the server had taken: the run is this request's all the same.
      (error: unknown) => {
        if (error instanceof WorkflowExecutionAlreadyStartedError) return cancel(true);
        if (unavailability(error) === 'timedOut') return cancel(false);
        return neverTaken();
      },
    )
    .catch(() => undefined);
}

/**
 * Express middleware for routes that read Temporal for as long as they need
 * (reports over visibility, admin reads): a 503 `temporal_unavailable` at
 * once when Temporal's frontend refuses connections, instead of the caller
 * waiting out the client's retries; a busy (reachable) server is waited for.
 */
export function requireReachableTemporal(client: object, what: string) {
  return (_request: unknown, _response: unknown, next: (error?: unknown) => void): void => {
    temporalReachable(client).then(
      (reachable) => next(reachable === false ? temporalUnavailableError(`${what}: the gateway cannot reach Temporal`) : undefined),
      next,
    );
  };
}
