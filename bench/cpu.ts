// CPU time of this process and of another process tree (the Temporal dev
// server), read from /proc on Linux.
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

let clockTicks: number | undefined;

/** Clock ticks per second for /proc times (`getconf CLK_TCK`, normally 100). */
export function clockTicksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** utime + stime of one process in ticks, or undefined when it is gone (or not Linux). */
function processTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: count fields after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Field 3 (state) is fields[0], so utime (14) is fields[11] and stime (15) fields[12].
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return undefined;
  }
}

function childPids(pid: number): number[] {
  const children: number[] = [];
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const text = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim();
      if (text) children.push(...text.split(/\s+/).map(Number));
    }
  } catch {
    // gone, or no /proc
  }
  return children;
}

/**
 * CPU ms used so far by `pid` and its live descendants (the `temporal` CLI
 * runs the server in-process, but a wrapper script would not). Undefined when
 * /proc cannot be read.
 */
export function processTreeCpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  const own = processTicks(pid);
  if (own === undefined) return undefined;
  let ticks = own;
  const seen = new Set([pid]);
  const queue = childPids(pid);
  while (queue.length > 0) {
    const next = queue.shift()!;
    if (seen.has(next)) continue;
    seen.add(next);
    ticks += processTicks(next) ?? 0;
    queue.push(...childPids(next));
  }
  return (ticks * 1000) / clockTicksPerSecond();
}

/** CPU ms (user + system, all threads) of this Node process so far. */
export function ownCpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

export interface CpuSample {
  node: number;
  server: number | undefined;
}

export function sampleCpu(serverPid: number | undefined): CpuSample {
  return { node: ownCpuMs(), server: processTreeCpuMs(serverPid) };
}

/** CPU ms spent between two samples. */
export function cpuDelta(before: CpuSample, after: CpuSample): CpuSample {
  return {
    node: after.node - before.node,
    server: before.server === undefined || after.server === undefined ? undefined : after.server - before.server,
  };
}
