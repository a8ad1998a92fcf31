/**
 * A per-call deadline that also covers reading the response body.
 *
 * The SDKs' own `timeout` only guards the wait for response headers; a server
 * that sends headers and then stalls would hold the call until the activity's
 * timeout. This signal aborts the whole call, and tells the classifier whether
 * the abort was ours (a Timeout) or the caller's.
 */
export interface CallDeadline {
  signal: AbortSignal;
  /** True once the deadline passed; read it when classifying a failure. */
  readonly exceeded: boolean;
}

export function startCallDeadline(timeoutMs: number, callerSignal: AbortSignal | undefined): CallDeadline {
  const deadline = AbortSignal.timeout(timeoutMs);
  return {
    signal: callerSignal ? AbortSignal.any([callerSignal, deadline]) : deadline,
    get exceeded() {
      return deadline.aborted;
    },
  };
}
