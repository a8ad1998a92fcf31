import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { hashKey } from '../../api/authenticate';
import type { BreakerSettings, GatewayConfigInput } from '../../common/config-schema';
import type { Fault } from '../../mock/fault-schema';
import { MockControlClient } from '../../mock/mock-control-client';
import { startMockProvider } from '../../mock/mock-provider';
import { startEmbeddedGateway, type EmbeddedGateway } from '../../scripts/embedded-gateway';
import { HARNESS_PROVIDER_KEYS, mockApiKeysFor } from './provider-keys';
import { startDevServer, type DevServer } from '../../scripts/temporal-dev-server';
import { dataConverterFor } from '../../runtime/data-converter';
import { parseConfig } from '../../runtime/load-config';
import { readSettings } from '../../runtime/settings';
import { plainTemporalConnection } from '../../runtime/temporal-connection';

/** Tenant keys the harness config accepts. */
export const TENANT_KEY = 'test-tenant-key-alpha';
export const OTHER_TENANT_KEY = 'test-tenant-key-beta';
/** The operators' key for `/admin`. */
export const ADMIN_KEY = 'test-admin-key';
/** Tenant `gamma`, whose requests default to the `summarize` task class and `confidential` data. */
export const GAMMA_TENANT_KEY = 'test-tenant-key-gamma';

/** Provider timeouts/retries small enough that failover tests finish in seconds. */
export const TEST_RETRY = { maximumAttempts: 3, initialIntervalMs: 50, backoffCoefficient: 2, maximumIntervalMs: 200, maxRetryAfterMs: 3_000 };
export const TEST_TIMEOUTS = { requestMs: 1_500, totalMs: 20_000, heartbeatMs: 1_000, streamMs: 20_000 };

/** Provider timeouts a test may set; `streamMs` defaults as in production. */
export type HarnessTimeouts = { requestMs: number; totalMs: number; heartbeatMs: number; streamMs?: number };

/**
 * A gateway config over the mock: `model-a` (OpenAI dialect) falls back to
 * `model-b` (Anthropic dialect), then `model-c` (OpenAI-compatible). Each
 * provider names a key of its own (`HARNESS_PROVIDER_KEYS`), which the mock requires.
 */
export function harnessConfig(mockUrl: string, timeouts: HarnessTimeouts = TEST_TIMEOUTS, breaker: Partial<BreakerSettings> = {}): GatewayConfigInput {
  const provider = { retry: TEST_RETRY, timeouts, breaker } as const;
  return {
    providers: {
      'mock-openai': { type: 'openai', baseUrl: `${mockUrl}/v1`, apiKeyEnv: 'MOCK_PROVIDER_KEY', ...provider },
      'mock-anthropic': { type: 'anthropic', baseUrl: mockUrl, apiKeyEnv: 'MOCK_ANTHROPIC_KEY', ...provider },
      'mock-local': { type: 'openai-compatible', baseUrl: `${mockUrl}/v1`, apiKeyEnv: 'MOCK_LOCAL_KEY', ...provider },
    },
    models: {
      'model-a': {
        provider: 'mock-openai',
        approvedFor: ['public', 'internal'],
        fallbacks: ['model-b', 'model-c'],
        contextWindow: 128_000,
        pricing: { inputPerMillionUsd: 5, outputPerMillionUsd: 15 },
        quality: { default: 0.9 },
      },
      'model-b': {
        provider: 'mock-anthropic',
        approvedFor: ['public', 'internal'],
        fallbacks: ['model-c'],
        contextWindow: 200_000,
        pricing: { inputPerMillionUsd: 3, outputPerMillionUsd: 15 },
        quality: { default: 0.8 },
      },
      'model-c': {
        provider: 'mock-local',
        contextWindow: 32_000,
        capabilities: ['tools', 'json_object', 'json_schema', 'streaming'],
        pricing: { inputPerMillionUsd: 0, outputPerMillionUsd: 0 },
        selfHosted: true,
        openSource: true,
        approvedFor: ['public', 'internal', 'confidential'],
        quality: { default: 0.4 },
      },
      // Cheap, but its window holds only short prompts.
      'model-small': {
        provider: 'mock-openai',
        approvedFor: ['public', 'internal'],
        contextWindow: 300,
        pricing: { inputPerMillionUsd: 0.1, outputPerMillionUsd: 0.4 },
        quality: { default: 0.6 },
      },
    },
    routes: { default: ['model-a', 'model-b', 'model-c'] },
    taskClasses: {
      summarize: { models: ['model-small', 'model-b', 'model-a', 'model-c'] },
      chat: { models: ['model-a', 'model-b', 'model-c'] },
    },
    defaultRoute: 'default',
    fallback: { message: 'deterministic fallback answer' },
    tenants: {
      alpha: { keySha256: [hashKey(TENANT_KEY)] },
      beta: { keySha256: [hashKey(OTHER_TENANT_KEY)] },
      gamma: { keySha256: [hashKey(GAMMA_TENANT_KEY)], defaults: { taskClass: 'summarize', sensitivity: 'confidential' } },
    },
    admin: { keySha256: [hashKey(ADMIN_KEY)] },
    sensitivity: {
      classes: ['public', 'internal', 'confidential', 'restricted'],
      default: 'internal',
      actions: { public: 'allow', internal: 'redact', confidential: 'allow', restricted: 'refuse' },
      detect: { email: 'internal', phone: 'internal', payment_card: 'internal', iban: 'internal', national_id: 'confidential', secret: 'confidential' },
    },
  };
}

