// A production-shaped Temporal cluster on one host, for tests: the real
// temporal-server (scripts/temporal-server.ts) on PostgreSQL, mTLS on the
// frontend, JWT authorization against a JWKS this process serves, the
// namespace and the gateway's search attributes registered. Everything lives
// under .data/temporal-cluster-<name>/ and .data/postgres-<name>/.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { lastLines } from './debian-packages';
import { startJwksServer, type JwksServer } from './jwks-server';
import { startPostgres, type PostgresServer } from './postgres-server';
import { CLUSTER_SERVICES, dynamicConfigYaml, temporalServerConfigYaml, type ClusterService, type ServicePorts } from './temporal-server-config';
import { ensureTemporalServer, type TemporalServerInstall } from './temporal-server';
import { createTestCertificates } from './test-certificates';
import { connectToCluster, registerNamespace, registerSearchAttributes, waitForFrontend, type ClusterConnectionOptions } from './temporal-cluster-setup';

const execFileAsync = promisify(execFile);
const DATA_ROOT = resolve(__dirname, '..', '.data');
const SCHEMA_TIMEOUT_MS = 120_000;
const READY_TIMEOUT_MS = 120_000;
const STOP_GRACE_MS = 15_000;
const DATABASES = { temporal: 'temporal', visibility: 'temporal_visibility' };

export interface TemporalClusterOptions {
  /** Names the data directories. @default 'production' */
  name?: string;
  /** Created at start. @default 'default' */
  namespace?: string;
  /** The server's log level (the log is a file under .data/). @default 'info' */
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
}

export interface TemporalCluster {
  /** The public frontend, `127.0.0.1:<port>`: mTLS and a JWT required. */
  address: string;
  namespace: string;
  /** A JWT granting `<namespace>:admin`; send it as the API key (`authorization: Bearer …`). */
  apiKey: string;
  tls: { clientCertPath: string; clientKeyPath: string; serverCaPath: string; serverName: string };
  /**
   * Another JWT the server accepts, granting `permissions`: `<namespace>:<role>`
   * (role read, write, worker or admin), and `temporal-system:<role>` for the
   * cluster-wide APIs (the namespace list, cluster info) `apiKey` has no access to.
   */
  signApiKey(permissions: string[]): string;
  /** A client certificate from a CA the server does not trust. */
  wrongClientCert: { certPath: string; keyPath: string };
  logFile: string;
  /** The standard `TEMPORAL_*` client variables (as @temporalio/envconfig and the `temporal` CLI read them). */
  env(): Record<string, string>;
  /** Stops temporal-server (SIGTERM, or SIGKILL at once with `kill`) and starts it again on the same ports and database. */
  restartServer(options?: { kill?: boolean }): Promise<void>;
  /** Process ids for a bench's CPU readings: temporal-server, and PostgreSQL's postmaster (its backends are its children). */
  pids(): { temporalServer: number | undefined; postgres: number | undefined };
  stop(): Promise<void>;
}

