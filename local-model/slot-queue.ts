/**
 * Admission for the local model: `slots` generations run at once (one context
 * sequence each), up to `maxQueued` more wait in arrival order, and the rest
 * are refused at once with `ServerBusyError` (HTTP 429 + Retry-After), so a
 * burst never piles up unbounded memory or waits past the caller's timeout.
 */
export class ServerBusyError extends Error {
  override name = 'ServerBusyError';
}

export interface Slot {
  /** Which context sequence this generation owns. */
  readonly index: number;
  /** Hands the slot to the next waiter. Idempotent. */
  release(): void;
}

interface Waiter {
  grant(index: number): void;
  fail(error: Error): void;
}

export interface SlotQueueStats {
  slots: number;
  busy: number;
  queued: number;
  maxQueued: number;
}

export class SlotQueue {
  private readonly free: number[];
  private readonly waiters: Waiter[] = [];

  constructor(
    private readonly slots: number,
    private readonly maxQueued: number,
    private readonly queueTimeoutMs: number,
  ) {
    if (!Number.isInteger(slots) || slots < 1) throw new Error('slots must be a positive integer');
    this.free = Array.from({ length: slots }, (_, index) => index);
  }

  stats(): SlotQueueStats {
    return { slots: this.slots, busy: this.slots - this.free.length, queued: this.waiters.length, maxQueued: this.maxQueued };
  }

  /** A free slot now, or a place in the queue; refused when the queue is full, timed out, or `signal` aborts first. */
  acquire(signal?: AbortSignal): Promise<Slot> {
    if (signal?.aborted) return Promise.reject(abortError());
    const index = this.free.shift();
    if (index !== undefined) return Promise.resolve(this.slotOf(index));
    if (this.waiters.length >= this.maxQueued) {
      const { busy, queued } = this.stats();
      return Promise.reject(new ServerBusyError(`the local model is busy (${busy} running, ${queued} waiting); retry shortly`));
    }
    return new Promise<Slot>((resolve, reject) => {
      const leave = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        const at = this.waiters.indexOf(waiter);
        if (at >= 0) this.waiters.splice(at, 1);
      };
      const waiter: Waiter = {
        grant: (granted) => {
          leave();
          resolve(this.slotOf(granted));
        },
        fail: (error) => {
          leave();
          reject(error);
        },
      };
      const onAbort = () => waiter.fail(abortError());
      const timer = setTimeout(
        () => waiter.fail(new ServerBusyError(`the local model is busy: waited ${this.queueTimeoutMs} ms for a free slot; retry shortly`)),
        this.queueTimeoutMs,
      );
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  private slotOf(index: number): Slot {
    let released = false;
    return {
      index,
      release: () => {
        if (released) return;
        released = true;
        const next = this.waiters[0];
        if (next) next.grant(index);
        else this.free.push(index);
      },
    };
  }
}

function abortError(): Error {
  const error = new Error('the caller went away');
  error.name = 'AbortError';
  return error;
}
