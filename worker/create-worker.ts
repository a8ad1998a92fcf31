import { bundleWorkflowCode, type NativeConnection, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createActivities } from '../activities/create-activities';
import { ObservedStats } from '../activities/observed-stats';
import { ACTIVITY_TIMEOUT_MARGIN_MS } from '../common/constants';
import type { ConfigStore } from './config-store';
import type { LoadedConfig } from './load-config';

export interface CreateWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  /** The config in force (with its adapters); reloads apply to new requests. */
  store: ConfigStore;
  /** A prebuilt bundle; built (once per process) when absent. */
  workflowBundle?: WorkflowBundleWithSourceMap;
}

let bundlePromise: Promise<WorkflowBundleWithSourceMap> | undefined;

/** Bundles the workflow code once per process: bundling takes seconds. */
export function getWorkflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundlePromise ??= bundleWorkflowCode({ workflowsPath: require.resolve('../workflows'), logger: quietBundlerLogger });
  return bundlePromise;
}

/** A worker that runs the gateway's workflows and provider activities. */
export async function createWorker(options: CreateWorkerOptions): Promise<Worker> {
  const activities = createActivities({ store: options.store, stats: new ObservedStats() });
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    workflowBundle: options.workflowBundle ?? (await getWorkflowBundle()),
    activities,
    // In-flight LLM calls get time to finish on a deploy instead of being cut.
    shutdownGraceTime: maxRequestTimeout(options.store.config) + ACTIVITY_TIMEOUT_MARGIN_MS,
  });
}

function maxRequestTimeout(config: LoadedConfig): number {
  return Math.max(1_000, ...Object.values(config.config.providers).map((provider) => provider.timeouts.requestMs));
}

const quietBundlerLogger = {
  log() {},
  trace() {},
  debug() {},
  info() {},
  warn(message: string, meta?: Record<string, unknown>) {
    console.warn(message, meta ?? '');
  },
  error(message: string, meta?: Record<string, unknown>) {
    console.error(message, meta ?? '');
  },
};
