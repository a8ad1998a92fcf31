import { Client } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { NativeConnection } from '@temporalio/worker';
import { AuditTrail } from './audit-trail';
import { BreakerBoard } from './breaker-board';
import { BudgetBoard } from './budget-board';
import { QualityBoard } from './quality-board';
import { ResponseCache } from './response-cache/response-cache';
import type { ConfigStore } from './config-store';
import { logLine } from '../runtime/json-logger';
import type { Tracing } from '../runtime/tracing';
import type { TemporalConnectionSettings } from '../runtime/temporal-connection';
import { rememberTemporalAddress } from '../runtime/temporal-reachability';

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
  temporal: TemporalConnectionSettings;
  taskQueue: string;
  store: ConfigStore;
  /** Names the process in audit events. */
  process: string;
  dataConverter?: DataConverter;
  tracing?: Tracing;
  /** Share circuit breakers with every other process. @default true */
  breakers?: boolean;
}): Promise<ProcessServices> {
  const { taskQueue, store, dataConverter, tracing } = options;
  const { namespace } = options.temporal;
  const refused = (error: unknown): never => {
    const { address, tls, apiKey } = options.temporal.summary;
    const how = `${tls ? 'TLS' : 'no TLS'}, ${apiKey ? 'an API key' : 'no API key'}`;
    throw new Error(`cannot connect to Temporal at ${address} (${how}), namespace ${namespace}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  };
  const connection = await NativeConnection.connect(options.temporal.options).catch(refused);
  // The handshake alone proves little (a server that requires a key answers it without one): ask for the namespace once.
  await connection.workflowService.describeNamespace({ namespace }).catch(async (error: unknown) => {
    await connection.close().catch(() => undefined);
    refused(error);
  });
  // The boards' and the trail's own traffic, untraced: one client on the shared connection.
  const boardClient = new Client({ connection, namespace, dataConverter });
  const breakers = options.breakers === false ? undefined : createBreakerBoard({ client: boardClient, taskQueue, store });
  const budgets = createBudgetBoard({ client: boardClient, taskQueue, store });
  const cache = new ResponseCache(store, logLine);
  const quality = new QualityBoard(boardClient, taskQueue, logLine);
  quality.start();
  const audit = createAuditTrail({ client: boardClient, taskQueue, store, process: options.process });
  const client = new Client({ connection, namespace, dataConverter, plugins: tracing ? [tracing.plugin] : [] });
  rememberTemporalAddress(connection, options.temporal.address);
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

/**
 * This process's view of the shared breakers, started: outcomes batched into
 * the breaker workflows on `taskQueue`, states read every second. Stop it
 * (it sends what is pending) when the process shuts down.
 */
export function createBreakerBoard(options: { client: Client; taskQueue: string; store: ConfigStore }): BreakerBoard {
  const board = new BreakerBoard({
    client: options.client,
    taskQueue: options.taskQueue,
    providers: () => Object.fromEntries(Object.entries(options.store.loaded.config.providers).map(([id, provider]) => [id, provider.breaker])),
    log: logLine,
  });
  board.start();
  return board;
}

/** This process's side of the shared budgets, started: every budget's state read every second. Stop it on shutdown. */
export function createBudgetBoard(options: { client: Client; taskQueue: string; store: ConfigStore }): BudgetBoard {
  const board = new BudgetBoard({
    client: options.client,
    taskQueue: options.taskQueue,
    budgets: () => options.store.loaded.config.budgets,
    log: logLine,
  });
  board.start();
  return board;
}

/**
 * This process's side of the shared audit trail, started, with the config
 * store reporting to it. Logs `config_loaded` with the version in force.
 */
export function createAuditTrail(options: { client: Client; taskQueue: string; store: ConfigStore; process: string }): AuditTrail {
  const trail = new AuditTrail(options.client, options.taskQueue);
  trail.start();
  options.store.audit = (event) => trail.record({ ...event, audit: String(event.audit), process: options.process });
  trail.record({ audit: 'config_loaded', version: options.store.loaded.version, process: options.process });
  return trail;
}
