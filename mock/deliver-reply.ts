import type { Response } from 'express';
import { NO_SHAPING, UNOBSERVED_DELIVERY, type Delivery, type ReplyShaping } from './apply-fault';
import { untilClosed, waitUnlessClosed } from './client-wait';

/** One server-sent event; OpenAI streams leave `event` out, Anthropic streams name every event. */
export interface SseEvent {
  event?: string;
  data: string;
}

const INVALID_JSON_BODY = '{"id":"mock-malformed","choices":[{"message":';
const WRONG_SHAPE_BODY = '{"mock":"a well-formed body of the wrong shape"}';

/**
 * Sends a non-streaming reply. `firstTokenDelayMs` delays it; a
 * `cutAfterChunks` fault destroys the socket without any answer, which is
 * what a dropped connection looks like to a non-streaming client.
 */
export async function deliverJson(response: Response, body: unknown, shaping: ReplyShaping, delivery: Delivery = UNOBSERVED_DELIVERY): Promise<void> {
  if (shaping.cutAfterChunks !== undefined) {
    response.destroy();
    return;
  }
  if (!(await waitUnlessClosed(response, shaping.firstTokenDelayMs, delivery.clock))) return;
  delivery.answered();
  response.status(200).json(body);
}

/**
 * Streams `events` as SSE, flushing each one as it is written. Headers go
 * out at once; the first event waits `firstTokenDelayMs`, later ones
 * `chunkDelayMs`. A `cutAfterChunks` fault destroys the socket after that
 * many events, and always before the last one, so the terminal event
 * (`[DONE]` / `message_stop`) never arrives. A `hold` parks the stream after
 * that many events until the control API releases it.
 */
export async function deliverSse(response: Response, events: SseEvent[], shaping: ReplyShaping, delivery: Delivery = UNOBSERVED_DELIVERY): Promise<void> {
  response.status(200);
  response.setHeader('content-type', 'text/event-stream; charset=utf-8');
  response.setHeader('cache-control', 'no-cache');
  response.flushHeaders();
  // Small SSE writes must not wait for Nagle's algorithm to batch them.
  response.socket?.setNoDelay(true);

  const cutAt = shaping.cutAfterChunks === undefined ? undefined : Math.min(shaping.cutAfterChunks, events.length - 1);
  for (const [index, event] of events.entries()) {
    if (cutAt !== undefined && index >= cutAt) {
      response.destroy();
      return;
    }
    if (shaping.hold !== undefined && index === shaping.hold.afterChunks) {
      const parked = shaping.hold.park();
      const left = await Promise.race([parked.released.then(() => false), untilClosed(response).then(() => true)]);
      parked.forget();
      if (left) return;
    }
    const delay = index === 0 ? shaping.firstTokenDelayMs : shaping.chunkDelayMs;
    if (!(await waitUnlessClosed(response, delay, delivery.clock))) return;
    if (index === 0) delivery.answered();
    // Wait until the event is handed to the socket, so a cut right after it
    // cannot discard it.
    await new Promise<void>((resolve) => response.write(formatSse(event), () => resolve()));
  }
  response.end();
}

/**
 * Answers 200 with a body no SDK can use: invalid JSON, or valid JSON of
 * the wrong shape. A stream gets one such event (named `eventName` for
 * dialects that name events) and ends without its terminal event.
 */
export async function deliverMalformed(
  response: Response,
  kind: 'invalid-json' | 'wrong-shape',
  options: { stream: boolean; eventName?: string },
  delivery: Delivery = UNOBSERVED_DELIVERY,
): Promise<void> {
  const body = kind === 'invalid-json' ? INVALID_JSON_BODY : WRONG_SHAPE_BODY;
  if (!options.stream) {
    delivery.answered();
    response.status(200).type('application/json').send(body);
    return;
  }
  const event: SseEvent = options.eventName === undefined ? { data: body } : { event: options.eventName, data: body };
  await deliverSse(response, [event], NO_SHAPING, delivery);
}

function formatSse(event: SseEvent): string {
  const eventLine = event.event === undefined ? '' : `event: ${event.event}\n`;
  return `${eventLine}data: ${event.data}\n\n`;
}
