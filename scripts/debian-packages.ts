// A tool the tests run (redis-server, chromium): from an environment variable,
// else PATH, else the project's copy under .tools/<name>/, installed on first
// use from Debian packages without root (`apt-get download` + `dpkg-deb -x`).
import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { delimiter, join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';

const TOOLS_DIR = resolve(__dirname, '..', '.tools');
/** Written into the staging tree last, so a `.tools/<name>/` holding it is complete. */
const MARKER = '.installed.json';
const APT_TIMEOUT_MS = 600_000;

const execFileAsync = promisify(execFile);

export interface ToolCommand {
  command: string;
  /** Extra environment the command needs (LD_LIBRARY_PATH for a `.tools/` install). */
  env: Record<string, string>;
}

export interface DebianTool {
  /** The directory under `.tools/` and the name in messages: `redis`, `chromium`. */
  name: string;
  /** Names a full path to the command; wins over everything else. */
  envVariable: string;
  /** Commands looked up on PATH, in order. */
  pathNames: string[];
  /**
   * The packages that hold the files we run. Always downloaded: installed
   * system-wide, their files would still be missing from the unpacked tree.
   * Their dependencies are downloaded only when the system lacks them.
   */
  packages: string[];
  /** More packages, downloaded only when the system lacks them (fonts, say). */
  packagesWhenMissing?: string[];
  /** The executable inside the unpacked tree, e.g. `usr/lib/chromium/chromium`. */
  command: string;
  /**
   * Prepares the unpacked tree before `check` (writes a config file, say) and
   * returns the environment variables it needs, as paths relative to the tree.
   */
  setUp?(root: string): Promise<Record<string, string>>;
  /** Throws when the unpacked command does not work. */
  check(tool: ToolCommand): Promise<void>;
  /** What a user can do instead: one sentence, ends the one-line error. */
  hint: string;
}

interface Marker {
  /** Relative to the install directory, like `libraryDirs`. */
  command: string;
  libraryDirs: string[];
  /** Environment variables whose values are paths relative to the install directory. */
  pathEnv?: Record<string, string>;
  debs: string[];
}

const installing = new Map<string, Promise<ToolCommand>>();

/**
 * `$<envVariable>`, else the first of `pathNames` on PATH, else `.tools/<name>/`,
 * installed there first when missing. Safe to call from several processes at
 * once: each unpacks into its own staging directory and renames it into place.
 */
export function resolveFromDebianPackages(tool: DebianTool, env: NodeJS.ProcessEnv = process.env): Promise<ToolCommand> {
  const fromEnv = env[tool.envVariable];
  if (fromEnv) return Promise.resolve({ command: fromEnv, env: {} });
  for (const name of tool.pathNames) {
    const onPath = findOnPath(name, env);
    if (onPath) return Promise.resolve({ command: onPath, env: {} });
  }
  let pending = installing.get(tool.name);
  if (!pending) {
    pending = Promise.resolve()
      .then(() => readInstalled(tool, env) ?? install(tool, env))
      .catch((error: unknown) => {
        installing.delete(tool.name);
        throw error;
      });
    installing.set(tool.name, pending);
  }
  return pending;
}

/** The first executable `name` in `env.PATH`, like `command -v`. */
export function findOnPath(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * The packages `apt-get -s install` (a simulation, no root needed) would
 * install: its `Inst <name> [<installed version>] (<version> …)` lines.
 */
export function parseSimulatedInstall(output: string): string[] {
  const names = output.split('\n').flatMap((line) => /^Inst (\S+)/.exec(line)?.[1] ?? []);
  return [...new Set(names)];
}

/** The last `count` lines of a process's output, for error messages. */
export function lastLines(text: string, count = 15): string {
  return text.trim().split('\n').slice(-count).join('\n');
}

function installDir(tool: DebianTool): string {
  return join(TOOLS_DIR, tool.name);
}

function readInstalled(tool: DebianTool, env: NodeJS.ProcessEnv): ToolCommand | undefined {
  const dir = installDir(tool);
  let marker: Marker;
  try {
    marker = JSON.parse(readFileSync(join(dir, MARKER), 'utf8')) as Marker;
  } catch {
    return undefined;
  }
  if (!existsSync(join(dir, marker.command))) return undefined;
  return commandFor(dir, marker, env);
}

function commandFor(dir: string, marker: Omit<Marker, 'debs'>, env: NodeJS.ProcessEnv): ToolCommand {
  const toolEnv: Record<string, string> = {};
  for (const [name, path] of Object.entries(marker.pathEnv ?? {})) toolEnv[name] = join(dir, path);
  if (marker.libraryDirs.length > 0) {
    toolEnv.LD_LIBRARY_PATH = [...marker.libraryDirs.map((libraryDir) => join(dir, libraryDir)), env.LD_LIBRARY_PATH].filter(Boolean).join(delimiter);
  }
  return { command: join(dir, marker.command), env: toolEnv };
}

function progress(message: string): void {
  process.stderr.write(`[bootstrap] ${message}\n`);
}

function failure(tool: DebianTool, what: string, error?: unknown): Error {
  const cause = error as { stderr?: string; message?: string } | undefined;
  const detail = cause ? lastLines(cause.stderr || cause.message || '') : '';
  return new Error(`${tool.pathNames[0]} is not on PATH and ${what}: ${tool.hint}${detail ? `\n${detail}` : ''}`);
}

/** Downloads and unpacks into a staging directory under `.tools/`, then renames it to `.tools/<name>/`. */
async function install(tool: DebianTool, env: NodeJS.ProcessEnv): Promise<ToolCommand> {
  for (const program of ['apt-get', 'dpkg-deb']) {
    if (!findOnPath(program, env)) throw failure(tool, `\`${program}\` is missing, so it cannot be installed into .tools/${tool.name}/`);
  }
  const started = Date.now();
  const packages = await packagesToDownload(tool);
  progress(`installing ${tool.name} into .tools/${tool.name}/ from ${packages.length} Debian packages (apt-get download + dpkg-deb -x, no root) …`);
  mkdirSync(TOOLS_DIR, { recursive: true });
  const staging = await mkdtemp(join(TOOLS_DIR, `${tool.name}.staging-`));
  try {
    const debDir = join(staging, 'debs');
    const root = join(staging, 'root');
    mkdirSync(debDir);
    try {
      await execFileAsync('apt-get', ['download', ...packages], { cwd: debDir, encoding: 'utf8', timeout: APT_TIMEOUT_MS });
    } catch (error) {
      throw failure(tool, `\`apt-get download\` failed (an \`apt-get update\` may help)`, error);
    }
    const debs = (await readdir(debDir)).filter((name) => name.endsWith('.deb')).sort();
    progress(`unpacking ${tool.name} (${debs.length} packages) …`);
    for (const deb of debs) await execFileAsync('dpkg-deb', ['-x', join(debDir, deb), root]);

    const libraryDirs = (await sharedLibraryDirs(root)).map((dir) => relative(root, dir));
    const marker: Marker = { command: tool.command, libraryDirs, pathEnv: (await tool.setUp?.(root)) ?? {}, debs };
    try {
      await tool.check(commandFor(root, marker, env));
    } catch (error) {
      throw failure(tool, `the copy unpacked from ${debs.join(', ')} does not run`, error);
    }
    await writeFile(join(root, MARKER), `${JSON.stringify(marker, null, 2)}\n`);
    await moveIntoPlace(tool, root, env);
    const installed = readInstalled(tool, env);
    if (!installed) throw new Error(`installed ${tool.name} into ${installDir(tool)}, but cannot read it back`);
    progress(`${tool.name} installed in ${Math.round((Date.now() - started) / 1000)} s`);
    return installed;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** `tool.packages`, and whichever of them, their dependencies (no recommends) and `packagesWhenMissing` this system lacks. */
async function packagesToDownload(tool: DebianTool): Promise<string[]> {
  const wanted = [...tool.packages, ...(tool.packagesWhenMissing ?? [])];
  let output: string;
  try {
    ({ stdout: output } = await execFileAsync('apt-get', ['-s', 'install', '--no-install-recommends', ...wanted], { encoding: 'utf8', timeout: APT_TIMEOUT_MS }));
  } catch (error) {
    throw failure(tool, `\`apt-get -s install ${wanted.join(' ')}\` failed (an \`apt-get update\` may help)`, error);
  }
  return [...new Set([...tool.packages, ...parseSimulatedInstall(output)])];
}

async function moveIntoPlace(tool: DebianTool, root: string, env: NodeJS.ProcessEnv): Promise<void> {
  const dir = installDir(tool);
  try {
    await rename(root, dir);
  } catch (error) {
    if (!['ENOTEMPTY', 'EEXIST'].includes((error as NodeJS.ErrnoException).code ?? '')) throw error;
    // Another process finished first: use its copy. A directory without a marker is debris: replace it.
    if (readInstalled(tool, env)) return;
    await rm(dir, { recursive: true, force: true });
    await rename(root, dir);
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
