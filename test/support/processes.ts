import { spawn, type ChildProcess } from 'node:child_process';
import { startEntryPoint as startProjectEntryPoint, type StartEntryPointOptions } from '../../scripts/entry-point';

/**
 * Starts one of the project's entry points as its own process, with its HTTP
 * server on a free loopback port unless `env` says otherwise; resolves with
 * its first JSON log line whose `msg` is `ready`, or fails with its last log
 * lines when it exits first or is not ready within `options.readyWithinMs`.
 */
export function startEntryPoint(
  entry: string,
  ready: string,
  env: Readonly<Record<string, string | undefined>>,
  /** Sees every stderr line the process writes. */
  onLine?: (line: string) => void,
  options?: StartEntryPointOptions,
): Promise<{ child: ChildProcess; line: Record<string, unknown> }> {
  return startProjectEntryPoint(entry, ready, { HOST: '127.0.0.1', PORT: '0', ...env }, onLine, options);
}

/** Kills what is still running (SIGKILL: tests do not wait for drains). */
export function killAll(children: readonly ChildProcess[]): void {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

/** A worker process (`worker/main.ts`) with `env`, not waited for: tests that kill workers mid-call start them so. */
export function spawnWorkerProcess(env: Readonly<Record<string, string | undefined>>): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'worker/main.ts'], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
}

/**
 * Reads `read` until `done` holds and returns what it read last; gives up
 * after 600 reads (`intervalMs` apart, 100 ms by default), naming `what` and
 * the last value seen.
 */
export async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string, intervalMs = 100): Promise<T> {
  let last: T | undefined;
  for (let tries = 0; tries < 600; tries++) {
    last = await read();
    if (done(last)) return last;
    await new Promise((wake) => setTimeout(wake, intervalMs));
  }
  throw new Error(`gave up waiting for ${what}; last seen: ${JSON.stringify(last)}`);
}

export async function waitFor(condition: () => Promise<boolean>, what: string): Promise<void> {
  for (let tries = 0; tries < 600; tries++) {
    if (await condition()) return;
    await new Promise((wake) => setTimeout(wake, 100));
  }
  throw new Error(`gave up waiting for ${what}`);
}
