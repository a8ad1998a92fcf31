import { existsSync } from 'node:fs';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import type { NativeConnectionOptions } from '@temporalio/worker';

const DEFAULT_ADDRESS = '127.0.0.1:7233';
const DEFAULT_NAMESPACE = 'default';

/**
 * How a process reaches Temporal, read the way every Temporal application
 * reads it (`@temporalio/envconfig`): the profile `TEMPORAL_PROFILE` (else
 * `default`) of the TOML file `TEMPORAL_CONFIG_FILE` (else
 * `~/.config/temporalio/temporal.toml`), overridden by `TEMPORAL_ADDRESS`,
 * `TEMPORAL_NAMESPACE`, `TEMPORAL_API_KEY`, `TEMPORAL_TLS`,
 * `TEMPORAL_TLS_CLIENT_CERT_PATH`/`_DATA`, `TEMPORAL_TLS_CLIENT_KEY_PATH`/`_DATA`,
 * `TEMPORAL_TLS_SERVER_CA_CERT_PATH`/`_DATA`, `TEMPORAL_TLS_SERVER_NAME` and
 * `TEMPORAL_GRPC_META_*`. An API key turns TLS on, as the SDKs do.
 */
export interface TemporalConnectionSettings {
  address: string;
  namespace: string;
  /** What `NativeConnection.connect` and `Connection.connect` take. Holds the API key and TLS key: never log it. */
  options: NativeConnectionOptions & { address: string };
  /** The same, fit for a log line: where, and whether TLS and an API key are used. */
  summary: { address: string; namespace: string; profile: string | null; tls: boolean; apiKey: boolean };
}

export function readTemporalConnection(env: Readonly<Record<string, string | undefined>>): TemporalConnectionSettings {
  const defined = Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined));
  // envconfig reads a missing file as no file; a file someone named must exist.
  if (defined.TEMPORAL_CONFIG_FILE && !existsSync(defined.TEMPORAL_CONFIG_FILE)) {
    throw new Error(`TEMPORAL_CONFIG_FILE names ${defined.TEMPORAL_CONFIG_FILE}, which does not exist`);
  }
  let loaded: ReturnType<typeof loadClientConnectConfig>;
  try {
    loaded = loadClientConnectConfig({ overrideEnvVars: defined });
  } catch (error) {
    throw new Error(`Temporal connection settings: ${error instanceof Error ? error.message : String(error)}`);
  }
  const address = loaded.connectionOptions.address ?? DEFAULT_ADDRESS;
  const namespace = loaded.namespace ?? DEFAULT_NAMESPACE;
  const { tls, apiKey } = loaded.connectionOptions;
  return {
    address,
    namespace,
    options: { ...(Object.fromEntries(Object.entries(loaded.connectionOptions).filter(([, value]) => value !== undefined)) as NativeConnectionOptions), address },
    summary: {
      address,
      namespace,
      profile: defined.TEMPORAL_PROFILE ?? null,
      tls: tls !== undefined && tls !== false,
      apiKey: apiKey !== undefined && apiKey !== '',
    },
  };
}

/** A plain connection to `address` (a dev server this process started): no profile, TLS or key applies. */
export function plainTemporalConnection(address: string, namespace = DEFAULT_NAMESPACE): TemporalConnectionSettings {
  return { address, namespace, options: { address }, summary: { address, namespace, profile: null, tls: false, apiKey: false } };
}
