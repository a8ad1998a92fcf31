import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { delimiter, join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './temporal-dev-server';

const PROJECT_ROOT = resolve(__dirname, '..');
const TOOLS_DIR = resolve(PROJECT_ROOT, '.tools');
const INSTALL_DIR = join(TOOLS_DIR, 'redis');
/** Written into the staging tree last, so a `.tools/redis/` holding it is complete. */
const MARKER = '.installed.json';
/**
 * Debian splits the server over two packages: `redis-tools` has the binary
 * (`usr/bin/redis-check-rdb`, which runs as the server when called by that
 * name) and `redis-server` the `usr/bin/redis-server -> redis-check-rdb`
 * symlink. The two libraries are not part of a base system.
 */
const PACKAGES = ['redis-tools', 'redis-server', 'libjemalloc2', 'liblzf1'];
const HINT = 'install Redis (`sudo apt-get install redis-server`) or set REDIS_URL to a running server';

const execFileAsync = promisify(execFile);

export interface RedisServerCommand {
  command: string;
  /** Extra environment the command needs (LD_LIBRARY_PATH for the `.tools/` install). */
  env: Record<string, string>;
}

export interface RedisServerOptions {
  /** A free one when absent. */
  port?: number;
  /** Where the server's log goes. @default 'ignore' */
  stdio?: 'inherit' | 'ignore';
}

export interface RedisServer {
  url: string;
  port: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

interface Marker {
  /** Relative to the install directory, like `libraryDirs`. */
  command: string;
  libraryDirs: string[];
  debs: string[];
}

let resolving: Promise<RedisServerCommand> | undefined;

/**
 * `redis-server`: `$REDIS_SERVER`, else PATH, else the project's copy under
 * `.tools/redis/`, installed on first use from the Debian packages
 * (`apt-get download` + `dpkg-deb -x`, no root needed).
 */
export function resolveRedisServer(env: NodeJS.ProcessEnv = process.env): Promise<RedisServerCommand> {
  if (env.REDIS_SERVER) return Promise.resolve({ command: env.REDIS_SERVER, env: {} });
  resolving ??= findOrInstall(env).catch((error: unknown) => {
    resolving = undefined;
    throw error;
  });
  return resolving;
}

async function findOrInstall(env: NodeJS.ProcessEnv): Promise<RedisServerCommand> {
  const onPath = await commandPath('redis-server');
  if (onPath) return { command: onPath, env: {} };
  return readInstalled(env) ?? install(env);
}

async function commandPath(name: string): Promise<string | undefined> {
  try {
    const { stdout } = await execFileAsync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
    return stdout.trim() || undefined;
  } catch {
    return undefined;
  }
}

function readInstalled(env: NodeJS.ProcessEnv): RedisServerCommand | undefined {
  let marker: Marker;
  try {
    marker = JSON.parse(readFileSync(join(INSTALL_DIR, MARKER), 'utf8')) as Marker;
  } catch {
    return undefined;
  }
  const command = join(INSTALL_DIR, marker.command);
  if (!existsSync(command)) return undefined;
  return commandFor(command, marker.libraryDirs.map((dir) => join(INSTALL_DIR, dir)), env);
}

function commandFor(command: string, libraryDirs: string[], env: NodeJS.ProcessEnv): RedisServerCommand {
  const path = [...libraryDirs, env.LD_LIBRARY_PATH].filter(Boolean).join(delimiter);
  return { command, env: libraryDirs.length > 0 ? { LD_LIBRARY_PATH: path } : {} };
}

/** Downloads and unpacks into a staging directory under `.tools/`, then renames it to `.tools/redis/`. */
async function install(env: NodeJS.ProcessEnv): Promise<RedisServerCommand> {
  for (const tool of ['apt-get', 'dpkg-deb']) {
    if (!(await commandPath(tool))) throw new Error(`redis-server is not on PATH and \`${tool}\` is missing, so it cannot be installed into .tools/redis/: ${HINT}`);
  }
  mkdirSync(TOOLS_DIR, { recursive: true });
  const staging = await mkdtemp(join(TOOLS_DIR, 'redis.staging-'));
  try {
    const debDir = join(staging, 'debs');
    const root = join(staging, 'root');
    mkdirSync(debDir);
    try {
      await execFileAsync('apt-get', ['download', ...PACKAGES], { cwd: debDir, encoding: 'utf8', timeout: 300_000 });
    } catch (error) {
      const detail = tail((error as { stderr?: string }).stderr || (error as Error).message);
      throw new Error(`redis-server is not on PATH and \`apt-get download ${PACKAGES.join(' ')}\` failed (an \`apt-get update\` may help): ${HINT}\n${detail}`);
    }
    const debs = (await readdir(debDir)).filter((name) => name.endsWith('.deb')).sort();
    for (const deb of debs) await execFileAsync('dpkg-deb', ['-x', join(debDir, deb), root]);

    const command = join(root, 'usr/bin/redis-server');
    const libraryDirs = await sharedLibraryDirs(root);
    const staged = commandFor(command, libraryDirs, env);
    try {
      const { stdout } = await execFileAsync(command, ['--version'], { env: { ...process.env, ...staged.env }, encoding: 'utf8' });
      if (!stdout.includes('Redis server')) throw new Error(`unexpected output: ${stdout.trim()}`);
    } catch (error) {
      const detail = tail((error as { stderr?: string }).stderr || (error as Error).message);
      throw new Error(`the redis-server unpacked from ${debs.join(', ')} does not run: ${HINT}\n${detail}`);
    }
    const marker: Marker = { command: relative(root, command), libraryDirs: libraryDirs.map((dir) => relative(root, dir)), debs };
    await writeFile(join(root, MARKER), `${JSON.stringify(marker, null, 2)}\n`);

    try {
      await rename(root, INSTALL_DIR);
    } catch (error) {
      if (!['ENOTEMPTY', 'EEXIST'].includes((error as NodeJS.ErrnoException).code ?? '')) throw error;
      // Another process finished first: use its copy. A directory without a marker is debris: replace it.
      const installed = readInstalled(env);
      if (installed) return installed;
      await rm(INSTALL_DIR, { recursive: true, force: true });
      await rename(root, INSTALL_DIR);
    }
    const installed = readInstalled(env);
    if (!installed) throw new Error(`installed redis-server into ${INSTALL_DIR}, but cannot read it back`);
    return installed;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** Directories under `root` holding shared libraries (`usr/lib/x86_64-linux-gnu` on amd64). */
async function sharedLibraryDirs(root: string): Promise<string[]> {
  const dirs = new Set<string>();
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) await walk(join(dir, entry.name));
      else if (/\.so(\.\d+)*$/.test(entry.name)) dirs.add(dir);
    }
  };
  for (const top of ['usr/lib', 'lib']) if (existsSync(join(root, top))) await walk(join(root, top));
  return [...dirs].sort();
}

function tail(text: string, lines = 15): string {
  return text.trim().split('\n').slice(-lines).join('\n');
}

// Children still running when this process exits: one listener for all of them.
const running = new Set<ChildProcess>();
function killRunning(): void {
  for (const child of running) child.kill('SIGKILL');
}

let parentDeathSignal: boolean | undefined;
/**
 * `setpriv --pdeathsig KILL` (util-linux) has the kernel kill the server when
 * this process dies in a way the 'exit' listener never sees (a signal, a
 * SIGKILL from a test runner). Used when available.
 */
function withParentDeathSignal(command: string, args: string[]): [string, string[]] {
  if (parentDeathSignal === undefined) {
    try {
      execFileSync('setpriv', ['--pdeathsig', 'KILL', 'true'], { stdio: 'ignore' });
      parentDeathSignal = true;
    } catch {
      parentDeathSignal = false;
    }
  }
  return parentDeathSignal ? ['setpriv', ['--pdeathsig', 'KILL', command, ...args]] : [command, args];
}

/** Starts a `redis-server` with no persistence and no config file; resolves once it answers PING. */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const resolved = await resolveRedisServer();
  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await freePort());
    try {
      return await launch(resolved, port, options.stdio ?? 'ignore');
    } catch (error) {
      // freePort() is a guess another process can take before redis binds it: try another.
      const taken = /Address already in use/.test((error as Error).message);
      if (!taken || options.port !== undefined || attempt >= 3) throw error;
    }
  }
}

