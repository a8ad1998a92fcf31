// The Temporal server's static config for a production-shaped single-host
// cluster: PostgreSQL persistence and visibility, mTLS on the public
// frontend, JWT authorization, and an internal frontend for the server's own
// worker service. Pure: builds the YAML text, writes nothing.
import { stringify } from 'yaml';

/** The services `temporal-server start` runs, each on its own ports. */
export const CLUSTER_SERVICES = ['frontend', 'internal-frontend', 'history', 'matching', 'worker'] as const;
export type ClusterService = (typeof CLUSTER_SERVICES)[number];

export interface ServicePorts {
  grpcPort: number;
  membershipPort: number;
}

export interface TemporalServerConfigInput {
  postgres: { host: string; port: number; user: string; password: string };
  databases: { temporal: string; visibility: string };
  ports: Record<ClusterService, ServicePorts>;
  tls: { serverCertPath: string; serverKeyPath: string; clientCaPath: string; serverName: string };
  jwksUrl: string;
  dynamicConfigPath: string;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
}

/** Four, like the server's own postgres12 development config: enough to spread load, cheap to start. */
const HISTORY_SHARDS = 4;

/**
 * Dynamic config for tests: new search attributes visible at once, and the
 * transfer-queue poll rate that removes the ~50 ms wait before each workflow
 * task (shared/TEMPORAL.md §1.1a) and the 50 ms timer time shift, as the dev
 * server gets.
 */
export function dynamicConfigYaml(): string {
  const values: Record<string, unknown> = {
    'system.forceSearchAttributesCacheRefreshOnRead': true,
    'history.transferProcessorMaxPollRPS': 10_000,
    'history.timerProcessorMaxTimeShift': '50ms',
    'system.enableEagerWorkflowStart': true,
  };
  return stringify(Object.fromEntries(Object.entries(values).map(([key, value]) => [key, [{ value, constraints: {} }]])));
}

export function temporalServerConfigYaml(input: TemporalServerConfigInput): string {
  const sqlStore = (databaseName: string, maxConns: number) => ({
    sql: {
      pluginName: 'postgres12',
      databaseName,
      connectAddr: `${input.postgres.host}:${input.postgres.port}`,
      connectProtocol: 'tcp',
      user: input.postgres.user,
      password: input.postgres.password,
      maxConns,
      maxIdleConns: maxConns,
      maxConnLifetime: '1h',
    },
  });
  const services = Object.fromEntries(
    CLUSTER_SERVICES.map((service) => [service, { rpc: { ...input.ports[service], bindOnIP: '127.0.0.1' } }]),
  );
  const frontendAddress = `127.0.0.1:${input.ports.frontend.grpcPort}`;

  const config = {
    log: { stdout: true, level: input.logLevel, format: 'json' },
    persistence: {
      defaultStore: 'postgres-default',
      visibilityStore: 'postgres-visibility',
      numHistoryShards: HISTORY_SHARDS,
      datastores: {
        'postgres-default': sqlStore(input.databases.temporal, 20),
        'postgres-visibility': sqlStore(input.databases.visibility, 5),
      },
    },
    global: {
      membership: { maxJoinDuration: '30s', broadcastAddress: '127.0.0.1' },
      // No pprof or metrics listener: fixed ports would collide across clusters on one machine.
      pprof: { port: 0 },
      tls: {
        // Only the public frontend speaks TLS. The internode links (history, matching, internal
        // frontend) stay on 127.0.0.1 in plain gRPC, as they would inside a private network.
        frontend: {
          server: {
            certFile: input.tls.serverCertPath,
            keyFile: input.tls.serverKeyPath,
            requireClientAuth: true,
            clientCaFiles: [input.tls.clientCaPath],
          },
          client: { serverName: input.tls.serverName, rootCaFiles: [input.tls.clientCaPath] },
        },
      },
      authorization: {
        jwtKeyProvider: { keySourceURIs: [input.jwksUrl], refreshInterval: '1m' },
        permissionsClaimName: 'permissions',
        authorizer: 'default',
        claimMapper: 'default',
      },
    },
    // The internal frontend is how the server's own worker service (system workflows: namespace
    // deletion, scanners, schedules) reaches the API with authorization on: it runs the internal
    // claim mapper (every caller is a system admin) and is reached over the internode TLS config.
    services,
    clusterMetadata: {
      enableGlobalNamespace: false,
      failoverVersionIncrement: 10,
      masterClusterName: 'active',
      currentClusterName: 'active',
      clusterInformation: { active: { enabled: true, initialFailoverVersion: 1, rpcName: 'frontend', rpcAddress: frontendAddress } },
    },
    dcRedirectionPolicy: { policy: 'noop' },
    archival: { history: { state: 'disabled' }, visibility: { state: 'disabled' } },
    namespaceDefaults: { archival: { history: { state: 'disabled' }, visibility: { state: 'disabled' } } },
    dynamicConfigClient: { filepath: input.dynamicConfigPath, pollInterval: '10s' },
  };
  return stringify(config);
}