/** The shipped local model (SmolLM2-135M-Instruct, served by `local-model/`). */
export const LOCAL_MODEL = 'smollm2-135m-instruct';

/**
 * The harness config plus the embedded local model at `baseUrl` as the last
 * model of the default route and of every vendor model's fallbacks, and the
 * only model of that route approved for confidential data, as in the shipped configs.
 */
export function withLocalModel(baseUrl: string, provider = 'local-real') {
  return (config: GatewayConfigInput): GatewayConfigInput => ({
    ...config,
    providers: {
      ...config.providers,
      [provider]: {
        type: 'openai-compatible',
        baseUrl,
        embedded: { model: LOCAL_MODEL, slots: 1, queue: 8 },
        retry: TEST_RETRY,
        timeouts: { requestMs: 60_000, totalMs: 120_000, heartbeatMs: 10_000 },
      },
    },
    models: {
      ...config.models,
      'model-a': { ...config.models['model-a'], provider: 'mock-openai', fallbacks: ['model-b', LOCAL_MODEL] },
      'model-b': { ...config.models['model-b'], provider: 'mock-anthropic', fallbacks: [LOCAL_MODEL] },
      [LOCAL_MODEL]: {
        provider,
        contextWindow: 2_048,
        capabilities: ['json_object', 'json_schema', 'streaming'],
        pricing: { inputPerMillionUsd: 0, outputPerMillionUsd: 0 },
        selfHosted: true,
        openSource: true,
        approvedFor: ['public', 'internal', 'confidential'],
        quality: { default: 0.2 },
      },
    },
    routes: { default: ['model-a', 'model-b', LOCAL_MODEL] },
  });
}

export interface Harness {
  devServer: DevServer;
  mockUrl: string;
  /** A client of its own (not the gateway's), as ops would use. */
  client: Client;
  gateway: EmbeddedGateway | undefined;
  apiUrl: string;
  configFile: string;
  env: Record<string, string>;
  /** The mock's whole control API (held streams, call counts, …). */
  control: MockControlClient;
  /** Mock control: set a fault for a model. */
  setFault(model: string, fault: Fault): Promise<void>;
  clearFaults(): Promise<void>;
  calls(): Promise<Record<string, number>>;
  resetCalls(): Promise<void>;
  stop(): Promise<void>;
}

