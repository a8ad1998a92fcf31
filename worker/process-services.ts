import { Client } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { NativeConnection } from '@temporalio/worker';
import type { AuditTrail } from '../activities/audit-trail';
import type { BreakerBoard } from '../activities/breaker-board';
import type { BudgetBoard } from '../activities/budget-board';
import { QualityBoard } from '../activities/quality-board';
import { ResponseCache } from '../activities/response-cache/response-cache';
import type { ConfigStore } from './config-store';
import { createAuditTrail, createBreakerBoard, createBudgetBoard } from './create-worker';
import { logLine } from './json-logger';
import type { Tracing } from './tracing';
import { rememberTemporalAddress } from './temporal-reachability';

/**
 * What every gateway process (API, worker, or both embedded) shares: one
 * Temporal connection, the config in force, the data converter (history
 * encryption) and tracing, the breaker and budget boards and the audit trail. Pass it
 * whole to `createWorker` / `createStreamWorker`.
 */
export interface ProcessServices {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  store: ConfigStore;
  dataConverter: DataConverter | undefined;
  tracing: Tracing | undefined;
  breakers: BreakerBoard | undefined;
  budgets: BudgetBoard;
  cache: ResponseCache;
  quality: QualityBoard;
  audit: AuditTrail;
  /** A client on the shared connection, with the same converter and tracing. */
  client: Client;
  /** Stops the board and the trail (sending what is pending), tracing, and closes the connection. */
  stop(): Promise<void>;
}

export async function startProcessServices(options: {
  temporalAddress: string;
  namespace: string;
  taskQueue: string;
  store: ConfigStore;
  /** Names the process in audit events. */
  process: string;
  dataConverter?: DataConverter;
  tracing?: Tracing;
  /** Share circuit breakers with every other process. @default true */
  breakers?: boolean;
}): Promise<ProcessServices> {
  const { namespace, taskQueue, store, dataConverter, tracing } = options;
  const connection = await NativeConnection.connect({ address: options.temporalAddress });
  const breakers = options.breakers === false ? undefined : createBreakerBoard({ connection, namespace, taskQueue, store, dataConverter });
  const budgets = createBudgetBoard({ connection, namespace, taskQueue, store, dataConverter });
  const cache = new ResponseCache(store, logLine);
  const quality = new QualityBoard(new Client({ connection, namespace, dataConverter }), taskQueue, logLine);
  quality.start();
  const audit = createAuditTrail({ connection, namespace, taskQueue, store, process: options.process, dataConverter });
  const client = new Client({ connection, namespace, dataConverter, plugins: tracing ? [tracing.plugin] : [] });
  rememberTemporalAddress(connection, options.temporalAddress);
  let stopped: Promise<void> | undefined;
  return {
    connection,
    namespace,
    taskQueue,
    store,
    dataConverter,
    tracing,
    breakers,
    budgets,
    cache,
    quality,
    audit,
    client,
    stop() {
      stopped ??= (async () => {
        await breakers?.stop();
        budgets.stop();
        quality.stop();
        await cache.close();
        await audit.stop();
        await tracing?.shutdown();
        await connection.close();
      })();
      return stopped;
    },
  };
}
