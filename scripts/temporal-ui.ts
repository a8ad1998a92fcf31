// The Temporal UI server (github.com/temporalio/ui-server v2.58.1, the web UI
// embedded) built once from the Go module proxy into .tools/temporal-ui/<version>/,
// and started against a cluster that requires mTLS and an API key. Later calls
// read the marker and skip the build. Run directly to install ahead of the tests:
//   node --import tsx scripts/temporal-ui.ts
//
// The build is scripts/temporal-ui-server/: the ui-server used as a library,
// plus a gRPC proxy that adds the API key to every call (the stock server can
// send none of its own; see that folder's main.go).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { lastLines } from './debian-packages';
import { freePort } from './temporal-dev-server';
import { resolveGo, TEMPORAL_SERVER_GO_TOOLCHAIN } from './temporal-server';
import { temporalUiConfigYaml } from './temporal-ui-config';

/** Pinned: the ui-server release scripts/temporal-ui-server/go.mod requires. */
export const TEMPORAL_UI_VERSION = 'v2.58.1';
/** ui-server v2.58.1's go.mod asks for Go 1.26.10, as the Temporal server's does. */
export const TEMPORAL_UI_GO_TOOLCHAIN = TEMPORAL_SERVER_GO_TOOLCHAIN;

const PROJECT_ROOT = resolve(__dirname, '..');
const SOURCE_DIR = join(__dirname, 'temporal-ui-server');
const SOURCE_FILES = ['go.mod', 'go.sum', 'main.go', 'frontend-proxy.go'];
const INSTALL_ROOT = join(PROJECT_ROOT, '.tools', 'temporal-ui');
const DATA_ROOT = join(PROJECT_ROOT, '.data', 'temporal-ui');
/** Written last, so a version directory holding it is complete. */
const MARKER = '.installed.json';
/** About a minute on two cores when the Temporal server's build left its modules cached; a cold download adds a few. */
const BUILD_TIMEOUT_MS = 20 * 60_000;
/** The UI answers /healthz well under a second after spawn; this bounds a stuck start. */
const READY_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 10_000;

const execFileAsync = promisify(execFile);

export interface TemporalUiInstall {
  version: string;
  /** The `temporal-ui-server` executable. */
  server: string;
}

interface Marker {
  version: string;
  /** Of the wrapper's Go sources: an edit to them rebuilds. */
  sourceHash: string;
  goVersion: string;
  buildSeconds: number;
}

let pending: Promise<TemporalUiInstall> | undefined;

/**
 * The pinned Temporal UI server, built into `.tools/temporal-ui/<version>/`
 * on first use (`go build` of scripts/temporal-ui-server/, modules from the
 * proxy). Safe across processes: each builds into its own staging directory
 * and renames it into place.
 */
export function ensureTemporalUi(env: NodeJS.ProcessEnv = process.env): Promise<TemporalUiInstall> {
  pending ??= Promise.resolve()
    .then(() => readInstalled() ?? install(env))
    .catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
  return pending;
}

function installDir(): string {
  return join(INSTALL_ROOT, TEMPORAL_UI_VERSION);
}

function sourceHash(): string {
  const hash = createHash('sha256');
  for (const file of SOURCE_FILES) hash.update(file).update('\0').update(readFileSync(join(SOURCE_DIR, file))).update('\0');
  return hash.digest('hex');
}

function readInstalled(): TemporalUiInstall | undefined {
  const dir = installDir();
  try {
    const marker = JSON.parse(readFileSync(join(dir, MARKER), 'utf8')) as Marker;
    if (marker.version !== TEMPORAL_UI_VERSION || marker.sourceHash !== sourceHash()) return undefined;
  } catch {
    return undefined;
  }
  const server = join(dir, 'temporal-ui-server');
  return existsSync(server) ? { version: TEMPORAL_UI_VERSION, server } : undefined;
}

function progress(message: string): void {
  process.stderr.write(`[temporal-ui] ${message}\n`);
}

