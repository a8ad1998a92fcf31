// Production entry: a worker process (scale these horizontally).
import { Runtime } from '@temporalio/worker';
import { jsonLogger, logLine } from '../runtime/json-logger';
import { startLargePayloadSweep } from '../runtime/payload-storage';
import { serveMetrics } from '../runtime/serve-metrics';
import { loadConfigFile } from '../runtime/load-config';
import { ConfigStore } from '../services/config-store';
import { createWorker } from './create-worker';
import { startProcessServices } from '../services/process-services';
import { readSettings } from '../runtime/settings';
import { dataConverterFor } from '../runtime/data-converter';
import { startTracing } from '../runtime/tracing';

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
  const stopSweep = startLargePayloadSweep(settings.largePayloads, logLine);
  const services = await startProcessServices({
    temporal: settings.temporal,
    taskQueue: settings.taskQueue,
    store,
    process: 'worker',
    dataConverter: dataConverterFor(settings),
    tracing: startTracing(settings.env),
  });
  try {
    const worker = await createWorker({ ...services, bundleApart: true });
    const metricsServer = await serveMetrics({ host: settings.metricsHost, port: settings.metricsPort, sdkMetricsAddress: settings.sdkMetricsAddress });
    console.error(
      JSON.stringify({ msg: 'worker started', metrics: metricsServer.url, taskQueue: settings.taskQueue, temporal: settings.temporal.summary, configVersion: config.version }),
    );
    // Runtime's default shutdown signals (SIGINT, SIGTERM, …) drain the worker; run() resolves after.
    await worker.run();
    metricsServer.server.close();
  } finally {
    unwatch();
    stopSweep();
    await services.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
