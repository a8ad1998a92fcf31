// Production entry: a worker process (scale these horizontally).
import { NativeConnection, Runtime } from '@temporalio/worker';
import { jsonLogger } from './json-logger';
import { serveMetrics } from './serve-metrics';
import { loadConfigFile } from './load-config';
import { ConfigStore } from './config-store';
import { createAuditTrail, createBreakerBoard, createWorker } from './create-worker';
import { readSettings } from './settings';
import { dataConverterFor } from './data-converter';
import { startTracing } from './tracing';

async function main(): Promise<void> {
  const settings = readSettings();
  Runtime.install({
    logger: jsonLogger(),
    ...(settings.sdkMetricsAddress ? { telemetryOptions: { metrics: { prometheus: { bindAddress: settings.sdkMetricsAddress } } } } : {}),
  });
  const config = loadConfigFile(settings.configPath, settings.env);
  // A changed config file (or SIGHUP) applies to new requests; running workflows keep their snapshot.
  const store = new ConfigStore(config, settings.env);
  const unwatch = store.watch(settings.configPath);
  const dataConverter = dataConverterFor(settings.historyKeys);
  const tracing = startTracing(settings.env);
  const connection = await NativeConnection.connect({ address: settings.temporalAddress });
  const breakers = createBreakerBoard({ connection, namespace: settings.temporalNamespace, taskQueue: settings.taskQueue, store, dataConverter });
  const audit = createAuditTrail({ connection, namespace: settings.temporalNamespace, taskQueue: settings.taskQueue, store, process: 'worker', dataConverter });
  try {
    const worker = await createWorker({
      tracing,
      dataConverter,
      audit,
      breakers,
      connection,
      namespace: settings.temporalNamespace,
      taskQueue: settings.taskQueue,
      store,
    });
    const metricsServer = await serveMetrics({ host: settings.metricsHost, port: settings.metricsPort, sdkMetricsAddress: settings.sdkMetricsAddress });
    console.error(
      JSON.stringify({ msg: 'worker started', metrics: metricsServer.url, taskQueue: settings.taskQueue, temporal: settings.temporalAddress, configVersion: config.version }),
    );
    // Runtime's default shutdown signals (SIGINT, SIGTERM, …) drain the worker; run() resolves after.
    await worker.run();
    metricsServer.server.close();
  } finally {
    unwatch();
    await breakers.stop();
    await audit.stop();
    await tracing?.shutdown();
    await connection.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
