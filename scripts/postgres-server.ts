// A throwaway PostgreSQL server for tests: `initdb` into .data/postgres-<name>/
// (fresh on every start), then `postgres` on a free 127.0.0.1 port with a
// password-protected superuser. The binaries come from the system
// (/usr/lib/postgresql/<major>/bin) or, on first use, from Debian's
// postgresql-15 package unpacked into .tools/postgresql/ (no root needed).
// initdb and postgres refuse to run as root: as root both run as `nobody`.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, chownSync, closeSync, constants, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { lastLines, resolveFromDebianPackages, type DebianTool, type ToolCommand } from './debian-packages';
import { freePort } from './temporal-dev-server';

const execFileAsync = promisify(execFile);
const DATA_ROOT = resolve(__dirname, '..', '.data');
const POSTGRES_MAJOR = '15';
const INITDB_TIMEOUT_MS = 120_000;
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 15_000;
/** The user initdb and postgres run as when this process is root. */
const UNPRIVILEGED = { uid: 65534, gid: 65534, name: 'nobody' };

/** Debian's server package, unpacked into `.tools/postgresql/` when the system has no server. */
export const POSTGRES_DEBIAN_TOOL: DebianTool = {
  name: 'postgresql',
  envVariable: 'POSTGRES_SERVER',
  // Debian keeps the server off PATH; a `postgres` on PATH is a source build or another distribution's.
  pathNames: ['postgres'],
  packages: [`postgresql-${POSTGRES_MAJOR}`],
  command: `usr/lib/postgresql/${POSTGRES_MAJOR}/bin/postgres`,
  hint: `install PostgreSQL ${POSTGRES_MAJOR} (\`sudo apt-get install postgresql-${POSTGRES_MAJOR}\`) or set POSTGRES_SERVER to its \`postgres\` binary`,
  async check(tool) {
    const { stdout } = await execFileAsync(tool.command, ['--version'], { env: { ...process.env, ...tool.env }, encoding: 'utf8' });
    if (!stdout.includes('PostgreSQL')) throw new Error(`unexpected output: ${stdout.trim()}`);
  },
};

export interface PostgresBinaries {
  /** The directory holding `postgres` and `initdb`. */
  binDir: string;
  env: Record<string, string>;
}

export interface PostgresServerOptions {
  /** Names the data directory, `.data/postgres-<name>/`. */
  name: string;
  /** A free one when absent. */
  port?: number;
}

export interface PostgresServer {
  host: '127.0.0.1';
  port: number;
  /** The superuser initdb created. */
  user: string;
  password: string;
  dataDir: string;
  logFile: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * `postgres` and `initdb`: the directory of `$POSTGRES_SERVER`, else the
 * system's `/usr/lib/postgresql/15/bin`, else `postgres` on PATH, else the
 * project's copy under `.tools/postgresql/`, installed on first use.
 */
export async function resolvePostgres(env: NodeJS.ProcessEnv = process.env): Promise<PostgresBinaries> {
  const system = `/usr/lib/postgresql/${POSTGRES_MAJOR}/bin`;
  if (!env.POSTGRES_SERVER && isExecutable(join(system, 'postgres')) && isExecutable(join(system, 'initdb'))) return { binDir: system, env: {} };
  const tool: ToolCommand = await resolveFromDebianPackages(POSTGRES_DEBIAN_TOOL, env);
  const binDir = dirname(tool.command);
  if (!isExecutable(join(binDir, 'initdb'))) throw new Error(`${binDir} has \`postgres\` but no \`initdb\`: ${POSTGRES_DEBIAN_TOOL.hint}`);
  return { binDir, env: tool.env };
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

const isRoot = (): boolean => process.getuid?.() === 0;

/** `[file, args]` that run `command` as `nobody` when root, and die with this process either way. */
function asServerUser(command: string, args: string[]): [string, string[]] {
  const drop = isRoot() ? [`--reuid=${UNPRIVILEGED.uid}`, `--regid=${UNPRIVILEGED.gid}`, '--clear-groups'] : [];
  return ['setpriv', [...drop, '--pdeathsig', 'KILL', '--', command, ...args]];
}

/**
 * `.data/postgres-<name>/`, emptied and owned by whoever runs the server. As
 * root, when `nobody` cannot reach the project (a home directory without
 * world access, say), a directory under the system's temp directory instead.
 */
async function freshBaseDir(name: string): Promise<string> {
  const preferred = join(DATA_ROOT, `postgres-${name}`);
  await rm(preferred, { recursive: true, force: true });
  mkdirSync(preferred, { recursive: true });
  if (!isRoot()) return preferred;
  chownSync(preferred, UNPRIVILEGED.uid, UNPRIVILEGED.gid);
  const [file, args] = asServerUser('test', ['-w', preferred, '-a', '-x', preferred]);
  try {
    await execFileAsync(file, args);
    return preferred;
  } catch {
    await rm(preferred, { recursive: true, force: true });
    const fallback = await mkdtemp(join(tmpdir(), `switchyard-postgres-${name}-`));
    chownSync(fallback, UNPRIVILEGED.uid, UNPRIVILEGED.gid);
    process.stderr.write(`[postgres] ${UNPRIVILEGED.name} cannot reach ${preferred}; using ${fallback}\n`);
    return fallback;
  }
}

async function writeOwned(path: string, content: string): Promise<void> {
  await writeFile(path, content, { mode: 0o600 });
  if (isRoot()) chownSync(path, UNPRIVILEGED.uid, UNPRIVILEGED.gid);
}

/** Runs `initdb` and starts `postgres`; resolves once it accepts connections. */
export async function startPostgres(options: PostgresServerOptions): Promise<PostgresServer> {
  const binaries = await resolvePostgres();
  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await freePort());
    try {
      return await launch(binaries, options.name, port);
    } catch (error) {
      // freePort() is a guess another process can take before postgres binds it: try another.
      const taken = /could not bind|Address already in use/.test((error as Error).message);
      if (!taken || options.port !== undefined || attempt >= 3) throw error;
    }
  }
}

