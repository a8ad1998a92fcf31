import { activityInfo, ApplicationFailure } from '@temporalio/activity';
import type { CanonicalRequest } from '../common/request-schema';
import { readCallTarget, type RecordedCallModelInput } from '../common/call-target';
import { callProvider, type ActivityDependencies, type CallModelResult } from './call-provider';
import type { StreamRelay } from '../services/stream-relay';

/**
 * The streaming activity. It runs only in API processes, on each process's
 * own task queue, and hands every piece of the answer to the HTTP response
 * waiting in that process (through `relay`).
 */
export function createStreamActivities(dependencies: ActivityDependencies & { relay: StreamRelay }) {
  return {
    /**
     * Streams one model's answer to the request's listener and returns the
     * whole output, as `callModel` does. A failure before the first piece
     * reached the caller is an ordinary provider failure (retried, or the
     * next model streams instead); after it, a non-retryable
     * `StreamInterrupted`, so no try ever repeats text the caller holds.
     */
    async streamModel(request: CanonicalRequest, recorded: RecordedCallModelInput): Promise<CallModelResult> {
      const target = readCallTarget(recorded);
      // Activities started by a workflow always carry its execution; the relay is keyed by workflow id.
      const channel = dependencies.relay.channel(activityInfo().workflowExecution?.workflowId ?? '');
      if (channel.deltasSent > 0) {
        throw interrupted(channel.deltasSent, 'an earlier try failed mid-stream');
      }
      return callProvider(dependencies, request, target, {
        call: (adapter, sent, signal) =>
          adapter.stream(sent, {
            upstreamModel: target.upstreamModel,
            signal,
            onDelta: (delta) => channel.send(delta, target),
          }),
        progress: () => ({ deltasSent: channel.deltasSent }),
        reviseFailure: (failure) =>
          channel.deltasSent > 0 ? interrupted(channel.deltasSent, `${failure.type ?? 'failure'}: ${failure.message}`, failure.details?.[0]) : failure,
      });
    },
  };
}

export type StreamActivities = ReturnType<typeof createStreamActivities>;

function interrupted(deltasSent: number, reason: string, facts?: unknown): ApplicationFailure {
  return ApplicationFailure.create({
    type: 'StreamInterrupted',
    message: `the stream broke after ${deltasSent} piece(s) reached the caller (${reason})`,
    nonRetryable: true,
    details: [typeof facts === 'object' && facts !== null ? { ...facts } : {}],
  });
}
