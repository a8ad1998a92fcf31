// Builds the Temporal UI server (github.com/temporalio/ui-server v2.58.1, the
// web UI embedded) once from the Go module proxy into
// .tools/temporal-ui/<version>/; later calls read the marker and skip the build.
// The build is scripts/temporal-ui-server/: the ui-server used as a library,
// plus a gRPC proxy that adds the API key to every call (the stock server can
// send none of its own; see that folder's main.go). scripts/temporal-ui.ts
// re-exports it and runs it from the command line.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { lastLines } from './debian-packages';
import { resolveGo, TEMPORAL_SERVER_GO_TOOLCHAIN } from './temporal-server';

/** Pinned: the ui-server release scripts/temporal-ui-server/go.mod requires. */
export const TEMPORAL_UI_VERSION = 'v2.58.1';
/** ui-server v2.58.1's go.mod asks for Go 1.26.10, as the Temporal server's does. */
export const TEMPORAL_UI_GO_TOOLCHAIN = TEMPORAL_SERVER_GO_TOOLCHAIN;

const PROJECT_ROOT = resolve(__dirname, '..');
const SOURCE_DIR = join(__dirname, 'temporal-ui-server');
const SOURCE_FILES = ['go.mod', 'go.sum', 'main.go', 'frontend-proxy.go'];
const INSTALL_ROOT = join(PROJECT_ROOT, '.tools', 'temporal-ui');
/** Written last, so a version directory holding it is complete. */
const MARKER = '.installed.json';
/** About a minute on two cores when the Temporal server's build left its modules cached; a cold download adds a few. */
const BUILD_TIMEOUT_MS = 20 * 60_000;

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
