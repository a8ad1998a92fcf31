import { type NativeConnection, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { Client } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import type { AuditTrail } from '../services/audit-trail';
import type { BreakerBoard } from '../services/breaker-board';
import type { BudgetBoard } from '../services/budget-board';
import type { QualityBoard } from '../services/quality-board';
import type { ResponseCache } from '../services/response-cache/response-cache';
import { createActivities } from '../activities/create-activities';
import { ObservedStats } from '../services/observed-stats';
import { ACTIVITY_TIMEOUT_MARGIN_MS } from '../common/constants';
import type { ConfigStore } from '../services/config-store';
import { ensureEvalSchedule } from './eval-schedule';
import { telemetrySinks } from './request-telemetry';
import { logLine } from '../runtime/json-logger';
import type { Tracing } from '../runtime/tracing';
import type { LoadedConfig } from '../runtime/load-config';
import { bundleInOwnProcess, bundleWorkflows, getWorkflowBundle } from './workflow-bundle';

export interface CreateWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  /** The config in force (with its adapters); reloads apply to new requests. */
  store: ConfigStore;
  /** A prebuilt bundle (built with the data converter's `failureConverterPath`, if any); built once per process when absent. */
  workflowBundle?: WorkflowBundleWithSourceMap;
  /** This process's view of the shared circuit breakers (see `createBreakerBoard`). */
  breakers?: BreakerBoard;
  /** This process's side of the shared budgets (see `createBudgetBoard`). */
  budgets?: BudgetBoard;
  /** The response cache. */
  cache?: ResponseCache;
  /** Measured quality (eval scores) for routing, and where eval runs record. */
  quality?: QualityBoard;
  /** The shared audit trail (see `createAuditTrail`). */
  audit?: AuditTrail;
  /** The process's data converter (history encryption), shared with its clients. */
  dataConverter?: DataConverter;
  /** OpenTelemetry tracing (workflow and activity spans); off when absent. */
  tracing?: Tracing;
  /** What this process observes of each model's calls; an API in the same process routes on it too. @default one of its own */
  stats?: ObservedStats;
  /**
   * Bundle the workflow code in a process of its own, so this long-running
   * one never loads the bundler (see `bundleInOwnProcess`); else once per
   * process, here.
   */
  bundleApart?: boolean;
}

/** A worker that runs the gateway's workflows and provider activities. */
export async function createWorker(options: CreateWorkerOptions): Promise<Worker> {
  const activities = createActivities({
    store: options.store,
    stats: options.stats ?? new ObservedStats(),
    breakers: options.breakers,
    budgets: options.budgets,
    cache: options.cache,
    quality: options.quality,
    audit: options.audit,
  });
  const plugins = options.tracing ? [options.tracing.plugin] : [];
  // A traced worker needs a bundle with the tracing plugin's workflow interceptors.
  const failureConverterPath = options.dataConverter?.failureConverterPath;
  const workflowBundle =
    options.workflowBundle ??
    (options.tracing
      ? await bundleWorkflows(failureConverterPath, plugins)
      : options.bundleApart
        ? await bundleInOwnProcess(failureConverterPath)
        : await getWorkflowBundle(failureConverterPath));
  const worker = await Worker.create({
    plugins,
    dataConverter: options.dataConverter,
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    workflowBundle,
    activities,
    // Each request workflow's end, measured once here (never on replay), whatever started it.
    sinks: telemetrySinks(),
    // In-flight LLM calls get time to finish on a deploy instead of being cut.
    shutdownGraceTime: maxRequestTimeout(options.store.loaded) + ACTIVITY_TIMEOUT_MARGIN_MS,
  });
  // The eval Schedule follows the config; a failure here must not stop the worker.
  const client = new Client({ connection: options.connection, namespace: options.namespace, dataConverter: options.dataConverter });
  ensureEvalSchedule(client, options.taskQueue, options.store.loaded.config.evals).catch((error: unknown) =>
    logLine({ level: 'warn', msg: 'eval schedule not set', error: String(error) }),
  );
  return worker;
}

function maxRequestTimeout(config: LoadedConfig): number {
  return Math.max(1_000, ...Object.values(config.config.providers).map((provider) => provider.timeouts.requestMs));
}