/** go.mod names the version; the constant names it for the install path. They must agree. */
function assertPinnedVersion(): void {
  const goMod = readFileSync(join(SOURCE_DIR, 'go.mod'), 'utf8');
  if (!new RegExp(`github\\.com/temporalio/ui-server/v2 ${TEMPORAL_UI_VERSION.replace(/\./g, '\\.')}\\b`).test(goMod)) {
    throw new Error(`scripts/temporal-ui-server/go.mod does not require github.com/temporalio/ui-server/v2 ${TEMPORAL_UI_VERSION} (TEMPORAL_UI_VERSION)`);
  }
}

async function install(env: NodeJS.ProcessEnv): Promise<TemporalUiInstall> {
  assertPinnedVersion();
  const go = resolveGo(env, `the Temporal UI server ${TEMPORAL_UI_VERSION}`);
  const dir = installDir();
  progress(
    `installing the Temporal UI server ${TEMPORAL_UI_VERSION} into ${relative(PROJECT_ROOT, dir)}/ ` +
      `(go build of scripts/temporal-ui-server from the module proxy, GOTOOLCHAIN=${TEMPORAL_UI_GO_TOOLCHAIN}; a minute or more on first run) …`,
  );
  const started = Date.now();
  const hash = sourceHash();
  mkdirSync(INSTALL_ROOT, { recursive: true });
  const staging = await mkdtemp(join(INSTALL_ROOT, `${TEMPORAL_UI_VERSION}.staging-`));
  // Static like the ui-server's own release builds; go.sum pins every module, so -mod=readonly.
  const goEnv = { ...env, GOTOOLCHAIN: TEMPORAL_UI_GO_TOOLCHAIN, CGO_ENABLED: '0', GOFLAGS: '-buildvcs=false -mod=readonly' };
  const run = async (args: string[]): Promise<string> => {
    try {
      const { stdout } = await execFileAsync(go, args, { cwd: SOURCE_DIR, env: goEnv, encoding: 'utf8', timeout: BUILD_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 });
      return stdout.trim();
    } catch (error) {
      const cause = error as { stderr?: string; message?: string };
      throw new Error(`\`go ${args.join(' ')}\` failed while installing the Temporal UI server:\n${lastLines(cause.stderr || cause.message || '')}`);
    }
  };
  try {
    await run(['build', '-trimpath', '-o', join(staging, 'temporal-ui-server'), '.']);
    const goVersion = await run(['version']);
    const marker: Marker = { version: TEMPORAL_UI_VERSION, sourceHash: hash, goVersion, buildSeconds: Math.round((Date.now() - started) / 1000) };
    await writeFile(join(staging, MARKER), `${JSON.stringify(marker, null, 2)}\n`);
    await moveIntoPlace(staging, dir);
    const installed = readInstalled();
    if (!installed) throw new Error(`installed the Temporal UI server into ${dir}, but cannot read it back`);
    progress(`Temporal UI server ${TEMPORAL_UI_VERSION} installed in ${marker.buildSeconds} s (${goVersion})`);
    return installed;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

async function moveIntoPlace(staging: string, dir: string): Promise<void> {
  // A version directory without a current marker (debris, or a build of older sources) is replaced.
  if (existsSync(dir) && !readInstalled()) await rm(dir, { recursive: true, force: true });
  try {
    await rename(staging, dir);
  } catch (error) {
    if (!['ENOTEMPTY', 'EEXIST'].includes((error as NodeJS.ErrnoException).code ?? '')) throw error;
    // Another process finished first: keep its copy when it is current.
    if (readInstalled()) return;
    await rm(dir, { recursive: true, force: true });
    await rename(staging, dir);
  }
}

export interface TemporalUiOptions {
  /** The frontend, `host:port`. */
  address: string;
  /** The namespace the UI opens on, and the one the start checks it can read. */
  namespace: string;
  /** The frontend's mTLS: the client certificate and key to present, the CA and name to verify it by. */
  tls: { clientCertPath: string; clientKeyPath: string; serverCaPath: string; serverName: string };
  /** Sent on every call to the frontend as `authorization: Bearer <apiKey>`. */
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
