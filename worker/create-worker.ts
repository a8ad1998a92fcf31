import { bundleWorkflowCode, type NativeConnection, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createActivities } from '../activities/create-activities';
import type { ModelAdapter } from '../activities/providers/model-adapter';
import { createModelAdapter } from '../activities/providers/registry';
import { ACTIVITY_TIMEOUT_MARGIN_MS } from '../common/constants';
import { resolveApiKey, type LoadedConfig } from './load-config';

export interface CreateWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  config: LoadedConfig;
  /** Where provider keys are read from (by the names the config gives). */
  env: Readonly<Record<string, string | undefined>>;
  /** A prebuilt bundle; built (once per process) when absent. */
  workflowBundle?: WorkflowBundleWithSourceMap;
}

let bundlePromise: Promise<WorkflowBundleWithSourceMap> | undefined;

/** Bundles the workflow code once per process: bundling takes seconds. */
export function getWorkflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundlePromise ??= bundleWorkflowCode({ workflowsPath: require.resolve('../workflows'), logger: quietBundlerLogger });
  return bundlePromise;
}

/** Builds one adapter per configured provider; keys are resolved here and stay in this process. */
export function createAdapters(config: LoadedConfig, env: CreateWorkerOptions['env']): Map<string, ModelAdapter> {
  const adapters = new Map<string, ModelAdapter>();
  for (const [providerId, provider] of Object.entries(config.config.providers)) {
    adapters.set(
      providerId,
      createModelAdapter(provider.type, {
        providerId,
        baseUrl: provider.baseUrl,
        apiKey: resolveApiKey(provider.apiKeyEnv, env),
        requestTimeoutMs: provider.timeouts.requestMs,
        streamTimeoutMs: provider.timeouts.streamMs,
      }),
    );
  }
  return adapters;
}

/** A worker that runs the gateway's workflows and provider activities. */
export async function createWorker(options: CreateWorkerOptions): Promise<Worker> {
  const activities = createActivities({ config: options.config, adapters: createAdapters(options.config, options.env) });
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    workflowBundle: options.workflowBundle ?? (await getWorkflowBundle()),
    activities,
    // In-flight LLM calls get time to finish on a deploy instead of being cut.
    shutdownGraceTime: maxRequestTimeout(options.config) + ACTIVITY_TIMEOUT_MARGIN_MS,
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