async function launch(resolved: RedisServerCommand, port: number, stdio: 'inherit' | 'ignore'): Promise<RedisServer> {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes'];
  const [file, argv] = withParentDeathSignal(resolved.command, args);
  const child = spawn(file, argv, { env: { ...process.env, ...resolved.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (target: NodeJS.WriteStream) => (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-8_000);
    if (stdio === 'inherit') target.write(chunk);
  };
  child.stdout?.on('data', collect(process.stdout));
  child.stderr?.on('data', collect(process.stderr));

  const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
  let spawnError: Error | undefined;
  child.once('error', (error) => (spawnError = error));
  if (running.size === 0) process.once('exit', killRunning);
  running.add(child);
  void exited.then(() => {
    running.delete(child);
    if (running.size === 0) process.removeListener('exit', killRunning);
  });
  const url = `redis://127.0.0.1:${port}`;

  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };

  const deadline = Date.now() + 20_000;
  for (;;) {
    if (spawnError) throw new Error(`cannot start ${resolved.command}: ${spawnError.message}`);
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`redis-server exited with ${child.exitCode ?? child.signalCode} before it was ready on port ${port}:\n${tail(output)}`);
    }
    const reply = await ping(port);
    if (reply === '+PONG') return { url, port, process: child, stop };
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`redis-server did not answer PING on port ${port} (last: ${reply}):\n${tail(output)}`);
    }
    await new Promise((wake) => setTimeout(wake, 50));
  }
}

/** One inline `PING` over a raw socket: the first reply line, or the connection error. */
function ping(port: number, timeoutMs = 1_000): Promise<string> {
  return new Promise((resolveReply) => {
    const socket = connect({ host: '127.0.0.1', port });
    let data = '';
    const finish = (reply: string) => {
      socket.destroy();
      resolveReply(reply);
    };
    socket.setTimeout(timeoutMs, () => finish('timeout'));
    socket.once('error', (error) => finish(error.message));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      data += chunk.toString('utf8');
      const end = data.indexOf('\r\n');
      if (end >= 0) finish(data.slice(0, end));
    });
    socket.once('end', () => finish(data || 'connection closed'));
  });
}