/** Starts PostgreSQL, applies Temporal's schemas, and starts a TLS + JWT temporal-server on free ports. */
export async function startTemporalCluster(options: TemporalClusterOptions = {}): Promise<TemporalCluster> {
  const name = options.name ?? 'production';
  const namespace = options.namespace ?? 'default';
  const install = await ensureTemporalServer();
  const dir = join(DATA_ROOT, `temporal-cluster-${name}`);
  mkdirSync(dir, { recursive: true });

  const cleanups: Array<() => Promise<void>> = [];
  const cleanUp = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  };
  try {
    const postgres = await startPostgres({ name });
    cleanups.push(() => postgres.stop());
    await applySchemas(install, postgres);

    const certificates = await createTestCertificates(join(dir, 'certs'));
    const jwks = await startJwksServer();
    cleanups.push(() => jwks.stop());
    const apiKey = jwks.signToken({ sub: 'switchyard-tests', permissions: [`${namespace}:admin`] });

    const serverOptions: ServerProcessOptions = {
      install, dir, postgres, jwks, logLevel: options.logLevel ?? 'info',
      tls: { serverCertPath: certificates.server.certPath, serverKeyPath: certificates.server.keyPath, clientCaPath: certificates.ca.certPath, serverName: certificates.serverName },
    };
    const connectionOptionsFor = (address: string): ClusterConnectionOptions => ({
      address,
      apiKey,
      tls: { serverCaPath: certificates.ca.certPath, serverName: certificates.serverName, client: certificates.client },
    });
    const bound = (server: ServerProcess) => ({ deadline: Date.now() + READY_TIMEOUT_MS, assertRunning: () => server.assertRunning() });
    const server = await startServerOnFreePorts(serverOptions, (started) => waitForFrontend(connectionOptionsFor(started.address), bound(started)));
    cleanups.push(() => server.stop());
    const connectionOptions = connectionOptionsFor(server.address);
    const connection = await connectToCluster(connectionOptions);
    try {
      await registerNamespace(connection, namespace, bound(server));
      await registerSearchAttributes(connection, namespace, bound(server));
    } finally {
      await connection.close();
    }

    const tls = { clientCertPath: certificates.client.certPath, clientKeyPath: certificates.client.keyPath, serverCaPath: certificates.ca.certPath, serverName: certificates.serverName };
    return {
      address: server.address,
      namespace,
      apiKey,
      tls,
      signApiKey: (permissions) => jwks.signToken({ sub: 'switchyard-tests', permissions }),
      wrongClientCert: { certPath: certificates.wrongClient.certPath, keyPath: certificates.wrongClient.keyPath },
      logFile: server.logFile,
      env: () => ({
        TEMPORAL_ADDRESS: server.address,
        TEMPORAL_NAMESPACE: namespace,
        TEMPORAL_TLS: 'true',
        TEMPORAL_TLS_CLIENT_CERT_PATH: tls.clientCertPath,
        TEMPORAL_TLS_CLIENT_KEY_PATH: tls.clientKeyPath,
        TEMPORAL_TLS_SERVER_CA_CERT_PATH: tls.serverCaPath,
        TEMPORAL_TLS_SERVER_NAME: tls.serverName,
        TEMPORAL_API_KEY: apiKey,
      }),
      async restartServer(restartOptions = {}) {
        await server.stop(restartOptions.kill ? 'SIGKILL' : 'SIGTERM');
        await server.start();
        await waitForFrontend(connectionOptions, bound(server), namespace);
      },
      pids: () => ({ temporalServer: server.pid(), postgres: postgres.process.pid }),
      stop: cleanUp,
    };
  } catch (error) {
    await cleanUp();
    throw error;
  }
}

/** `create-database`, `setup-schema -v 0.0` and `update-schema` to the newest version, for both databases. */
async function applySchemas(install: TemporalServerInstall, postgres: PostgresServer): Promise<void> {
  // Connection settings through the environment: the password stays out of `ps`.
  const env = { ...process.env, SQL_PLUGIN: 'postgres12', SQL_HOST: postgres.host, SQL_PORT: String(postgres.port), SQL_USER: postgres.user, SQL_PASSWORD: postgres.password };
  const run = async (database: string, args: string[]) => {
    try {
      await execFileAsync(install.sqlTool, ['--database', database, ...args], { env, encoding: 'utf8', timeout: SCHEMA_TIMEOUT_MS });
    } catch (error) {
      const cause = error as { stderr?: string; stdout?: string; message?: string };
      throw new Error(`temporal-sql-tool --database ${database} ${args.join(' ')} failed:\n${lastLines(cause.stderr || cause.stdout || cause.message || '')}`);
    }
  };
  for (const [database, schemaDir] of [[DATABASES.temporal, install.postgresSchema], [DATABASES.visibility, install.postgresVisibilitySchema]] as const) {
    await run(database, ['create-database']);
    await run(database, ['setup-schema', '-v', '0.0']);
    await run(database, ['update-schema', '-d', schemaDir]);
  }
}

interface ServerProcessOptions {
  install: TemporalServerInstall;
  dir: string;
  postgres: PostgresServer;
  jwks: JwksServer;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  tls: { serverCertPath: string; serverKeyPath: string; clientCaPath: string; serverName: string };
}

interface ServerProcess {
  address: string;
  logFile: string;
  start(): Promise<void>;
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Throws, quoting the log's last lines, when temporal-server has exited. */
  assertRunning(): void;
  /** The running temporal-server's process id (`setpriv` execs it, so the pid is the server's). */
  pid(): number | undefined;
}

/**
 * Starts the server and resolves once `ready` does. Free ports are guesses
 * another process can take first: on a bind failure, once more on fresh ones.
 */
async function startServerOnFreePorts(options: ServerProcessOptions, ready: (server: ServerProcess) => Promise<void>): Promise<ServerProcess> {
  for (let attempt = 1; ; attempt++) {
    const server = await writeServerConfig(options, await freePorts());
    try {
      await server.start();
      await ready(server);
      return server;
    } catch (error) {
      await server.stop('SIGKILL');
      if (!/address already in use/i.test((error as Error).message) || attempt >= 2) throw error;
    }
  }
}

/**
 * The lowest and highest port the server's ports are picked from. The
 * membership table stores a port as a SMALLINT (at most 32767), and Linux
 * hands out ephemeral ports from 32768 up, so `listen(0)` never gives one.
 */
