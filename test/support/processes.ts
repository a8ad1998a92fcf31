import type { ChildProcess } from 'node:child_process';
import { startEntryPoint as startProjectEntryPoint } from '../../scripts/entry-point';

/**
 * Starts one of the project's entry points as its own process, with its HTTP
 * server on a free loopback port unless `env` says otherwise; resolves with
 * its first JSON log line whose `msg` is `ready`.
 */
export function startEntryPoint(
  entry: string,
  ready: string,
  env: Readonly<Record<string, string | undefined>>,
  /** Sees every stderr line the process writes. */
  onLine?: (line: string) => void,
): Promise<{ child: ChildProcess; line: Record<string, unknown> }> {
  return startProjectEntryPoint(entry, ready, { HOST: '127.0.0.1', PORT: '0', ...env }, onLine);
}

/** Kills what is still running (SIGKILL: tests do not wait for drains). */
export function killAll(children: readonly ChildProcess[]): void {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}
