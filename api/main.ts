// Production entry: an API process, talking to Temporal over gRPC. It runs no
// workflows; its only worker streams answers to its own callers.
import { Runtime } from '@temporalio/worker';
import { ConfigStore } from '../services/config-store';
import { createStreamWorker } from '../worker/create-stream-worker';
import { startProcessServices } from '../services/process-services';
import { jsonLogger } from '../runtime/json-logger';
import { loadConfigFile } from '../runtime/load-config';
import { readSettings } from '../runtime/settings';
import { createApp } from './create-app';
import { listen } from '../runtime/listen';
import { serveMetrics } from '../runtime/serve-metrics';
import { assertNoPublishedKeysBeyondLoopback } from './published-keys';
import { dataConverterFor } from '../runtime/data-converter';
import { startTracing } from '../runtime/tracing';

async function main(): Promise<void> {
  // This process orders its own shutdown: stop taking requests, then let open streams finish.
  Runtime.install({ shutdownSignals: [], logger: jsonLogger() });
  const settings = readSettings();
  const config = loadConfigFile(settings.configPath, settings.env);
  // A config that accepts config/mock.yaml's published keys serves this machine only.
  assertNoPublishedKeysBeyondLoopback(config.config, settings.apiHost);
  // A changed config file (or SIGHUP) applies to new requests.
  const store = new ConfigStore(config, settings.env);
  const unwatch = store.watch(settings.configPath);
  const dataConverter = dataConverterFor(settings);
  const services = await startProcessServices({
    temporal: settings.temporal,
    taskQueue: settings.taskQueue,
    store,
    process: 'api',
    dataConverter,
    tracing: startTracing(settings.env),
  });
  const { client, breakers, budgets, quality, audit } = services;
  const stream = await createStreamWorker(services);
  const streaming = stream.worker.run();
  const app = createApp({
    client,
    store,
    taskQueue: settings.taskQueue,
    eagerStart: false,
    streaming: { taskQueue: stream.taskQueue, relay: stream.relay },
    breakers,
    budgets,
    quality,
    audit,
    codec: dataConverter?.payloadCodecs?.[0],
  });
  const server = await listen(app, settings.apiHost, settings.apiPort);
  // Open, for Prometheus on the internal network; the API's own /metrics wants the admin key.
  const metricsServer = await serveMetrics({ host: settings.metricsHost, port: settings.metricsPort });
  console.error(
    JSON.stringify({ msg: 'api listening', url: server.url, metrics: metricsServer.url, temporal: settings.temporal.summary, streamTaskQueue: stream.taskQueue, configVersion: config.version }),
  );
  let stopping = false;
  const shutdown = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    unwatch();
    await server.close();
    metricsServer.server.close();
    stream.worker.shutdown();
    await streaming;
    await services.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown());
  process.once('SIGTERM', () => void shutdown());
  await streaming.catch((error: unknown) => {
    console.error(JSON.stringify({ msg: 'stream worker failed', error: error instanceof Error ? error.message : String(error) }));
    process.exit(1);
  });
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