async function launch(binaries: PostgresBinaries, name: string, port: number): Promise<PostgresServer> {
  const env = { ...process.env, ...binaries.env, LC_ALL: 'C' };
  const base = await freshBaseDir(name);
  const dataDir = join(base, 'data');
  const logFile = join(base, 'postgres.log');
  const user = 'temporal';
  const password = randomBytes(18).toString('base64url');
  const passwordFile = join(base, 'password');
  await writeOwned(passwordFile, `${password}\n`);

  const initdbArgs = ['-D', dataDir, '-U', user, `--pwfile=${passwordFile}`, '--auth-host=scram-sha-256', '--auth-local=scram-sha-256', '-E', 'UTF8', '--no-instructions'];
  const [initdbFile, initdbArgv] = asServerUser(join(binaries.binDir, 'initdb'), initdbArgs);
  try {
    await execFileAsync(initdbFile, initdbArgv, { env, encoding: 'utf8', timeout: INITDB_TIMEOUT_MS });
  } catch (error) {
    const cause = error as { stderr?: string; stdout?: string; message?: string };
    throw new Error(`initdb ${dataDir} failed:\n${lastLines(cause.stderr || cause.stdout || cause.message || '')}`);
  } finally {
    await rm(passwordFile, { force: true });
  }

  // TCP on 127.0.0.1 only: no Unix socket, so no socket directory to own.
  const serverArgs = ['-D', dataDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'fsync=off', '-c', 'max_connections=200'];
  const [file, argv] = asServerUser(join(binaries.binDir, 'postgres'), serverArgs);
  const logFd = openSync(logFile, 'a');
  const child = spawn(file, argv, { env, stdio: ['ignore', logFd, logFd] });
  closeSync(logFd);
  const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
  let spawnError: Error | undefined;
  child.once('error', (error) => (spawnError = error));
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  const stop = async () => {
    process.removeListener('exit', killOnExit);
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGINT'); // fast shutdown: no waiting for clients to disconnect
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  };
  const log = () => (existsSync(logFile) ? lastLines(readFileSync(logFile, 'utf8')) : '(no log)');

  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (spawnError) throw new Error(`cannot start ${file}: ${spawnError.message}`);
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`postgres exited with ${child.exitCode ?? child.signalCode} before it was ready on port ${port} (log ${logFile}):\n${log()}`);
    }
    if (readFileSync(logFile, 'utf8').includes('database system is ready to accept connections')) {
      return { host: '127.0.0.1', port, user, password, dataDir, logFile, process: child, stop };
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`postgres did not become ready on port ${port} within ${READY_TIMEOUT_MS / 1000} s (log ${logFile}):\n${log()}`);
    }
    await new Promise((wake) => setTimeout(wake, 100));
  }
}

