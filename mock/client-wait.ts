import type { ServerResponse } from 'node:http';
import { SYSTEM_CLOCK, type MockClock } from './mock-clock';

/**
 * Waits `ms` milliseconds on `clock` unless the client goes away first, so a
 * delayed or hanging request never holds a timer after its socket is gone
 * (and a closing server is not kept alive by one).
 *
 * @returns true when the wait ran out with the client still connected.
 */
export function waitUnlessClosed(response: ServerResponse, ms: number, clock: MockClock = SYSTEM_CLOCK): Promise<boolean> {
  if (response.closed) return Promise.resolve(false);
  if (ms <= 0) return Promise.resolve(true);
  return new Promise((resolve) => {
    const onClose = (): void => {
      cancel();
      resolve(false);
    };
    const cancel = clock.setTimer(() => {
      response.off('close', onClose);
      resolve(true);
    }, ms);
    response.once('close', onClose);
  });
}

/** Resolves when the connection of `response` closes: how a hang ends. */
export function untilClosed(response: ServerResponse): Promise<void> {
  if (response.closed) return Promise.resolve();
  return new Promise((resolve) => response.once('close', () => resolve()));
}
