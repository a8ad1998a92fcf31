// `npm start`: the whole gateway on the embedded default — Temporal dev server
// (SQLite under .data/, Web UI), mock providers when no keys are set, the local
// model server when the config embeds one, and the worker + API in this
// process. Ctrl-C stops everything.
import { resolve } from 'node:path';
import { startMockProvider } from '../mock/mock-provider';
import { loadConfigFile } from '../runtime/load-config';
import { readSettings, PROJECT_ROOT } from '../runtime/settings';
import { dataConverterFor } from '../runtime/data-converter';
import { logLine } from '../runtime/json-logger';
import { startLargePayloadSweep } from '../runtime/payload-storage';
import { startTracing } from '../runtime/tracing';
import { startEmbeddedGateway } from './embedded-gateway';
import { assertNoPublishedKeysBeyondLoopback } from '../api/published-keys';
import { startDevServer } from './temporal-dev-server';
import { plainTemporalConnection } from '../runtime/temporal-connection';
import { startEntryPoint, stopChild } from './entry-point';

/** The local model server's first start fetches its model (about 100 MB) before it listens. */
const LOCAL_MODEL_READY_MS = 10 * 60_000;

async function main(): Promise<void> {
  const env = { ...process.env };
  const hasProviderKeys = Boolean(env.OPENAI_API_KEY || env.ANTHROPIC_API_KEY);
  const useMock = !env.SWITCHYARD_CONFIG && !hasProviderKeys;
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch((error: unknown) => console.error(error));
  };
  let stopping = false;
  const onSignal = () => {
    if (stopping) return;
    stopping = true;
    console.error('\n[switchyard] stopping…');
    void stopAll().then(() => process.exit(0));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    // Any of these names a Temporal to use; without them, start a dev server of our own.
    const external = ['TEMPORAL_ADDRESS', 'TEMPORAL_PROFILE', 'TEMPORAL_CONFIG_FILE'].some((name) => env[name]);
    let devServerAddress: string | undefined;
    if (!external) {
      const uiPort = Number(env.TEMPORAL_UI_PORT ?? 8233);
      const server = await startDevServer({
        port: Number(env.TEMPORAL_PORT ?? 7233),
        uiPort,
        dbFile: resolve(PROJECT_ROOT, env.TEMPORAL_DB_FILE ?? '.data/temporal.db'),
        stdio: 'inherit',
      });
      stops.push(server.stop);
      devServerAddress = server.address;
      console.error(`[switchyard] Temporal dev server ${server.address}, Web UI ${server.uiUrl}`);
    }

    if (useMock) {
      env.MOCK_PROVIDER_KEY ??= 'mock-key';
      // config/mock.yaml sends this key to both dialects; the mock refuses any other, as a vendor would.
      const keys = [env.MOCK_PROVIDER_KEY];
      const mock = await startMockProvider({ port: Number(env.MOCK_PROVIDER_PORT ?? 4010), apiKeys: { openai: keys, anthropic: keys } });
      stops.push(mock.close);
      env.MOCK_PROVIDER_URL = mock.url;
      env.SWITCHYARD_CONFIG = resolve(PROJECT_ROOT, 'config/mock.yaml');
      console.error(`[switchyard] no provider keys set: mock providers at ${mock.url} (fault control: ${mock.url}/_control)`);
    }

    const settings = readSettings(env);
    const config = loadConfigFile(settings.configPath, settings.env);
    // config/mock.yaml's keys are in the README: with them, the API serves this machine only.
    assertNoPublishedKeysBeyondLoopback(config.config, settings.apiHost);
    for (const [name, provider] of Object.entries(config.config.providers)) {
      if (provider.embedded === undefined) continue;
      // The local model runs in a process of its own: inference is CPU-bound native code.
      console.error(`[switchyard] starting the local model server for provider "${name}" (${provider.embedded.model}) at ${provider.baseUrl}`);
      try {
        const { child } = await startEntryPoint(
          'local-model/main.ts',
          'local model server listening',
          { ...settings.env, LOCAL_MODEL_PROVIDER: name },
          (line) => console.error(`[local-model] ${line}`),
          { readyWithinMs: LOCAL_MODEL_READY_MS },
        );
        stops.push(() => stopChild(child));
      } catch (error) {
        console.error(
          `[switchyard] WARNING: the local model of provider "${name}" is not running (${error instanceof Error ? error.message : String(error)}). ` +
            'The gateway starts without it: requests it would answer fall back to the deterministic answer.',
        );
      }
    }
    const gateway = await startEmbeddedGateway({
      // Our own dev server takes no TLS or key, whatever a profile file says.
      temporal: devServerAddress === undefined ? settings.temporal : plainTemporalConnection(devServerAddress, settings.temporal.namespace),
      taskQueue: settings.taskQueue,
      config,
      env: settings.env,
      configPath: settings.configPath,
      dataConverter: dataConverterFor(settings),
      tracing: startTracing(settings.env),
      bundleApart: true,
      apiHost: settings.apiHost,
      apiPort: settings.apiPort,
    });
    stops.push(gateway.stop);
    const stopSweep = startLargePayloadSweep(settings.largePayloads, logLine);
    stops.push(async () => stopSweep());
    console.error(`[switchyard] config ${settings.configPath} (${config.version})`);
    console.error(`[switchyard] API ${gateway.apiUrl}  — try:`);
    console.error(
      `  curl -s ${gateway.apiUrl}/v1/chat/completions -H 'Authorization: Bearer switchyard-dev-key' -H 'Content-Type: application/json' -d '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hello"}]}'`,
    );
  } catch (error) {
    console.error(`[switchyard] failed to start: ${error instanceof Error ? error.message : String(error)}`);
    await stopAll();
    process.exit(1);
  }
}

void main();
