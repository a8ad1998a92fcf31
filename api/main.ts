// Production entry: an API process (no worker), talking to Temporal over gRPC.
import { Client, Connection } from '@temporalio/client';
import { loadConfigFile } from '../worker/load-config';
import { readSettings } from '../worker/settings';
import { createApp } from './create-app';
import { listen } from './listen';

async function main(): Promise<void> {
  const settings = readSettings();
  const config = loadConfigFile(settings.configPath, settings.env);
  const connection = await Connection.connect({ address: settings.temporalAddress });
  const client = new Client({ connection, namespace: settings.temporalNamespace });
  const app = createApp({ client, config, taskQueue: settings.taskQueue, eagerStart: false });
  const server = await listen(app, settings.apiHost, settings.apiPort);
  console.error(JSON.stringify({ msg: 'api listening', url: server.url, configVersion: config.version }));
  const shutdown = async () => {
    await server.close();
    await connection.close();
    process.exit(0);
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
