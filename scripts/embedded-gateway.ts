import { Client } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { createApp } from '../api/create-app';
import { listen } from '../api/listen';
import { createStreamWorker } from '../worker/create-stream-worker';
import { createWorker } from '../worker/create-worker';
import type { LoadedConfig } from '../worker/load-config';

export interface EmbeddedGatewayOptions {
  temporalAddress: string;
  namespace: string;
  taskQueue: string;
  config: LoadedConfig;
  env: Readonly<Record<string, string | undefined>>;
  apiHost: string;
  apiPort: number;
}

export interface EmbeddedGateway {
  apiUrl: string;
  client: Client;
  worker: Worker;
  /** The activity-only worker that streams answers to this process's callers. */
  streamWorker: Worker;
  stop(): Promise<void>;
}

/**
 * Worker and API in one process sharing one NativeConnection, which lets the
 * API start workflows eagerly on this worker (one round trip fewer).
 */
export async function startEmbeddedGateway(options: EmbeddedGatewayOptions): Promise<EmbeddedGateway> {
  const connection = await NativeConnection.connect({ address: options.temporalAddress });
  const worker = await createWorker({
    connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    config: options.config,
    env: options.env,
  });
  const stream = await createStreamWorker({
    connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    config: options.config,
    env: options.env,
  });
  const client = new Client({ connection, namespace: options.namespace });
  const running = Promise.all([worker.run(), stream.worker.run()]);
  const app = createApp({
    client,
    config: options.config,
    taskQueue: options.taskQueue,
    eagerStart: true,
    streaming: { taskQueue: stream.taskQueue, relay: stream.relay },
  });
  const server = await listen(app, options.apiHost, options.apiPort);
  let stopped: Promise<void> | undefined;
  return {
    apiUrl: server.url,
    client,
    worker,
    streamWorker: stream.worker,
    stop() {
      stopped ??= (async () => {
        await server.close();
        if (worker.getState() === 'RUNNING') worker.shutdown();
        if (stream.worker.getState() === 'RUNNING') stream.worker.shutdown();
        await running.catch(() => undefined);
        await connection.close();
      })();
      return stopped;
    },
  };
}
