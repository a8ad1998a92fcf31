// Installing a Go program into .tools/<name>/<version>/ from the Go module
// proxy, the way the Temporal server and the Temporal UI server are: built in
// a staging directory, a marker written last, renamed into place (safe when
// several processes install at once), the build's progress on stderr.
import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { findOnPath, lastLines } from './debian-packages';

const execFileAsync = promisify(execFile);
const PROJECT_ROOT = resolve(__dirname, '..');
/** Written last, so a version directory holding it is complete. */
const MARKER = '.installed.json';

/** Runs `go <args>` and answers its trimmed stdout; a failure quotes its stderr's last lines. */
export type GoRun = (args: string[]) => Promise<string>;

export interface GoInstall<T> {
  /** Names progress lines, `[label] …`. */
  label: string;
  /** What is built, for messages: `the Temporal server v1.32.2`. */
  what: string;
  /** The version directory, `.tools/<name>/<version>`. */
  dir: string;
  /** The Go toolchain `go` fetches when the installed one is older. */
  toolchain: string;
  /** More of `go`'s environment (GOFLAGS, GOBIN in the staging directory, …). */
  goEnv(staging: string): Record<string, string>;
  /** Where `go` runs. */
  cwd?: string;
  timeoutMs: number;
  /** The first line, saying what is installed and how long it may take. */
  announce: string;
  /** Builds into `staging`; answers what the marker records besides the version, Go version and build time. */
  build(staging: string, run: GoRun): Promise<Record<string, unknown>>;
  /** The install in `dir`, when its marker is current and its files are there. */
  readInstalled(): T | undefined;
}

/** The marker of `dir`, or undefined when it has none (not installed, or debris). */
export function readMarker(dir: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, MARKER), 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** `$GO`, else `go` on PATH, else the usual tarball location; `purpose` names what needs it in the error. */
export function resolveGo(env: NodeJS.ProcessEnv, purpose: string): string {
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

/** `install()` once per process (a failed one may be tried again): the installed copy, else a build. */
export function onceInstalled<T>(readInstalled: () => T | undefined, install: (env: NodeJS.ProcessEnv) => Promise<T>): (env?: NodeJS.ProcessEnv) => Promise<T> {
  let pending: Promise<T> | undefined;
  return (env = process.env) => {
    pending ??= Promise.resolve()
      .then(() => readInstalled() ?? install(env))
      .catch((error: unknown) => {
        pending = undefined;
        throw error;
      });
    return pending;
  };
}

export async function installWithGo<T>(options: GoInstall<T>, env: NodeJS.ProcessEnv): Promise<T> {
  const progress = (message: string) => process.stderr.write(`[${options.label}] ${message}\n`);
  const go = resolveGo(env, options.what);
  progress(`installing ${options.what} into ${relative(PROJECT_ROOT, options.dir)}/ (${options.announce}) …`);
  const started = Date.now();
  const root = resolve(options.dir, '..');
  mkdirSync(root, { recursive: true });
  const staging = await mkdtemp(`${options.dir}.staging-`);
  const goEnv = { ...env, GOTOOLCHAIN: options.toolchain, CGO_ENABLED: '0', ...options.goEnv(staging) };
  const run: GoRun = async (args) => {
    try {
      const { stdout } = await execFileAsync(go, args, { cwd: options.cwd, env: goEnv, encoding: 'utf8', timeout: options.timeoutMs, maxBuffer: 64 * 1024 * 1024 });
      return stdout.trim();
    } catch (error) {
      const cause = error as { stderr?: string; message?: string };
      throw new Error(`\`go ${args.join(' ')}\` failed while installing ${options.what}:\n${lastLines(cause.stderr || cause.message || '')}`);
    }
  };
  try {
    const recorded = await options.build(staging, run);
    const goVersion = await run(['version']);
    const buildSeconds = Math.round((Date.now() - started) / 1000);
    await writeFile(join(staging, MARKER), `${JSON.stringify({ ...recorded, goVersion, buildSeconds }, null, 2)}\n`);
    await moveIntoPlace(staging, options);
    const installed = options.readInstalled();
    if (!installed) throw new Error(`installed ${options.what} into ${options.dir}, but cannot read it back`);
    progress(`${options.what} installed in ${buildSeconds} s (${goVersion})`);
    return installed;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

async function moveIntoPlace(staging: string, options: Pick<GoInstall<unknown>, 'dir' | 'readInstalled'>): Promise<void> {
  const { dir } = options;
  // A version directory without a current marker (debris, or a build of older sources) is replaced.
  if (existsSync(dir) && !options.readInstalled()) await rm(dir, { recursive: true, force: true });
  try {
    await rename(staging, dir);
  } catch (error) {
    if (!['ENOTEMPTY', 'EEXIST'].includes((error as NodeJS.ErrnoException).code ?? '')) throw error;
    // Another process finished first: keep its copy when it is current.
    if (options.readInstalled()) return;
    await rm(dir, { recursive: true, force: true });
    await rename(staging, dir);
  }
}
