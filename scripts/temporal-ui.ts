// The Temporal UI server (github.com/temporalio/ui-server v2.58.1, the web UI
// embedded), built once from the Go module proxy into .tools/temporal-ui/<version>/
// (scripts/temporal-ui-build.ts), and started against a cluster that requires
// mTLS and an API key. Run directly to install ahead of the tests:
//   node --import tsx scripts/temporal-ui.ts
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { lastLines } from './debian-packages';
import { freePort } from './temporal-dev-server';
import { ensureTemporalUi, type TemporalUiInstall } from './temporal-ui-build';
import { temporalUiConfigYaml } from './temporal-ui-config';

export { ensureTemporalUi, TEMPORAL_UI_VERSION, type TemporalUiInstall } from './temporal-ui-build';

const DATA_ROOT = resolve(__dirname, '..', '.data', 'temporal-ui');
/** The UI answers /healthz well under a second after spawn; this bounds a stuck start. */
const READY_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 10_000;

export interface TemporalUiOptions {
  /** The frontend, `host:port`. */
  address: string;
  /** The namespace the UI opens on, and the one the start checks it can read. */
  namespace: string;
  /** The frontend's mTLS: the client certificate and key to present, the CA and name to verify it by. */
  tls: { clientCertPath: string; clientKeyPath: string; serverCaPath: string; serverName: string };
  /**
   * Sent on every call to the frontend as `authorization: Bearer <apiKey>`, by
   * temporal-ui-server's proxy (it is never in the config or the log). The UI's
   * pages need `temporal-system:read` (the namespace list, cluster info) and a
   * role on the namespace: read to browse, write or admin for its actions.
   */
  apiKey?: string;
  /** The UI listens on loopback only: it holds the API key's permissions and asks nobody to sign in. @default '127.0.0.1' */
  host?: '127.0.0.1';
}

export interface TemporalUi {
  /** `http://127.0.0.1:<port>`: the UI's pages at `/`, its API at `/api/v1/…`. */
  url: string;
  /** temporal-ui-server's output: its start-up lines and one line per request. Removed by stop(). */
  logFile: string;
  stop(): Promise<void>;
}

/**
 * Builds the UI server if needed, writes its config (mode 0600), starts it on
 * a free port and resolves once it serves its health check and reads
 * `namespace` through the frontend: a wrong certificate or key fails here,
 * quoting the UI's log, instead of in a page that shows an error.
 */
export async function startTemporalUi(options: TemporalUiOptions): Promise<TemporalUi> {
  const install = await ensureTemporalUi();
  mkdirSync(DATA_ROOT, { recursive: true });
  // mkdtemp makes it 0700: the key file and the config inside are this user's alone.
  const dir = await mkdtemp(join(DATA_ROOT, 'ui-'));
  try {
    const apiKeyFile = join(dir, 'api-key');
    if (options.apiKey !== undefined) await writeFile(apiKeyFile, options.apiKey, { mode: 0o600 });
    for (let attempt = 1; ; attempt++) {
      try {
        return await launch(install, options, dir, options.apiKey !== undefined ? apiKeyFile : undefined);
      } catch (error) {
        // freePort() is a guess another process can take before the UI binds it: once more on another.
        if (!/address already in use/i.test((error as Error).message) || attempt >= 2) throw error;
      }
    }
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

async function launch(install: TemporalUiInstall, options: TemporalUiOptions, dir: string, apiKeyFile: string | undefined): Promise<TemporalUi> {
  const host = options.host ?? '127.0.0.1';
  const port = await freePort();
  const url = `http://${host}:${port}`;
  const configDir = join(dir, 'config');
  mkdirSync(configDir, { recursive: true, mode: 0o700 });
  const config = temporalUiConfigYaml({ frontendAddress: options.address, namespace: options.namespace, host, port, tls: options.tls });
  await writeFile(join(configDir, 'base.yaml'), config, { mode: 0o600 });
  const logFile = join(dir, 'temporal-ui-server.log');
  await writeFile(logFile, '', { mode: 0o600 });

  const args = ['-config-dir', configDir, ...(apiKeyFile ? ['-api-key-file', apiKeyFile] : [])];
  const logFd = openSync(logFile, 'a');
  // setpriv --pdeathsig: the kernel kills the UI if this process dies unseen (SIGKILL from a test runner).
  const child: ChildProcess = spawn('setpriv', ['--pdeathsig', 'KILL', '--', install.server, ...args], { cwd: dir, stdio: ['ignore', logFd, logFd] });
  closeSync(logFd);
  let spawnError: Error | undefined;
  child.once('error', (error) => (spawnError = error));
  const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const running = () => child.exitCode === null && child.signalCode === null;

  const stopProcess = async () => {
    process.removeListener('exit', killOnExit);
    if (spawnError || !running()) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    await exited;
    clearTimeout(timer);
  };
  const log = () => {
    try {
      return lastLines(readFileSync(logFile, 'utf8'));
    } catch {
      return '(no log)';
    }
  };

  try {
    await waitUntilReady(url, options.namespace, () => {
      if (spawnError) throw new Error(`cannot start temporal-ui-server (setpriv from util-linux runs it): ${spawnError.message}`);
      if (!running()) throw new Error(`temporal-ui-server exited (${child.exitCode ?? child.signalCode}) before it served ${url}; last lines of ${logFile}:\n${log()}`);
    });
  } catch (error) {
    await stopProcess();
    const message = (error as Error).message;
    throw message.includes(logFile) ? error : new Error(`${message}; last lines of ${logFile}:\n${log()}`);
  }
  return {
    url,
    logFile,
    async stop() {
      await stopProcess();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** /healthz answers, then the namespace reads through the frontend (mTLS and the key at work), within READY_TIMEOUT_MS. */
async function waitUntilReady(url: string, namespace: string, assertRunning: () => void): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  const namespaceUrl = `${url}/api/v1/namespaces/${encodeURIComponent(namespace)}`;
  let last = 'no answer yet';
  for (const target of [`${url}/healthz`, namespaceUrl]) {
    for (;;) {
      assertRunning();
      try {
        const response = await fetch(target, { signal: AbortSignal.timeout(5_000) });
        if (response.ok) break;
        last = `${response.status}: ${(await response.text()).slice(0, 500)}`;
        // Refused by the frontend's authorization: waiting longer changes nothing.
        if (response.status === 401 || response.status === 403) throw new RefusedError(`the frontend refused the Temporal UI's GET ${target} (${last})`);
      } catch (error) {
        if (error instanceof RefusedError) throw error;
        last = (error as Error).message;
      }
      if (Date.now() > deadline) throw new Error(`the Temporal UI did not answer GET ${target} within ${READY_TIMEOUT_MS / 1000} s (last: ${last})`);
      await new Promise((wake) => setTimeout(wake, 100));
    }
  }
}

class RefusedError extends Error {}

if (require.main === module) {
  ensureTemporalUi().then(
    (installed) => process.stdout.write(`${JSON.stringify(installed, null, 2)}\n`),
    (error: unknown) => {
      process.stderr.write(`${(error as Error).message}\n`);
      process.exitCode = 1;
    },
  );
}
