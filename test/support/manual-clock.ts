import type { MockClock } from '../../mock/mock-clock';

/** A timer waiting on a `ManualClock`. */
export interface PendingTimer {
  /** When it was set, on the clock. */
  setAt: number;
  ms: number;
  due: number;
}

interface Entry extends PendingTimer {
  wake: () => void;
}

/** Longest real wait for the mock to set a timer: a bounded wait for an event, not a timing assertion. */
const EVENT_DEADLINE_MS = 10_000;

/**
 * A clock that moves only when the test moves it: timers set on it fire when
 * `advance` passes their due time, never on their own. A test learns which
 * delays the mock asked for and what it did in between, whatever the
 * machine's speed.
 */
export class ManualClock implements MockClock {
  private time = 0;
  private readonly timers = new Set<Entry>();
  private readonly listeners = new Set<() => void>();

  now(): number {
    return this.time;
  }

  setTimer(wake: () => void, ms: number): () => void {
    const entry: Entry = { setAt: this.time, ms, due: this.time + ms, wake };
    this.timers.add(entry);
    for (const listener of this.listeners) listener();
    return () => {
      this.timers.delete(entry);
    };
  }

  /** Timers set and not yet fired or cancelled, earliest due first. */
  pending(): PendingTimer[] {
    return [...this.timers].sort((left, right) => left.due - right.due).map(({ setAt, ms, due }) => ({ setAt, ms, due }));
  }

  /**
   * The earliest pending timer, once there is one; fails with `what` if none
   * is set within 10 s of real time. Returns a turn of the event loop after
   * the timer was set, so whatever the code that set it does without waiting
   * on it has been done.
   */
  async nextTimer(what: string): Promise<PendingTimer> {
    const timer = await this.firstTimer(what);
    await new Promise((resolve) => setImmediate(resolve));
    return timer;
  }

  private async firstTimer(what: string): Promise<PendingTimer> {
    const first = (): PendingTimer | undefined => this.pending()[0];
    const found = first();
    if (found) return found;
    let onTimer: () => void = () => undefined;
    let deadline: NodeJS.Timeout | undefined;
    try {
      return await new Promise<PendingTimer>((resolve, reject) => {
        onTimer = () => {
          const timer = first();
          if (timer) resolve(timer);
        };
        this.listeners.add(onTimer);
        deadline = setTimeout(() => reject(new Error(`the mock set no timer for ${what} within ${EVENT_DEADLINE_MS} ms`)), EVENT_DEADLINE_MS);
      });
    } finally {
      this.listeners.delete(onTimer);
      clearTimeout(deadline);
    }
  }

  /** Moves the clock `ms` on, firing every timer due by then, in due order, each at its due time. */
  advance(ms: number): void {
    const target = this.time + ms;
    for (let next = this.pending()[0]; next !== undefined && next.due <= target; next = this.pending()[0]) {
      const entry = [...this.timers].find((candidate) => candidate.due === next?.due && candidate.setAt === next.setAt);
      if (!entry) break;
      this.timers.delete(entry);
      this.time = entry.due;
      entry.wake();
    }
    this.time = target;
  }

  /**
   * Fires each timer the mock sets, as it sets it, until `until` settles:
   * for code under test that waits on several delays in a row.
   * @returns what `until` resolved to, and every timer fired meanwhile.
   */
  async runUntil<T>(until: Promise<T>, what: string): Promise<{ value: T; fired: PendingTimer[] }> {
    let settled = false;
    const settle = until.then(
      () => {
        settled = true;
      },
      () => {
        settled = true;
      },
    );
    const fired: PendingTimer[] = [];
    while (!settled) {
      // A turn of the event loop first: the code that set a timer does what it does without waiting on it.
      await new Promise((resolve) => setImmediate(resolve));
      const timer = this.pending()[0];
      if (timer) {
        fired.push(timer);
        this.advance(timer.due - this.time);
        continue;
      }
      if (settled) break;
      await new Promise<void>((resolve, reject) => {
        const cleanup = (): void => {
          this.listeners.delete(onTimer);
          clearTimeout(deadline);
        };
        const onTimer = (): void => {
          cleanup();
          resolve();
        };
        const deadline = setTimeout(() => {
          cleanup();
          reject(new Error(`${what}: neither finished nor set a timer within ${EVENT_DEADLINE_MS} ms`));
        }, EVENT_DEADLINE_MS);
        this.listeners.add(onTimer);
        void settle.then(onTimer);
      });
    }
    return { value: await until, fired };
  }
}
