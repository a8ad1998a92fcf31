// Builds the Temporal UI server (github.com/temporalio/ui-server v2.58.1, the
// web UI embedded) once from the Go module proxy into
// .tools/temporal-ui/<version>/; later calls read the marker and skip the build.
// The build is scripts/temporal-ui-server/: the ui-server used as a library,
// plus a gRPC proxy that adds the API key to every call (the stock server can
// send none of its own; see that folder's main.go). scripts/temporal-ui.ts
// re-exports it and runs it from the command line.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { installWithGo, onceInstalled, readMarker } from './go-build';
import { TEMPORAL_SERVER_GO_TOOLCHAIN } from './temporal-server';

/** Pinned: the ui-server release scripts/temporal-ui-server/go.mod requires. */
export const TEMPORAL_UI_VERSION = 'v2.58.1';
/** ui-server v2.58.1's go.mod asks for Go 1.26.10, as the Temporal server's does. */
export const TEMPORAL_UI_GO_TOOLCHAIN = TEMPORAL_SERVER_GO_TOOLCHAIN;

const SOURCE_DIR = join(__dirname, 'temporal-ui-server');
const SOURCE_FILES = ['go.mod', 'go.sum', 'main.go', 'frontend-proxy.go'];
const INSTALL_DIR = join(__dirname, '..', '.tools', 'temporal-ui', TEMPORAL_UI_VERSION);
/** About a minute on two cores when the Temporal server's build left its modules cached; a cold download adds a few. */
const BUILD_TIMEOUT_MS = 20 * 60_000;

export interface TemporalUiInstall {
  version: string;
  /** The `temporal-ui-server` executable. */
  server: string;
}

function sourceHash(): string {
  const hash = createHash('sha256');
  for (const file of SOURCE_FILES) hash.update(file).update('\0').update(readFileSync(join(SOURCE_DIR, file))).update('\0');
  return hash.digest('hex');
}

function readInstalled(): TemporalUiInstall | undefined {
  const marker = readMarker(INSTALL_DIR);
  if (marker?.version !== TEMPORAL_UI_VERSION || marker.sourceHash !== sourceHash()) return undefined;
  const server = join(INSTALL_DIR, 'temporal-ui-server');
  return existsSync(server) ? { version: TEMPORAL_UI_VERSION, server } : undefined;
}

/** go.mod names the version; the constant names it for the install path. They must agree. */
function assertPinnedVersion(): void {
  const goMod = readFileSync(join(SOURCE_DIR, 'go.mod'), 'utf8');
  if (!new RegExp(`github\\.com/temporalio/ui-server/v2 ${TEMPORAL_UI_VERSION.replace(/\./g, '\\.')}\\b`).test(goMod)) {
    throw new Error(`scripts/temporal-ui-server/go.mod does not require github.com/temporalio/ui-server/v2 ${TEMPORAL_UI_VERSION} (TEMPORAL_UI_VERSION)`);
  }
}

/**
 * The pinned Temporal UI server, built into `.tools/temporal-ui/<version>/`
 * on first use (`go build` of scripts/temporal-ui-server/, modules from the
 * proxy), rebuilt when its Go sources change. Safe across processes
 * (scripts/go-build.ts).
 */
export const ensureTemporalUi: (env?: NodeJS.ProcessEnv) => Promise<TemporalUiInstall> = onceInstalled(readInstalled, (env) => {
  assertPinnedVersion();
  return installWithGo(
    {
      label: 'temporal-ui',
      what: `the Temporal UI server ${TEMPORAL_UI_VERSION}`,
      dir: INSTALL_DIR,
      toolchain: TEMPORAL_UI_GO_TOOLCHAIN,
      // Static like the ui-server's own release builds; go.sum pins every module, so -mod=readonly.
      goEnv: () => ({ GOFLAGS: '-buildvcs=false -mod=readonly' }),
      cwd: SOURCE_DIR,
      timeoutMs: BUILD_TIMEOUT_MS,
      announce: `go build of scripts/temporal-ui-server from the module proxy, GOTOOLCHAIN=${TEMPORAL_UI_GO_TOOLCHAIN}; a minute or more on first run`,
      async build(staging, run) {
        const hash = sourceHash();
        await run(['build', '-trimpath', '-o', join(staging, 'temporal-ui-server'), '.']);
        return { version: TEMPORAL_UI_VERSION, sourceHash: hash };
      },
      readInstalled,
    },
    env,
  );
});
