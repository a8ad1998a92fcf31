import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';

/**
 * Starts one of the project's entry points (`api/main.ts`, `worker/main.ts`,
 * `local-model/main.ts`) as its own process; resolves with its first JSON log
 * line whose `msg` is `ready`. Its stderr keeps being read so it never blocks
 * on a full pipe.
 */
export async function startEntryPoint(
  entry: string,
  ready: string,
  env: Readonly<Record<string, string | undefined>>,
  /** Sees every stderr line the process writes. */
  onLine?: (line: string) => void,
): Promise<{ child: ChildProcess; line: Record<string, unknown> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', resolve(__dirname, '..', entry)], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const lines = createInterface({ input: child.stderr as NodeJS.ReadableStream });
  let lastError = '';
  const line = await new Promise<Record<string, unknown>>((resolvePromise, reject) => {
    child.once('exit', (code) => reject(new Error(`${entry} exited with ${code} before it was ready${lastError ? `: ${lastError}` : ''}`)));
    lines.on('line', (text) => {
      onLine?.(text);
      try {
        const parsed = JSON.parse(text) as Record<string, unknown>;
        if (parsed.msg === ready) resolvePromise(parsed);
        if (parsed.level === 'error' && typeof parsed.error === 'string') lastError = parsed.error;
      } catch {
        // Not one of our JSON lines (SDK logs).
      }
    });
  });
  return { child, line };
}

/** Stops a child and waits for it to exit (SIGKILL after `graceMs`). */
export function stopChild(child: ChildProcess, graceMs = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      done();
    });
    child.kill('SIGTERM');
  });
}
