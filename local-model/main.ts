// The embedded local model server: one GGUF model on the CPU behind the OpenAI
// Chat Completions wire format. `npm start` runs it for every provider of the
// config with an `embedded` block; on its own:
//   SWITCHYARD_CONFIG=config/mock.yaml node --import tsx local-model/main.ts
// LOCAL_MODEL_PROVIDER picks the provider when several are embedded;
// LOCAL_MODEL_HOST overrides the bind address (0.0.0.0 in a container).
import { dirname } from 'node:path';
import { own } from '../common/own';
import { loadConfigFile } from '../runtime/load-config';
import { readSettings } from '../runtime/settings';
import { ModelUnavailableError } from './model-file';
import { startLocalModelServer } from './start-local-model-server';

function log(line: Record<string, unknown>): void {
  process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), process: 'local-model', ...line })}\n`);
}

async function main(): Promise<void> {
  const settings = readSettings();
  const { config } = loadConfigFile(settings.configPath, settings.env);
  const embedded = Object.entries(config.providers).filter(([, provider]) => provider.embedded !== undefined);
  const name = settings.env.LOCAL_MODEL_PROVIDER ?? (embedded.length === 1 ? embedded[0]?.[0] : undefined);
  if (name === undefined) {
    throw new Error(
      embedded.length === 0
        ? `no provider in ${settings.configPath} has an "embedded" block: nothing to serve`
        : `several providers are embedded (${embedded.map(([id]) => id).join(', ')}): set LOCAL_MODEL_PROVIDER`,
    );
  }
  const provider = own(config.providers, name);
  if (provider?.embedded === undefined) throw new Error(`provider "${name}" has no "embedded" block in ${settings.configPath}`);
  const url = new URL(provider.baseUrl);
  const server = await startLocalModelServer({
    settings: provider.embedded,
    host: settings.env.LOCAL_MODEL_HOST ?? url.hostname,
    port: Number(url.port || 80),
    dataDir: settings.dataDir,
    baseDir: dirname(settings.configPath),
    ...(settings.env.SWITCHYARD_PYTHON ? { python: settings.env.SWITCHYARD_PYTHON } : {}),
    log,
  });
  log({ level: 'info', msg: 'local model server listening', provider: name, url: server.baseUrl, model: server.modelId, file: server.modelPath });
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    void server.close().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  log({ level: 'error', msg: error instanceof ModelUnavailableError ? 'local model unavailable' : 'local model server failed to start', error: message });
  process.exit(error instanceof ModelUnavailableError ? 3 : 1);
});
