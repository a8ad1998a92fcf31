import type { Client } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import type { Worker } from '@temporalio/worker';
import { createApp } from '../api/create-app';
import { listen } from '../runtime/listen';
import { createStreamWorker } from '../worker/create-stream-worker';
import { createWorker } from '../worker/create-worker';
import { ObservedStats } from '../services/observed-stats';
import { startProcessServices } from '../services/process-services';
import type { BreakerBoard } from '../services/breaker-board';
import { ConfigStore } from '../services/config-store';
import type { Tracing } from '../runtime/tracing';
import type { LoadedConfig } from '../runtime/load-config';
import type { TemporalConnectionSettings } from '../runtime/temporal-connection';

export interface EmbeddedGatewayOptions {
  temporal: TemporalConnectionSettings;
  taskQueue: string;
  config: LoadedConfig;
  env: Readonly<Record<string, string | undefined>>;
  /** Watch this file (and SIGHUP) and apply a changed config to new requests. */
  configPath?: string;
  /** Share circuit breakers with every other process (default true; tests of other features turn it off). */
  breakers?: boolean;
  /** History encryption (and any other payload codec) for every client and worker here. */
  dataConverter?: DataConverter;
  /** OpenTelemetry tracing (see `startTracing`); off when absent. */
  tracing?: Tracing;
  /** Bundle the workflow code in a process of its own (see `bundleInOwnProcess`): `npm start` does, tests share one bundle per process. */
  bundleApart?: boolean;
  apiHost: string;
  apiPort: number;
}

export interface EmbeddedGateway {
  apiUrl: string;
  client: Client;
  worker: Worker;
  /** The config in force (reloaded from `configPath` when it changes). */
  store: ConfigStore;
  /** This process's view of the shared circuit breakers (undefined when turned off). */
  breakers: BreakerBoard | undefined;
  /** The activity-only worker that streams answers to this process's callers. */
  streamWorker: Worker;
  stop(): Promise<void>;
}

/**
 * Worker and API in one process sharing one NativeConnection, which lets the
 * API start workflows eagerly on this worker (one round trip fewer).
 */
export async function startEmbeddedGateway(options: EmbeddedGatewayOptions): Promise<EmbeddedGateway> {
  const store = new ConfigStore(options.config, options.env);
  const unwatch = options.configPath === undefined ? () => undefined : store.watch(options.configPath);
  const services = await startProcessServices({
    temporal: options.temporal,
    taskQueue: options.taskQueue,
    store,
    process: 'embedded',
    dataConverter: options.dataConverter,
    tracing: options.tracing,
    breakers: options.breakers,
  });
  const { client, breakers, budgets, quality, audit } = services;
  // One set of call statistics: the API routes each request as this worker would and hands the workflow its snapshot.
  const stats = new ObservedStats();
  const worker = await createWorker({ ...services, stats, bundleApart: options.bundleApart });
  const stream = await createStreamWorker(services);
  const running = Promise.all([worker.run(), stream.worker.run()]);
  const app = createApp({
    client,
    store,
    taskQueue: options.taskQueue,
    eagerStart: true,
    streaming: { taskQueue: stream.taskQueue, relay: stream.relay },
    breakers,
    budgets,
    quality,
    stats,
    audit,
    codec: options.dataConverter?.payloadCodecs?.[0],
  });
  const server = await listen(app, options.apiHost, options.apiPort);
  let stopped: Promise<void> | undefined;
  return {
    apiUrl: server.url,
    client,
    worker,
    store,
    breakers,
    streamWorker: stream.worker,
    stop() {
      stopped ??= (async () => {
        unwatch();
        await server.close();
        if (worker.getState() === 'RUNNING') worker.shutdown();
        if (stream.worker.getState() === 'RUNNING') stream.worker.shutdown();
        await running.catch(() => undefined);
        await services.stop();
      })();
      return stopped;
    },
  };
}
