import type { Response } from 'express';
import { untilClosed, waitUnlessClosed } from './client-wait';
import { SYSTEM_CLOCK, type MockClock } from './mock-clock';
import type { TakenFault } from './mock-state';

/** Options of a vendor error answer; each dialect renders them in its own body format. */
export interface VendorErrorOptions {
  message?: string;
  retryAfterSeconds?: number;
}

/** Answers `response` with `status` in one dialect's error format. */
export type SendVendorError = (response: Response, status: number, options?: VendorErrorOptions) => void;

/** The part of a fault that shapes a successful reply rather than replacing it. */
export interface ReplyShaping {
  malformed: 'invalid-json' | 'wrong-shape' | undefined;
  firstTokenDelayMs: number;
  chunkDelayMs: number;
  cutAfterChunks: number | undefined;
  /** Park the stream after this many events until the control API releases it. */
  hold: { afterChunks: number; park(): { released: Promise<void>; forget(): void } } | undefined;
  /** Text that replaces the deterministic reply. */
  replyText: string | undefined;
  /**
   * The client went away while the call waited out its latency. A provider
   * still generates and bills a call it accepted: the route bills the reply
   * and sends nothing (a worker killed mid-call leaves such bills).
   */
  clientGone?: true;
}

/** What delivering one answer needs besides its shape: the clock its delays run on, and who to tell when it begins. */
export interface Delivery {
  clock: MockClock;
  /** Called just before the answer's first byte that follows the delays (body, first stream event or error). */
  answered(): void;
}

/** Delivery on real time that tells no one. */
export const UNOBSERVED_DELIVERY: Delivery = { clock: SYSTEM_CLOCK, answered: () => undefined };

/** Shaping of a call without a fault: a clean, immediate reply. */
export const NO_SHAPING: ReplyShaping = {
  malformed: undefined,
  firstTokenDelayMs: 0,
  chunkDelayMs: 0,
  cutAfterChunks: undefined,
  hold: undefined,
  replyText: undefined,
};

/**
 * Applies the parts of a fault that come before any reply: latency, hang and
 * error status (see `FaultSchema` for the order).
 *
 * @returns how to shape the reply, or undefined when the request is already
 *   finished (answered with an error, or the client went away from a hang).
 */
export async function applyFault(
  taken: TakenFault | undefined,
  response: Response,
  sendError: SendVendorError,
  park: () => { released: Promise<void>; forget(): void },
  clock: MockClock = SYSTEM_CLOCK,
): Promise<ReplyShaping | undefined> {
  if (taken === undefined) return NO_SHAPING;
  const { fault, callNumber } = taken;

  if (fault.latencyMs !== undefined) {
    const jitter = Math.round((fault.jitterMs ?? 0) * deterministicFraction(callNumber));
    if (!(await waitUnlessClosed(response, fault.latencyMs + jitter, clock))) return { ...NO_SHAPING, clientGone: true };
  }
  if (fault.hang === true) {
    await untilClosed(response);
    return undefined;
  }
  if (fault.status !== undefined) {
    sendError(response, fault.status, { message: fault.message, retryAfterSeconds: fault.retryAfterSeconds });
    return undefined;
  }
  return {
    malformed: fault.malformed === true ? 'invalid-json' : fault.malformed,
    firstTokenDelayMs: fault.firstTokenDelayMs ?? 0,
    chunkDelayMs: fault.chunkDelayMs ?? 0,
    cutAfterChunks: fault.cutStreamAfterChunks,
    hold: fault.holdStreamAfterChunks === undefined ? undefined : { afterChunks: fault.holdStreamAfterChunks, park },
    replyText: fault.reply,
  };
}

/**
 * A number in [0, 1) fixed by `seed` (mulberry32), so jittered latencies
 * differ from call to call yet repeat from run to run.
 */
function deterministicFraction(seed: number): number {
  let state = (seed * 0x9e3779b9) >>> 0;
  state = (state + 0x6d2b79f5) >>> 0;
  let mixed = Math.imul(state ^ (state >>> 15), state | 1);
  mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
  return ((mixed ^ (mixed >>> 14)) >>> 0) / 4_294_967_296;
}
