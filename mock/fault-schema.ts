import { z } from 'zod';

/** Longest delay a fault may ask for, so a typo cannot park a request for hours. */
const MAX_DELAY_MS = 10 * 60_000;

const delayMs = z.number().int().min(0).max(MAX_DELAY_MS);

/**
 * What the mock does to the next calls of one model, set with
 * `PUT /_control/faults/:model`. Unknown fields are rejected so a misspelt
 * fault fails loudly instead of silently doing nothing.
 *
 * Effects, applied in this order:
 * 1. `latencyMs` (+ `jitterMs`) — wait before answering. The jitter is
 *    deterministic: call *n* of a model waits `latencyMs + jitter(n)` with
 *    `jitter(n)` drawn from a fixed-seed generator in `[0, jitterMs]`, so a
 *    benchmark sees a spread of latencies yet two runs see the same spread.
 * 2. `hang` — never answer; the request stays open until the client gives up
 *    or the server closes.
 * 3. `status` — answer with that HTTP status and the vendor's error body
 *    (404 looks like "model not found", 429 like a rate limit, 529 like
 *    Anthropic's "overloaded"). `retryAfterSeconds` sets `retry-after`.
 * 4. `malformed` — answer 200 with a body that is not valid JSON (`true` or
 *    `"invalid-json"`) or valid JSON of the wrong shape (`"wrong-shape"`).
 *    Streams send one such `data:` event and end.
 * 5. `firstTokenDelayMs` — streams: headers go out at once, the first event
 *    after this delay; non-streaming: an extra delay before the response.
 * 6. `chunkDelayMs` — streams: delay between events after the first.
 * 7. `cutStreamAfterChunks` — streams: destroy the socket after that many SSE
 *    events (and before the terminal one at the latest), so `[DONE]` /
 *    `message_stop` never arrives; non-streaming: destroy the socket without
 *    answering.
 * 8. `holdStreamAfterChunks` — streams: after that many SSE events, wait
 *    until `POST /_control/release` (or the client leaves), so a test can
 *    check what a caller has received while the provider is mid-answer.
 *
 * 9. `reply` — a well-formed, billed answer with this text instead of the
 *    deterministic one: output that ignores the requested JSON schema, or a
 *    wrong answer for an eval.
 *
 * `times` limits the fault to the next N calls of the model, after which it
 * clears itself; without it the fault stays until deleted.
 *
 * @example { "status": 429, "retryAfterSeconds": 2, "times": 1 }
 * @example { "latencyMs": 20, "jitterMs": 30 }
 */
export const FaultSchema = z
  .strictObject({
    status: z.number().int().min(400).max(599).optional(),
    /** Sent as the `retry-after` header (seconds); needs `status`. */
    retryAfterSeconds: z.number().int().min(0).max(3_600).optional(),
    /** Replaces the default error message of `status`. */
    message: z.string().min(1).max(2_000).optional(),
    hang: z.literal(true).optional(),
    latencyMs: delayMs.optional(),
    /** Upper bound of the deterministic extra latency; needs `latencyMs`. */
    jitterMs: delayMs.optional(),
    firstTokenDelayMs: delayMs.optional(),
    chunkDelayMs: delayMs.optional(),
    malformed: z.union([z.literal(true), z.enum(['invalid-json', 'wrong-shape'])]).optional(),
    cutStreamAfterChunks: z.number().int().min(0).max(100_000).optional(),
    holdStreamAfterChunks: z.number().int().min(1).max(100_000).optional(),
    /** Answer with this text (well-formed and billed) instead of the deterministic reply. */
    reply: z.string().min(1).max(10_000).optional(),
    /** Apply to the next N calls only, then clear. */
    times: z.number().int().min(1).max(1_000_000).optional(),
  })
  .superRefine((fault, context) => {
    const outcomes = [fault.status !== undefined, fault.hang === true, fault.malformed !== undefined];
    if (outcomes.filter(Boolean).length > 1) {
      context.addIssue({ code: 'custom', message: 'status, hang and malformed exclude each other' });
    }
    if (fault.retryAfterSeconds !== undefined && fault.status === undefined) {
      context.addIssue({ code: 'custom', path: ['retryAfterSeconds'], message: 'retryAfterSeconds needs status' });
    }
    if (fault.jitterMs !== undefined && fault.latencyMs === undefined) {
      context.addIssue({ code: 'custom', path: ['jitterMs'], message: 'jitterMs needs latencyMs' });
    }
    const effects = Object.keys(fault).filter((key) => key !== 'times' && key !== 'message');
    if (effects.length === 0) {
      context.addIssue({ code: 'custom', message: 'a fault needs at least one effect' });
    }
  });
export type Fault = z.infer<typeof FaultSchema>;
