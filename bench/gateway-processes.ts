// The gateway split as in production, for benches that watch each process:
// one API process and worker processes of their own, every line each writes
// (stdout and stderr) read and counted against the patterns a bench watches
// for, and each process's resident memory and CPU read from /proc.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, type WriteStream } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { READY_DEADLINE_MS } from '../scripts/entry-point';
import { clockTicksPerSecond } from './cpu';

const ROOT = resolve(__dirname, '..');
/** Lines kept per process and pattern, to show what matched. */
const SAMPLES_KEPT = 3;
/** Times kept per process and pattern. */
const TIMES_KEPT = 10_000;

export interface GatewayProcess {
  /** `api`, `worker-1`, … */
  name: string;
  child: ChildProcess;
  pid: number;
  /** The process's ready line (the API's holds `url`, a worker's `metrics`). */
  ready: Record<string, unknown>;
  /** Lines written so far, stdout and stderr together. */
  lines: number;
  /** Per watched pattern: lines that matched, the first few of them, and when each was read (epoch ms). */
  matches: Record<string, { count: number; samples: string[]; at: number[] }>;
}

export interface SplitProcesses {
  api: GatewayProcess;
  workers: GatewayProcess[];
  all: GatewayProcess[];
  stop(): Promise<void>;
}

interface StartOptions {
  env: Readonly<Record<string, string>>;
  workers: number;
  patterns: readonly string[];
  /** Every line each process writes goes to `<logDir>/<name>.log` as well. */
  logDir: string;
  log: (line: string) => void;
}

/**
 * Starts `workers` worker processes, then the API process, with `env` (a
 * harness's: its dev server, config and task queue). Each line any of them
 * writes is checked against `patterns` (plain substrings) and kept in `logDir`.
 */
export async function startSplitProcesses(options: StartOptions): Promise<SplitProcesses> {
  mkdirSync(options.logDir, { recursive: true });
  const started: GatewayProcess[] = [];
  try {
    // One at a time: on 2 cores, starting them together only makes each slower to get ready.
    for (let index = 1; index <= options.workers; index += 1) {
      started.push(await startProcess(`worker-${index}`, 'worker/main.ts', 'worker started', options));
    }
    const api = await startProcess('api', 'api/main.ts', 'api listening', options);
    started.push(api);
    const workers = started.filter((process) => process !== api);
    options.log(`[bench] ${started.map((process) => `${process.name} pid ${process.pid}`).join(', ')}; their output in ${options.logDir}/`);
    return { api, workers, all: [api, ...workers], stop: () => stopAll(started) };
  } catch (error) {
    await stopAll(started);
    throw error;
  }
}

async function startProcess(name: string, entry: string, readyMessage: string, options: StartOptions): Promise<GatewayProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', resolve(ROOT, entry)], {
    env: { ...process.env, HOST: '127.0.0.1', PORT: '0', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const matches = Object.fromEntries(options.patterns.map((pattern) => [pattern, { count: 0, samples: [] as string[], at: [] as number[] }]));
  const gateway: GatewayProcess = { name, child, pid: child.pid ?? -1, ready: {}, lines: 0, matches };
  const tail: string[] = [];
  const file: WriteStream = createWriteStream(join(options.logDir, `${name}.log`));
  child.once('exit', () => file.end());
  gateway.ready = await new Promise<Record<string, unknown>>((resolveReady, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} (${entry}) did not log "${readyMessage}" within ${READY_DEADLINE_MS} ms:\n${tail.join('\n')}`));
    }, READY_DEADLINE_MS);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name} (${entry}) exited with ${code ?? signal} before it was ready:\n${tail.join('\n')}`));
    });
    const onLine = (text: string) => {
      gateway.lines += 1;
      file.write(`${text}\n`);
      tail.push(text);
      if (tail.length > 20) tail.shift();
      for (const pattern of options.patterns) {
        if (!text.includes(pattern)) continue;
        const match = matches[pattern]!;
        match.count += 1;
        if (match.samples.length < SAMPLES_KEPT) match.samples.push(text.slice(0, 400));
        if (match.at.length < TIMES_KEPT) match.at.push(Date.now());
      }
      if (!text.includes(readyMessage)) return;
      try {
        const parsed = JSON.parse(text) as Record<string, unknown>;
        if (parsed.msg === readyMessage) {
          clearTimeout(timer);
          resolveReady(parsed);
        }
      } catch {
        // not one of our JSON lines
      }
    };
    for (const stream of [child.stdout, child.stderr]) createInterface({ input: stream as NodeJS.ReadableStream }).on('line', onLine);
  });
  return gateway;
}

async function stopAll(processes: readonly GatewayProcess[]): Promise<void> {
  await Promise.all(
    processes.map(
      ({ child }) =>
        new Promise<void>((done) => {
          if (child.exitCode !== null || child.signalCode !== null) return done();
          const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
          child.once('exit', () => {
            clearTimeout(timer);
            done();
          });
          child.kill('SIGTERM');
        }),
    ),
  );
}

/** Resident memory of `pid` in MiB (`VmRSS` of /proc/<pid>/status), or undefined when it is gone. */
export function residentMiB(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** CPU ms (user + system) `pid` used so far, or undefined when it is gone. */
export function processCpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicksPerSecond();
  } catch {
    return undefined;
  }
}

/** The 1-, 5- and 15-minute load averages, for the report's context. */
export function loadAverage(): number[] {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
  } catch {
    return [];
  }
}
