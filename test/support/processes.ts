import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/**
 * Starts one of the project's entry points (`api/main.ts`, `worker/main.ts`)
 * as its own process; resolves with its first JSON log line whose `msg` is
 * `ready`. Its stderr keeps being read so it never blocks on a full pipe.
 */
export async function startEntryPoint(
  entry: string,
  ready: string,
  env: Readonly<Record<string, string | undefined>>,
  /** Sees every stderr line the process writes. */
  onLine?: (line: string) => void,
): Promise<{ child: ChildProcess; line: Record<string, unknown> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    env: { ...process.env, HOST: '127.0.0.1', PORT: '0', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const lines = createInterface({ input: child.stderr as NodeJS.ReadableStream });
  const line = await new Promise<Record<string, unknown>>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${entry} exited with ${code} before it was ready`)));
    lines.on('line', (text) => {
      onLine?.(text);
      try {
        const parsed = JSON.parse(text) as Record<string, unknown>;
        if (parsed.msg === ready) resolve(parsed);
      } catch {
        // Not one of our JSON lines (SDK logs).
      }
    });
  });
  return { child, line };
}

/** Kills what is still running (SIGKILL: tests do not wait for drains). */
export function killAll(children: readonly ChildProcess[]): void {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}
