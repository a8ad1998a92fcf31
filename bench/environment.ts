// Everything the benchmark runs against: a Temporal dev server on a throwaway
// SQLite file, the mock provider at zero latency and the embedded gateway
// (worker + API in this process), all on free ports.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMockProvider, type MockProvider } from '../mock/mock-provider';
import { startEmbeddedGateway, type EmbeddedGateway } from '../scripts/embedded-gateway';
import { startDevServer, type DevServer } from '../scripts/temporal-dev-server';
import { harnessConfig, TENANT_KEY } from '../test/support/gateway-harness';
import { HARNESS_PROVIDER_KEYS, mockApiKeysFor } from '../test/support/provider-keys';
import type { GatewayConfigInput } from '../common/config-schema';
import { dataConverterFor } from '../runtime/data-converter';
import { parseConfig } from '../runtime/load-config';
import { readSettings } from '../runtime/settings';
import { startTracing, type Tracing } from '../runtime/tracing';
import { plainTemporalConnection } from '../runtime/temporal-connection';

/** The model every benchmark request names: served by the mock's OpenAI route, no fallback expected. */
export const BENCH_MODEL = 'model-a';
export const BENCH_TENANT_KEY = TENANT_KEY;
/** The key the gateway sends to the mock's OpenAI dialect; direct calls send the same. */
export const MOCK_KEY = HARNESS_PROVIDER_KEYS.MOCK_PROVIDER_KEY;

/** Provider timeouts far above any latency expected here, so load never turns into failover. */
const BENCH_TIMEOUTS = { requestMs: 30_000, totalMs: 60_000, heartbeatMs: 10_000 };

export interface BenchEnvironment {
  apiUrl: string;
  mockUrl: string;
  devServer: DevServer;
  /** Stops everything that was started; safe to call more than once. */
  stop(): Promise<void>;
}

/** Starts dev server, mock and gateway; on a failure part-way, stops what already started and rethrows. */
export async function startBenchEnvironment(
  log: (line: string) => void,
  options: { tracing?: boolean; localActivities?: boolean; configure?: (config: GatewayConfigInput) => GatewayConfigInput } = {},
): Promise<BenchEnvironment> {
  const directory = mkdtempSync(join(tmpdir(), 'switchyard-bench-'));
  let devServer: DevServer | undefined;
  let mock: MockProvider | undefined;
  let gateway: EmbeddedGateway | undefined;
  let sink: Server | undefined;
  let tracing: Tracing | undefined;
  let stopping: Promise<void> | undefined;

  const stop = () => {
    stopping ??= (async () => {
      const steps: [string, (() => Promise<void>) | undefined][] = [
        ['gateway', gateway && (() => gateway!.stop())],
        ['tracing', tracing && (() => tracing!.shutdown())],
        ['span sink', sink && (() => new Promise<void>((resolve) => sink!.close(() => resolve())))],
        ['mock provider', mock && (() => mock!.close())],
        ['Temporal dev server', devServer && (() => devServer!.stop())],
      ];
      for (const [name, step] of steps) {
        if (!step) continue;
        try {
          await step();
        } catch (error) {
          log(`[bench] stopping the ${name} failed: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
      rmSync(directory, { recursive: true, force: true });
    })();
    return stopping;
  };

  try {
    log('[bench] starting the Temporal dev server (throwaway SQLite file)…');
    devServer = await startDevServer({ dbFile: join(directory, 'temporal.db') });
    mock = await startMockProvider();
    const base: GatewayConfigInput = {
      ...harnessConfig(mock.url, BENCH_TIMEOUTS),
      ...(options.localActivities ? { execution: { providerCalls: 'local' } } : {}),
    };
    const config = parseConfig(options.configure ? options.configure(base) : base);
    mock.state.setApiKeys(mockApiKeysFor(base, HARNESS_PROVIDER_KEYS));
    if (options.localActivities) log('[bench] provider calls run as local activities');
    log(`[bench] dev server ${devServer.address} (pid ${devServer.process.pid}), mock ${mock.url}; starting the gateway…`);
    if (options.tracing) {
      // A real OTLP/HTTP endpoint that accepts and drops spans: the cost measured is the gateway's.
      sink = createServer((request, response) => {
        request.resume();
        request.on('end', () => response.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
      });
      await new Promise<void>((resolve) => sink!.listen(0, '127.0.0.1', resolve));
      const endpoint = `http://127.0.0.1:${(sink.address() as AddressInfo).port}`;
      tracing = startTracing({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_SERVICE_NAME: 'switchyard-bench' });
      log(`[bench] tracing on: spans exported over OTLP/HTTP to ${endpoint}`);
    }
    gateway = await startEmbeddedGateway({
      tracing,
      temporal: plainTemporalConnection(devServer.address),
      taskQueue: `bench-${process.pid}-${Date.now()}`,
      config,
      env: { ...HARNESS_PROVIDER_KEYS },
      apiHost: '127.0.0.1',
      apiPort: 0,
      // As a deployment runs: large payloads leave history (here into the throwaway folder) unless the caller's env says `off`.
      dataConverter: dataConverterFor(readSettings({ ...process.env, SWITCHYARD_LARGE_PAYLOADS_DIR: process.env.SWITCHYARD_LARGE_PAYLOADS_DIR ?? join(directory, 'payloads') })),
    });
    log(`[bench] gateway ${gateway.apiUrl}${process.env.SWITCHYARD_LARGE_PAYLOADS_DIR === 'off' ? ' (large-payload storage off)' : ''}`);
    return { apiUrl: gateway.apiUrl, mockUrl: mock.url, devServer, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
