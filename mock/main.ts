import { parseArgs } from 'node:util';
import { startMockProvider } from './mock-provider';

/**
 * Runs the mock provider until Ctrl-C / SIGTERM:
 * `node --import tsx mock/main.ts [--port 4010] [--host 127.0.0.1] [--openai-key K]… [--anthropic-key K]…`.
 * Without a key flag a dialect accepts any key.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '0' },
      host: { type: 'string', default: '127.0.0.1' },
      'openai-key': { type: 'string', multiple: true },
      'anthropic-key': { type: 'string', multiple: true },
    },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new Error(`--port must be an integer between 0 and 65535, got "${values.port}"`);
  }
  const apiKeys = { openai: values['openai-key'], anthropic: values['anthropic-key'] };
  const mock = await startMockProvider({ port, host: values.host, apiKeys });
  console.log(mock.url);

  const stop = (signal: NodeJS.Signals): void => {
    console.error(`mock provider: ${signal}, closing`);
    mock.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
