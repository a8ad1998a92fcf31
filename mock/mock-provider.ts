import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Express } from 'express';
import type { MockApiKeys } from './api-keys';
import type { MockClock } from './mock-clock';
import { anthropicRoutes } from './anthropic-routes';
import { controlRoutes } from './control-routes';
import { errorHandler, notFoundHandler } from './error-handler';
import { MockState } from './mock-state';
import { modelsRoute } from './models-route';
import { openAiRoutes } from './openai-routes';

/** Prompts up to the context limit (200,000 characters) must reach the handler, not die in the body parser. */
const MAX_BODY = '20mb';

/** Where and how to listen. */
export interface MockProviderOptions {
  /** @default 0 (a free port) */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
  /**
   * The keys each dialect accepts; a wrong or missing key gets the vendor's 401.
   * @default {} (any key; `PUT /_control/api-keys` may set them later)
   */
  apiKeys?: MockApiKeys;
  /** What fault delays wait on and call timings read. @default real time */
  clock?: MockClock;
}

/** A running mock provider. */
export interface MockProvider {
  /** Base URL without a trailing slash: OpenAI SDKs take `url + '/v1'`, Anthropic SDKs `url`. */
  url: string;
  port: number;
  /** Faults and call counts, for tests that prefer direct access to the control API. */
  state: MockState;
  /** Stops listening and drops every open connection, hanging requests included. */
  close(): Promise<void>;
}

/**
 * The mock's express app, not listening: OpenAI (`/v1/chat/completions`,
 * `/v1/models`) and Anthropic (`/v1/messages`) wire formats side by side,
 * plus the `/_control` API.
 */
export function createMockApp(state: MockState = new MockState()): Express {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.use(express.json({ limit: MAX_BODY }));
  app.use(controlRoutes(state));
  app.use(openAiRoutes(state));
  app.use(anthropicRoutes(state));
  app.use(modelsRoute(state));
  app.use(notFoundHandler);
  app.use(errorHandler);
  return app;
}

/**
 * Starts a mock provider speaking the OpenAI and Anthropic wire formats.
 *
 * @example
 * const mock = await startMockProvider({ apiKeys: { openai: ['sk-test'], anthropic: ['sk-ant-test'] } });
 * const openai = new OpenAI({ baseURL: `${mock.url}/v1`, apiKey: 'sk-test', maxRetries: 0 });
 * const anthropic = new Anthropic({ baseURL: mock.url, apiKey: 'sk-ant-test', maxRetries: 0 });
 * await mock.close();
 */
export async function startMockProvider(options: MockProviderOptions = {}): Promise<MockProvider> {
  const host = options.host ?? '127.0.0.1';
  const state = new MockState(options.clock);
  if (options.apiKeys !== undefined) state.setApiKeys(options.apiKeys);
  const server = createServer(createMockApp(state));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve, reject) => {
      server.close((error) => (error === undefined ? resolve() : reject(error)));
      // close() alone waits for keep-alive and hanging requests; a test's after() must not.
      server.closeAllConnections();
    });
    return closing;
  };
  return { url: `http://${urlHost}:${port}`, port, state, close };
}
