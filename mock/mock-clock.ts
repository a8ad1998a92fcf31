/**
 * The time source of the mock's delays and of the times it records, so a
 * test can drive latency by hand (`ManualClock` in test/support) instead of
 * waiting for it and measuring.
 */
export interface MockClock {
  /** Milliseconds on this clock. */
  now(): number;
  /** Calls `wake` once `ms` have passed on this clock. @returns a function that cancels it. */
  setTimer(wake: () => void, ms: number): () => void;
}

/** Real time: `Date.now()` and `setTimeout`. */
export const SYSTEM_CLOCK: MockClock = {
  now: () => Date.now(),
  setTimer: (wake, ms) => {
    const timer = setTimeout(wake, ms);
    return () => clearTimeout(timer);
  },
};
