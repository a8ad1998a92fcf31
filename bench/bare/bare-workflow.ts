// Runs in the workflow sandbox: deterministic, no I/O.
// The bench's floor: a bare Temporal workflow of the gateway's common shape —
// one provider call as a regular activity (heartbeat and timeouts like the
// gateway's), its answer the result. Nothing else: no routing, no budgets,
// no cache, no telemetry, no search attributes.
import { proxyActivities } from '@temporalio/workflow';
import type { BareActivities, BareBody } from './bare-server';

const { callModel, streamModel } = proxyActivities<BareActivities>({
  startToCloseTimeout: 25_000,
  heartbeatTimeout: 5_000,
  retry: { maximumAttempts: 3, initialInterval: 200 },
});

export async function bareRequestWorkflow(body: BareBody): Promise<unknown> {
  return callModel(body);
}

/** The streamed floor: the same one activity, relaying the provider's stream to the caller's connection. */
export async function bareStreamWorkflow(body: BareBody, streamId: string): Promise<string> {
  return streamModel(body, streamId);
}
