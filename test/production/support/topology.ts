// The gateway in a production topology: the real Temporal server on
// PostgreSQL with mTLS and JWT authorization (scripts/temporal-cluster.ts),
// two API processes and two worker processes (separate OS processes), the
// shared Redis cache, history encryption, the mock provider and an agent
// tool server, every gateway process connecting through envconfig's
// standard TEMPORAL_* variables.
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { connectTemporal } from '../../../client/connect-temporal';
import { MockControlClient } from '../../../mock/mock-control-client';
import { startMockProvider } from '../../../mock/mock-provider';
import { startRedisServer, type RedisServer } from '../../../scripts/redis-server';
import { startTemporalCluster, type TemporalCluster } from '../../../scripts/temporal-cluster';
import { harnessConfig } from '../../support/gateway-harness';
import { killAll, startEntryPoint } from '../../support/processes';
import { HARNESS_PROVIDER_KEYS, mockApiKeysFor } from '../../support/provider-keys';

export interface GatewayProcess {
  child: ChildProcess;
  /** The API's URL (API processes only). */
  url: string;
  /** Every line the process wrote to stderr. */
  lines: string[];
}

export interface Topology {
  cluster: TemporalCluster;
  redis: RedisServer;
  control: MockControlClient;
  /** The environment every gateway process gets: the cluster's TEMPORAL_* variables, config, Redis, keys. */
  env: Record<string, string>;
  apis: GatewayProcess[];
  workers: GatewayProcess[];
  /** Ops' own client, connected the way the gateway is (envconfig). */
  client: Client;
  /** The tool server's calls, by idempotency key. */
  toolCalls: Map<string, number>;
  startApi(env?: Record<string, string | undefined>): Promise<GatewayProcess>;
  startWorker(env?: Record<string, string | undefined>): Promise<GatewayProcess>;
  stop(): Promise<void>;
}

/** Timeouts for a machine with two cores running a whole cluster. */
const TIMEOUTS = { requestMs: 10_000, totalMs: 120_000, heartbeatMs: 2_000, streamMs: 60_000 };
/** A process of the topology is up within this long, or the suite stops with its log. */
const READY_WITHIN_MS = 120_000;

export interface TopologyOptions {
  /** Worker processes started at first. @default 2 */
  workers?: number;
  /** API processes. @default 2 */
  apis?: number;
  /** Names the cluster's data folders. @default 'production-suite' */
  name?: string;
}

export async function startTopology(options: TopologyOptions = {}): Promise<Topology> {
  const folder = mkdtempSync(join(tmpdir(), 'switchyard-production-'));
  const children: ChildProcess[] = [];
  const toolCalls = new Map<string, number>();
  const toolServer = await startToolServer(toolCalls);
  const cluster = await startTemporalCluster({ name: options.name ?? 'production-suite' });
  const redis = await startRedisServer();
  const mock = await startMockProvider();
  const toolUrl = `http://127.0.0.1:${(toolServer.address() as AddressInfo).port}/tools/weather`;
  // Breakers stay shared (the default of separate processes) but never open on this suite's few faults.
  const base = harnessConfig(mock.url, TIMEOUTS, { consecutiveFailures: 1_000, minimumVolume: 1_000 });
  const config = {
    ...base,
    cache: { enabled: true, store: 'redis' as const },
    batch: { ...base.batch, filesDir: join(folder, 'files') },
    agents: {
      tools: { weather: { url: toolUrl, description: 'The weather in a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } },
      maxSteps: 4,
      initialWaitMs: 200,
      maxWaitMs: 1_000,
    },
  };
  const configFile = join(folder, 'gateway.json');
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  const env: Record<string, string> = {
    ...HARNESS_PROVIDER_KEYS,
    ...cluster.env(),
    SWITCHYARD_CONFIG: configFile,
    SWITCHYARD_TASK_QUEUE: 'switchyard-production',
    METRICS_PORT: '0',
    REDIS_URL: redis.url,
    // Production encrypts history: every process holds the same key ring.
    SWITCHYARD_HISTORY_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    SWITCHYARD_LARGE_PAYLOADS_DIR: join(folder, 'payloads'),
    // No profile file of the machine's user leaks in: only the variables above say where Temporal is.
    HOME: folder,
  };
  const control = new MockControlClient(mock.url);
  await control.setApiKeys(mockApiKeysFor(base, env));

  const start = async (entry: string, ready: string, overrides: Record<string, string | undefined>): Promise<GatewayProcess> => {
    const lines: string[] = [];
    const processEnv: Record<string, string | undefined> = { ...env, ...overrides };
    const { child, line } = await startEntryPoint(entry, ready, processEnv, (text) => lines.push(text), { readyWithinMs: READY_WITHIN_MS });
    children.push(child);
    return { child, url: typeof line.url === 'string' ? line.url : '', lines };
  };
  const startApi = (overrides: Record<string, string | undefined> = {}) => start('api/main.ts', 'api listening', overrides);
  const startWorker = (overrides: Record<string, string | undefined> = {}) => start('worker/main.ts', 'worker started', overrides);

  // One at a time: on 2 cores, starting them together only makes each slower to get ready.
  const workers: GatewayProcess[] = [];
  for (let index = 0; index < (options.workers ?? 2); index += 1) workers.push(await startWorker());
  const apis: GatewayProcess[] = [];
  for (let index = 0; index < (options.apis ?? 2); index += 1) apis.push(await startApi());
  const ops = await connectTemporal(env);
  return {
    cluster,
    redis,
    control,
    env,
    apis,
    workers,
    client: ops.client,
    toolCalls,
    startApi,
    startWorker,
    async stop() {
      killAll(children);
      await ops.close().catch(() => undefined);
      await mock.close();
      await redis.stop();
      await cluster.stop();
      await new Promise((resolve) => toolServer.close(resolve));
      rmSync(folder, { recursive: true, force: true });
    },
  };
}

/** The agent tool: `weather` answers the city's forecast and counts calls by idempotency key. */
async function startToolServer(calls: Map<string, number>): Promise<Server> {
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      const key = request.headers['idempotency-key'];
      if (typeof key === 'string') calls.set(key, (calls.get(key) ?? 0) + 1);
      const parsed = JSON.parse(body || '{}') as { arguments?: { city?: string } };
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ forecast: `sunny in ${parsed.arguments?.city ?? 'nowhere'}` }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}
