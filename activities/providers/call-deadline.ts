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
    signal: callerSignal ? firstAbortOf([callerSignal, deadline]).signal : deadline,
    get exceeded() {
      return deadline.aborted;
    },
  };
}

/**
 * A signal that aborts with the first of `sources` to abort, with its reason.
 * Not `AbortSignal.any`: on Node 20 a combined signal that an SDK adds an
 * `abort` listener to (the OpenAI and Anthropic SDKs do, on every call) is
 * kept alive until it aborts, and one whose timeout signal was collected
 * never does: every finished call stayed in memory, listener, SDK controller
 * and all (a few KB a call). Here each source holds only a listener, removed
 * at the first abort or by `release()`, so nothing outlives its sources.
 */
function firstAbortOf(sources: readonly AbortSignal[]): { signal: AbortSignal; release(): void } {
  const combined = new AbortController();
  const release = (): void => {
    for (const source of sources) source.removeEventListener('abort', onAbort);
  };
  function onAbort(this: AbortSignal): void {
    release();
    combined.abort(this.reason);
  }
  const already = sources.find((source) => source.aborted);
  if (already) combined.abort(already.reason);
  else for (const source of sources) source.addEventListener('abort', onAbort);
  return { signal: combined.signal, release };
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
  const combined = firstAbortOf(callerSignal ? [callerSignal, ...deadlines] : deadlines);
  return {
    signal: combined.signal,
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
      combined.release();
    },
  };
}

/** `settings.streamTimeoutMs`, or ten call timeouts when the settings name none. */
export function streamTimeoutMs(settings: { requestTimeoutMs: number; streamTimeoutMs?: number }): number {
  return settings.streamTimeoutMs ?? settings.requestTimeoutMs * 10;
}
