import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';

/** How long an entry point may take to log its ready line, by default. */
export const READY_DEADLINE_MS = 60_000;
/** Stderr lines kept to show why a child never got ready. */
const KEPT_LINES = 20;

export interface StartEntryPointOptions {
  /**
   * Past this without the ready line the child is killed and the start fails
   * with its last lines, so a stuck child cannot hang its caller.
   * @default READY_DEADLINE_MS
   */
  readyWithinMs?: number;
  /** Node options before the entry point (e.g. `--cpu-prof`). */
  nodeArgs?: readonly string[];
}

/**
 * Starts one of the project's entry points (`api/main.ts`, `worker/main.ts`,
 * `local-model/main.ts`, `scripts/start.ts`) as its own process; resolves with
 * its first JSON log line whose `msg` is `ready` — or, when `ready` is a
 * pattern, the first line it matches, as `{ text, match }`. Its stderr keeps being read so it never blocks
 * on a full pipe. Rejects, with the child's last stderr lines, when the child
 * exits first or stays silent past `readyWithinMs`.
 */
export async function startEntryPoint(
  entry: string,
  ready: string | RegExp,
  env: Readonly<Record<string, string | undefined>>,
  /** Sees every stderr line the process writes. */
  onLine?: (line: string) => void,
  options: StartEntryPointOptions = {},
): Promise<{ child: ChildProcess; line: Record<string, unknown> }> {
  const readyWithinMs = options.readyWithinMs ?? READY_DEADLINE_MS;
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), '--import', 'tsx', resolve(__dirname, '..', entry)], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const lines = createInterface({ input: child.stderr as NodeJS.ReadableStream });
  const lastLines: string[] = [];
  let lastError = '';
  const tail = () => (lastLines.length === 0 ? ' (it wrote nothing)' : `; its last lines:\n${lastLines.join('\n')}`);
  let timer: NodeJS.Timeout | undefined;
  const line = await new Promise<Record<string, unknown>>((resolvePromise, reject) => {
    child.once('exit', (code, signal) =>
      reject(new Error(`${entry} exited with ${code ?? signal} before it was ready${lastError ? `: ${lastError}` : ''}${tail()}`)),
    );
    timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${entry} did not log "${ready}" within ${readyWithinMs} ms, so it was killed${tail()}`));
    }, readyWithinMs);
    lines.on('line', (text) => {
      onLine?.(text);
      lastLines.push(text);
      if (lastLines.length > KEPT_LINES) lastLines.shift();
      if (ready instanceof RegExp) {
        const match = ready.exec(text);
        if (match) resolvePromise({ text, match: [...match] });
        return;
      }
      try {
        const parsed = JSON.parse(text) as Record<string, unknown>;
        if (parsed.msg === ready) resolvePromise(parsed);
        if (parsed.level === 'error' && typeof parsed.error === 'string') lastError = parsed.error;
      } catch {
        // Not one of our JSON lines (SDK logs).
      }
    });
  }).finally(() => clearTimeout(timer));
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
