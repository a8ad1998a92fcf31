// Temporal's time-skipping test server with a worker of the gateway's
// workflows on it, for one test file: started before its tests, stopped after.
import { after, before } from 'node:test';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkerOptions } from '@temporalio/worker';
import { resolveTemporalTestServer } from '../../scripts/temporal-dev-server';
import { getWorkflowBundle } from '../../worker/workflow-bundle';

export interface TimeSkipping {
  /** The environment (its client, its clock); set once `before` ran. */
  readonly env: TestWorkflowEnvironment;
}

/** Registers the file's `before` and `after`: the test server, and a worker on `taskQueue` with `options` (activities, sinks, …). */
export function useTimeSkippingWorker(taskQueue: string, options: Omit<WorkerOptions, 'connection' | 'taskQueue' | 'workflowBundle' | 'workflowsPath'> = {}): TimeSkipping {
  let env: TestWorkflowEnvironment | undefined;
  let worker: Worker | undefined;
  let running: Promise<void> | undefined;
  before(async () => {
    env = await TestWorkflowEnvironment.createTimeSkipping({
      server: { executable: { type: 'existing-path', path: resolveTemporalTestServer() } },
    });
    worker = await Worker.create({ ...options, connection: env.nativeConnection, taskQueue, workflowBundle: await getWorkflowBundle() });
    running = worker.run();
  });
  after(async () => {
    worker?.shutdown();
    await running;
    await env?.teardown();
  });
  return {
    get env() {
      if (!env) throw new Error('the time-skipping environment is not started yet (use it inside a test)');
      return env;
    },
  };
}
