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

/** A streaming call's deadline: renewed by every chunk, capped for the whole stream. */
export interface StreamDeadline extends CallDeadline {
  /** Passes `source` through, renewing the idle deadline at every item. */
  track<T>(source: AsyncIterable<T>): AsyncIterable<T>;
  /** Stops the idle timer; call when the stream is over. */
  dispose(): void;
}

/**
 * A stream may run far longer than one call's timeout, so long as it keeps
 * moving: the first chunk and every gap between chunks must come within
 * `idleMs`, and the whole stream within `totalMs`.
 */
export function startStreamDeadline(idleMs: number, totalMs: number, callerSignal: AbortSignal | undefined): StreamDeadline {
  const idle = new AbortController();
  const total = AbortSignal.timeout(totalMs);
  let timer: NodeJS.Timeout | undefined;
  const renew = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => idle.abort(new Error(`no stream data within ${idleMs} ms`)), idleMs);
  };
  renew();
  const deadlines = [idle.signal, total];
  return {
    signal: AbortSignal.any(callerSignal ? [callerSignal, ...deadlines] : deadlines),
    get exceeded() {
      return idle.signal.aborted || total.aborted;
    },
    async *track(source) {
      for await (const item of source) {
        renew();
        yield item;
      }
    },
    dispose() {
      clearTimeout(timer);
    },
  };
}

/** `settings.streamTimeoutMs`, or ten call timeouts when the settings name none. */
export function streamTimeoutMs(settings: { requestTimeoutMs: number; streamTimeoutMs?: number }): number {
  return settings.streamTimeoutMs ?? settings.requestTimeoutMs * 10;
}