/** Dev server + mock + (optionally) the embedded gateway, all on free ports with a throwaway database. */
export async function startHarness(
  options: {
    embeddedGateway?: boolean;
    timeouts?: HarnessTimeouts;
    /**
     * Share circuit breakers (off by default: a breaker opened by one test's
     * faults would reroute the next test's requests). Breaker tests turn it on.
     */
    breakers?: boolean;
    /** Breaker settings of every provider, for breaker tests. */
    breaker?: Partial<BreakerSettings>;
    /** Top-level config fields to set on top of the harness config. */
    configPatch?: Partial<GatewayConfigInput>;
    /** Payloads of this many bytes or more leave history (default: the production 256 KiB). */
    largePayloadBytes?: number;
    /** Edits the harness config (after `configPatch`), e.g. to add a provider. */
    configure?: (config: GatewayConfigInput) => GatewayConfigInput;
    /**
     * Environment entries to add or replace, e.g. a provider key. The mock
     * requires the keys the harness config's providers name, read from the result.
     */
    env?: Record<string, string>;
  } = {},
): Promise<Harness> {
  const directory = mkdtempSync(join(tmpdir(), 'switchyard-test-'));
  const devServer = await startDevServer({ dbFile: join(directory, 'temporal.db') });
  const mock = await startMockProvider();
  const baseConfig = harnessConfig(mock.url, options.timeouts, options.breaker);
  const patched = { ...baseConfig, ...options.configPatch };
  // Batch files go to the test's own folder, never the project's data folder.
  const withFiles = { ...patched, batch: { filesDir: join(directory, 'files'), ...patched.batch } };
  const rawConfig = options.configure ? options.configure(withFiles) : withFiles;
  const configFile = join(directory, 'gateway.json');
  writeFileSync(configFile, JSON.stringify(rawConfig, null, 2));
  const config = parseConfig(rawConfig);
  const taskQueue = `test-${process.pid}-${Date.now()}`;
  const env: Record<string, string> = {
    ...HARNESS_PROVIDER_KEYS,
    TEMPORAL_ADDRESS: devServer.address,
    SWITCHYARD_CONFIG: configFile,
    SWITCHYARD_TASK_QUEUE: taskQueue,
    // Worker processes a test spawns serve /metrics on a free port each.
    METRICS_PORT: '0',
    // Payloads too large for history go to the test's own folder.
    SWITCHYARD_LARGE_PAYLOADS_DIR: join(directory, 'payloads'),
    ...(options.largePayloadBytes === undefined ? {} : { SWITCHYARD_LARGE_PAYLOAD_BYTES: String(options.largePayloadBytes) }),
    ...options.env,
  };
  const control = new MockControlClient(mock.url);
  // The harness's own providers, not a test's edits: a provider a test points at another key is refused.
  await control.setApiKeys(mockApiKeysFor(baseConfig, env));
  const dataConverter = dataConverterFor(readSettings(env));
  const gateway =
    options.embeddedGateway === false
      ? undefined
      : await startEmbeddedGateway({
          temporal: plainTemporalConnection(devServer.address),
          taskQueue,
          config,
          env,
          configPath: configFile,
          breakers: options.breakers === true,
          dataConverter,
          apiHost: '127.0.0.1',
          apiPort: 0,
        });
  const connection = await Connection.connect({ address: devServer.address });
  const client = new Client({ connection, dataConverter });
  return {
    devServer,
    mockUrl: mock.url,
    client,
    gateway,
    apiUrl: gateway?.apiUrl ?? '',
    configFile,
    env,
    control,
    setFault: (model, fault) => control.setFault(model, fault),
    clearFaults: () => control.clearFaults(),
    calls: () => control.calls(),
    resetCalls: () => control.resetCalls(),
    async stop() {
      await gateway?.stop();
      await connection.close();
      await mock.close();
      await devServer.stop();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