const SERVER_PORT_RANGE = { low: 20_000, high: 32_767 };

async function freePorts(): Promise<Record<ClusterService, ServicePorts>> {
  const taken = new Set<number>();
  const next = async (): Promise<number> => {
    for (let tries = 0; tries < 200; tries++) {
      const port = SERVER_PORT_RANGE.low + randomInt(SERVER_PORT_RANGE.high - SERVER_PORT_RANGE.low + 1);
      if (!taken.has(port) && (await canListen(port))) {
        taken.add(port);
        return port;
      }
    }
    throw new Error(`no free port between ${SERVER_PORT_RANGE.low} and ${SERVER_PORT_RANGE.high} on 127.0.0.1`);
  };
  const ports: Partial<Record<ClusterService, ServicePorts>> = {};
  for (const service of CLUSTER_SERVICES) ports[service] = { grpcPort: await next(), membershipPort: await next() };
  return ports as Record<ClusterService, ServicePorts>;
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolveFree) => {
    const probe = createServer();
    probe.once('error', () => resolveFree(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolveFree(true)));
  });
}

/**
 * The server logs JSON lines with stack traces: the last `count`, each cut to
 * level, message and error, for a failure message.
 */
export function summarizeServerLog(text: string, count = 12): string {
  return lastLines(text, count)
    .split('\n')
    .map((line) => {
      try {
        const entry = JSON.parse(line) as { level?: string; msg?: string; error?: string };
        return `${entry.level ?? '?'}: ${entry.msg ?? ''}${entry.error ? ` (${entry.error})` : ''}`;
      } catch {
        return line;
      }
    })
    .join('\n');
}

async function writeServerConfig(options: ServerProcessOptions, ports: Record<ClusterService, ServicePorts>): Promise<ServerProcess> {
  const configPath = join(options.dir, 'temporal-server.yaml');
  const dynamicConfigPath = join(options.dir, 'dynamic-config.yaml');
  const logFile = join(options.dir, 'temporal-server.log');
  await writeFile(dynamicConfigPath, dynamicConfigYaml());
  // A fresh database gets a fresh log; restarts append to it.
  await writeFile(logFile, '');
  const { postgres } = options;
  const config = temporalServerConfigYaml({
    postgres: { host: postgres.host, port: postgres.port, user: postgres.user, password: postgres.password },
    databases: DATABASES,
    ports,
    tls: options.tls,
    jwksUrl: options.jwks.url,
    dynamicConfigPath,
    logLevel: options.logLevel,
  });
  // It holds the database password.
  await writeFile(configPath, config, { mode: 0o600 });
  const address = `127.0.0.1:${ports.frontend.grpcPort}`;
  const args = ['--config-file', configPath, 'start', ...CLUSTER_SERVICES.flatMap((service) => ['--service', service])];

  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let logStart = 0;
  let spawnError: Error | undefined;
  const killOnExit = () => child?.kill('SIGKILL');
  const logSinceStart = () => {
    try {
      return summarizeServerLog(readFileSync(logFile, 'utf8').slice(logStart));
    } catch {
      return '(no log)';
    }
  };
  const exitedEarly = () => new Error(`temporal-server exited (${child?.exitCode ?? child?.signalCode}) at ${address}; last lines of ${logFile}:\n${logSinceStart()}`);

  return {
    address,
    logFile,
    async start() {
      try {
        logStart = statSync(logFile).size;
      } catch {
        logStart = 0;
      }
      const logFd = openSync(logFile, 'a');
      // setpriv --pdeathsig: the kernel kills the server if this process dies unseen (SIGKILL from a test runner).
      child = spawn('setpriv', ['--pdeathsig', 'KILL', '--', options.install.server, ...args], { cwd: options.dir, stdio: ['ignore', logFd, logFd] });
      closeSync(logFd);
      const started = child;
      spawnError = undefined;
      started.once('error', (error) => (spawnError = error));
      exited = new Promise((resolveExit) => started.once('exit', () => resolveExit()));
      process.once('exit', killOnExit);
    },
    async stop(signal = 'SIGTERM') {
      process.removeListener('exit', killOnExit);
      const running = child;
      if (!running || spawnError || running.exitCode !== null || running.signalCode !== null) return;
      running.kill(signal);
      const timer = setTimeout(() => running.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    },
    assertRunning() {
      if (spawnError) throw new Error(`cannot start temporal-server (setpriv from util-linux runs it): ${spawnError.message}`);
      if (!child || child.exitCode !== null || child.signalCode !== null) throw exitedEarly();
    },
    pid: () => (child && child.exitCode === null && child.signalCode === null ? child.pid : undefined),
  };
}
