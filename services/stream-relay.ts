import type { CallModelInput } from '../common/routing-snapshot-schema';
import type { CanonicalResponse } from '../common/response-schema';
import type { StreamDelta } from '../activities/providers/model-adapter';
import type { CallModelResult } from '../common/call-target';

/** Receives a streamed answer's pieces for one request, in the process that holds its HTTP response. */
export interface StreamListener {
  /** One piece of the answer of `target`, in order; must not throw. */
  onDelta(delta: StreamDelta, target: CallModelInput): void;
  /**
   * The answer is complete and valid: the response the workflow is about to
   * return (its own durations aside), so the caller's stream can end now
   * instead of after the workflow's bookkeeping. Must not throw.
   */
  onAnswer?(response: CanonicalResponse): void;
}

/** What a streaming activity writes to: the request's listener, if one is still there. */
export interface StreamChannel {
  /** Pieces delivered to the listener so far, by every try of this request in this process. */
  readonly deltasSent: number;
  /** The call that completed the answer, when one did: a retry of that call (its completion was lost) returns it again. */
  readonly answered: CallModelResult | undefined;
  send(delta: StreamDelta, target: CallModelInput): void;
  /** Hands the complete answer to the listener, and keeps `result` for a retry of the same call. */
  answer(result: CallModelResult, response: CanonicalResponse | undefined): void;
}

interface Entry {
  listener: StreamListener;
  deltasSent: number;
  answered?: CallModelResult;
}

/**
 * The in-process hand-off between a streaming activity and the HTTP response
 * waiting for its tokens, keyed by workflow id. The API registers a listener
 * before it starts the workflow; the workflow schedules the streaming call on
 * this process's own task queue, so the activity finds the listener here.
 */
export class StreamRelay {
  private readonly entries = new Map<string, Entry>();

  /**
   * Registers the listener of `workflowId`.
   * @returns a handle that removes it, or undefined when the request already
   *   has a listener (a second caller attached to the same idempotent request).
   */
  listen(workflowId: string, listener: StreamListener): { close(): void } | undefined {
    if (this.entries.has(workflowId)) return undefined;
    const entry: Entry = { listener, deltasSent: 0 };
    this.entries.set(workflowId, entry);
    return {
      close: () => {
        if (this.entries.get(workflowId) === entry) this.entries.delete(workflowId);
      },
    };
  }

  /** The channel a streaming activity of `workflowId` writes to; pieces are dropped when nobody listens. */
  channel(workflowId: string): StreamChannel {
    const entries = this.entries;
    return {
      get deltasSent() {
        return entries.get(workflowId)?.deltasSent ?? 0;
      },
      get answered() {
        return entries.get(workflowId)?.answered;
      },
      send(delta, target) {
        const entry = entries.get(workflowId);
        if (!entry) return;
        entry.deltasSent += 1;
        entry.listener.onDelta(delta, target);
      },
      answer(result, response) {
        const entry = entries.get(workflowId);
        if (!entry) return;
        entry.answered = result;
        if (response) entry.listener.onAnswer?.(response);
      },
    };
  }

  /** Requests with a listener right now. */
  get size(): number {
    return this.entries.size;
  }
}
