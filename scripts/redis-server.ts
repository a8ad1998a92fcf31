import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { promisify } from 'node:util';
import { lastLines, resolveFromDebianPackages, type DebianTool, type ToolCommand } from './debian-packages';
import { freePort } from './temporal-dev-server';

const execFileAsync = promisify(execFile);

/**
 * Debian splits the server over two packages: `redis-tools` has the binary
 * (`usr/bin/redis-check-rdb`, which runs as the server when called by that
 * name) and `redis-server` the `usr/bin/redis-server -> redis-check-rdb`
 * symlink. Its libraries (libjemalloc2, liblzf1) come along when missing.
 */
const REDIS: DebianTool = {
  name: 'redis',
  envVariable: 'REDIS_SERVER',
  pathNames: ['redis-server'],
  packages: ['redis-tools', 'redis-server'],
  command: 'usr/bin/redis-server',
  hint: 'install Redis (`sudo apt-get install redis-server`) or set REDIS_URL to a running server',
  async check(tool) {
    const { stdout } = await execFileAsync(tool.command, ['--version'], { env: { ...process.env, ...tool.env }, encoding: 'utf8' });
    if (!stdout.includes('Redis server')) throw new Error(`unexpected output: ${stdout.trim()}`);
  },
};

/** How to run `redis-server`. */
export type RedisServerCommand = ToolCommand;

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

/**
 * `redis-server`: `$REDIS_SERVER`, else PATH, else the project's copy under
 * `.tools/redis/`, installed on first use from the Debian packages
 * (`apt-get download` + `dpkg-deb -x`, no root needed).
 */
export function resolveRedisServer(env: NodeJS.ProcessEnv = process.env): Promise<RedisServerCommand> {
  return resolveFromDebianPackages(REDIS, env);
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
      throw new Error(`redis-server exited with ${child.exitCode ?? child.signalCode} before it was ready on port ${port}:\n${lastLines(output)}`);
    }
    const reply = await ping(port);
    if (reply === '+PONG') return { url, port, process: child, stop };
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`redis-server did not answer PING on port ${port} (last: ${reply}):\n${lastLines(output)}`);
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
