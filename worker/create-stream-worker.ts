import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { DataConverter } from '@temporalio/common';
import { type NativeConnection, Worker } from '@temporalio/worker';
import type { AuditTrail } from '../services/audit-trail';
import type { BudgetBoard } from '../services/budget-board';
import type { BreakerBoard } from '../services/breaker-board';
import { createStreamActivities } from '../activities/create-stream-activities';
import { StreamRelay } from '../services/stream-relay';
import { ACTIVITY_TIMEOUT_MARGIN_MS } from '../common/constants';
import type { ConfigStore } from '../services/config-store';
import type { Tracing } from '../runtime/tracing';
import type { LoadedConfig } from '../runtime/load-config';

export interface StreamWorker {
  worker: Worker;
  /** This process's own queue: the workflow schedules its streaming calls here. */
  taskQueue: string;
  /** Where the streaming activity hands tokens to this process's open responses. */
  relay: StreamRelay;
}

/**
 * The activity-only worker every API process runs for streaming: it polls a
 * task queue no other process polls, so a workflow streaming a request's
 * answer runs the provider call in the very process that holds the caller's
 * connection, and tokens go straight from the provider to the caller.
 */
export async function createStreamWorker(options: {
  connection: NativeConnection;
  namespace: string;
  /** The gateway's task queue; the stream queue is named after it. */
  taskQueue: string;
  /** The config in force (with its adapters). */
  store: ConfigStore;
  /** This process's view of the shared circuit breakers. */
  breakers?: BreakerBoard;
  /** The shared budgets: a streamed retry after a lost try reserves its worst case here. */
  budgets?: BudgetBoard;
  audit?: AuditTrail;
  dataConverter?: DataConverter;
  tracing?: Tracing;
}): Promise<StreamWorker> {
  const relay = new StreamRelay();
  const taskQueue = streamTaskQueueName(options.taskQueue);
  const worker = await Worker.create({
    plugins: options.tracing ? [options.tracing.plugin] : [],
    dataConverter: options.dataConverter,
    connection: options.connection,
    namespace: options.namespace,
    taskQueue,
    activities: createStreamActivities({ store: options.store, relay, breakers: options.breakers, budgets: options.budgets, audit: options.audit }),
    // Open streams get time to finish on a deploy.
    shutdownGraceTime: maxStreamTimeout(options.store.loaded) + ACTIVITY_TIMEOUT_MARGIN_MS,
  });
  return { worker, taskQueue, relay };
}

/** `<queue>-stream-<host>-<pid>-<random>`: unique per process, readable in the UI. */
export function streamTaskQueueName(taskQueue: string): string {
  const host = hostname().replace(/[^A-Za-z0-9.-]/g, '-').slice(0, 40);
  return `${taskQueue}-stream-${host}-${process.pid}-${randomUUID().slice(0, 8)}`;
}

function maxStreamTimeout(config: LoadedConfig): number {
  return Math.max(1_000, ...Object.values(config.config.providers).map((provider) => provider.timeouts.streamMs));
}
