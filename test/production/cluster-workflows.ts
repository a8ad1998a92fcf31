// Runs in the workflow sandbox: deterministic, no I/O.
// The workflows the production-cluster test runs: one activity round trip,
// and a wait on a signal that spans a server restart.
import { condition, defineSignal, proxyActivities, setHandler } from '@temporalio/workflow';
import type * as activities from './cluster-activities';

const { greet } = proxyActivities<typeof activities>({ startToCloseTimeout: '30 seconds' });

export const releaseSignal = defineSignal('releaseSignal');

/** Greets `name` through an activity. */
export async function greetingWorkflow(name: string): Promise<string> {
  return greet(name);
}

/** Waits for `releaseSignal`, then greets: its state lives through a server restart in between. */
export async function releasedGreetingWorkflow(name: string): Promise<string> {
  let released = false;
  setHandler(releaseSignal, () => {
    released = true;
  });
  await condition(() => released);
  return greet(name);
}
