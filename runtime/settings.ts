import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { LargePayloadSettings } from './payload-storage';
import { parseHistoryKeys, type HistoryKey, type PlaintextPolicy } from './history-codec';
import { DEFAULT_TASK_QUEUE } from '../common/constants';
import { readTemporalConnection, type TemporalConnectionSettings } from './temporal-connection';

/** Process settings from the environment; the only module that reads `process.env`. */
export interface Settings {
  /** Path of the gateway config file. */
  configPath: string;
  /** How to reach Temporal (envconfig: a TOML profile and the `TEMPORAL_*` variables). Holds secrets: never log it whole. */
  temporal: TemporalConnectionSettings;
  taskQueue: string;
  apiHost: string;
  apiPort: number;
  /** Where a worker process serves `GET /metrics`. */
  metricsHost: string;
  metricsPort: number;
  /** Bind address of the Temporal SDK's Prometheus exporter (e.g. `127.0.0.1:9464`); unset: SDK metrics off. */
  sdkMetricsAddress: string | undefined;
  /** History encryption keys, the encrypting one first; empty: history is not encrypted. */
  historyKeys: HistoryKey[];
  /** With history keys: whether workers read payloads that are not encrypted (`SWITCHYARD_HISTORY_PLAINTEXT=accept`, while histories from before the keys run out). @default refuse */
  historyPlaintext: PlaintextPolicy;
  /** Where the project keeps data that git ignores (models, the dev server's database). */
  dataDir: string;
  /** Payloads too large for history (Temporal's External Storage); unset: off. */
  largePayloads: LargePayloadSettings | undefined;
  /** The environment, for `${VAR}` expansion and provider keys (worker side only). */
  env: Readonly<Record<string, string | undefined>>;
}

const PROJECT_ROOT = resolve(__dirname, '..');

const settingsByEnv = new WeakMap<object, Settings>();

/**
 * The settings of one process's environment object, read once: the request
 * path (cache, files) asks for them often, and reading them parses the key
 * ring (maybe from its file) each time.
 */
export function settingsOf(env: Readonly<Record<string, string | undefined>>): Settings {
  let settings = settingsByEnv.get(env);
  if (!settings) {
    settings = readSettings(env as NodeJS.ProcessEnv);
    settingsByEnv.set(env, settings);
  }
  return settings;
}

export function readSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  return Object.freeze({
    configPath: resolve(env.SWITCHYARD_CONFIG ?? resolve(PROJECT_ROOT, 'config/gateway.yaml')),
    temporal: readTemporalConnection(env),
    taskQueue: env.SWITCHYARD_TASK_QUEUE ?? DEFAULT_TASK_QUEUE,
    apiHost: env.HOST ?? '127.0.0.1',
    apiPort: parsePort(env.PORT, 8080),
    metricsHost: env.METRICS_HOST ?? '127.0.0.1',
    metricsPort: parsePort(env.METRICS_PORT, 9091),
    sdkMetricsAddress: env.TEMPORAL_SDK_METRICS_ADDRESS || undefined,
    historyKeys: readHistoryKeys(env),
    historyPlaintext: readPlaintextPolicy(env.SWITCHYARD_HISTORY_PLAINTEXT),
    dataDir: resolve(env.SWITCHYARD_DATA_DIR ?? resolve(PROJECT_ROOT, '.data')),
    largePayloads: readLargePayloads(env),
    env: Object.freeze({ ...env }),
  });
}

/** `SWITCHYARD_HISTORY_KEYS` (`id:base64,…`) or the file named by `SWITCHYARD_HISTORY_KEYS_FILE` (one per line). */
function readHistoryKeys(env: NodeJS.ProcessEnv): HistoryKey[] {
  if (env.SWITCHYARD_HISTORY_KEYS) return parseHistoryKeys(env.SWITCHYARD_HISTORY_KEYS);
  if (env.SWITCHYARD_HISTORY_KEYS_FILE) return parseHistoryKeys(readFileSync(env.SWITCHYARD_HISTORY_KEYS_FILE, 'utf8'));
  return [];
}

function readPlaintextPolicy(value: string | undefined): PlaintextPolicy {
  if (value === undefined || value === '' || value === 'refuse') return 'refuse';
  if (value === 'accept') return 'accept';
  throw new Error(`SWITCHYARD_HISTORY_PLAINTEXT must be "refuse" or "accept", got "${value}"`);
}

/**
 * `SWITCHYARD_LARGE_PAYLOADS_DIR` (default `<data dir>/payloads`; `off` turns
 * it off), `SWITCHYARD_LARGE_PAYLOAD_BYTES` (default 256 KiB, Temporal's
 * default threshold) and `SWITCHYARD_LARGE_PAYLOAD_RETENTION_DAYS` (30).
 */
function readLargePayloads(env: NodeJS.ProcessEnv): LargePayloadSettings | undefined {
  const dir = env.SWITCHYARD_LARGE_PAYLOADS_DIR;
  if (dir === 'off') return undefined;
  return {
    dir: resolve(dir ?? resolve(env.SWITCHYARD_DATA_DIR ?? resolve(PROJECT_ROOT, '.data'), 'payloads')),
    thresholdBytes: parseWhole('SWITCHYARD_LARGE_PAYLOAD_BYTES', env.SWITCHYARD_LARGE_PAYLOAD_BYTES, 256 * 1024, 1_024),
    retentionDays: parseWhole('SWITCHYARD_LARGE_PAYLOAD_RETENTION_DAYS', env.SWITCHYARD_LARGE_PAYLOAD_RETENTION_DAYS, 30, 1),
  };
}

function parseWhole(name: string, value: string | undefined, fallback: number, min: number): number {
  if (value === undefined || value === '') return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < min) throw new Error(`${name} must be a whole number of at least ${min}, got "${value}"`);
  return parsed;
}

function parsePort(value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be a port number, got "${value}"`);
  return port;
}

export { PROJECT_ROOT };
