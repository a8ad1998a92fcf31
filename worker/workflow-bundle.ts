// The workflow bundle (webpack + swc over workflows/): built once per process
// for tests and traced workers, or in a short-lived process of its own for the
// long-running ones, which then never load the bundler (its modules, native
// code and threads' allocator arenas are about 100 MiB that would stay
// resident for the process's life; see the README's memory figures).
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';

/** Bundling takes seconds (tens on a busy 2-core machine); a bundler stuck past this fails the start. */
const BUNDLE_DEADLINE_MS = 5 * 60_000;
/** Node options a bundling process must not inherit: it would write a CPU profile of its own into the bench's folder. */
const NOT_INHERITED = /^--(cpu-prof|heap-prof|inspect)/;

const bundles = new Map<string | undefined, Promise<WorkflowBundleWithSourceMap>>();

/**
 * Bundles the workflow code once per process (and failure converter). A
 * prebuilt bundle ignores the worker's `failureConverterPath`, so the bundle
 * is built with the one the data converter names; without it, failures a
 * workflow raises would be stored in plain text under history encryption.
 */
export function getWorkflowBundle(failureConverterPath?: string): Promise<WorkflowBundleWithSourceMap> {
  let bundle = bundles.get(failureConverterPath);
  if (!bundle) {
    bundle = bundleWorkflows(failureConverterPath);
    bundles.set(failureConverterPath, bundle);
  }
  return bundle;
}

/** The bundle, built here: what `getWorkflowBundle` caches and `worker/bundle-workflows.ts` runs. */
export function bundleWorkflows(failureConverterPath?: string, plugins?: Parameters<typeof bundleWorkflowCode>[0]['plugins']): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({ workflowsPath: require.resolve('../workflows'), logger: quietBundlerLogger, failureConverterPath, ...(plugins ? { plugins } : {}) });
}

/**
 * The same bundle as `getWorkflowBundle`, built by a process of its own
 * (`worker/bundle-workflows.ts`, started with this process's loader) so this
 * one never loads webpack or swc.
 */
export async function bundleInOwnProcess(failureConverterPath?: string): Promise<WorkflowBundleWithSourceMap> {
  const folder = mkdtempSync(join(tmpdir(), 'switchyard-bundle-'));
  const out = join(folder, 'bundle.json');
  try {
    const nodeArgs = process.execArgv.filter((arg) => !NOT_INHERITED.test(arg));
    const args = [...nodeArgs, require.resolve('./bundle-workflows'), out, ...(failureConverterPath ? [failureConverterPath] : [])];
    await new Promise<void>((resolve, reject) => {
      execFile(process.execPath, args, { timeout: BUNDLE_DEADLINE_MS, killSignal: 'SIGKILL', maxBuffer: 16 << 20 }, (error, _stdout, stderr) => {
        if (error) reject(new Error(`bundling the workflow code failed (${error.killed ? `killed after ${BUNDLE_DEADLINE_MS} ms` : `exit ${error.code}`}): ${stderr.trim().slice(-2000)}`));
        else resolve();
      });
    });
    const bundle = JSON.parse(readFileSync(out, 'utf8')) as WorkflowBundleWithSourceMap;
    if (typeof bundle.code !== 'string' || bundle.code.length === 0) throw new Error(`bundling the workflow code wrote no code to ${out}`);
    return bundle;
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

const quietBundlerLogger = {
  log() {},
  trace() {},
  debug() {},
  info() {},
  warn(message: string, meta?: Record<string, unknown>) {
    console.warn(message, meta ?? '');
  },
  error(message: string, meta?: Record<string, unknown>) {
    console.error(message, meta ?? '');
  },
};
