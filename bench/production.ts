// `npm run bench -- --production [--requests 300] [--warmup 30] [--concurrency 1,16]`:
// the gateway on the production topology of `npm run test:production` (the
// real Temporal server on PostgreSQL, mTLS + API key, two API processes, the
// Redis cache, encrypted history), with one worker process and then two.
// Per level: requests/s, p50/p99, and CPU-ms per request of each process
// kind (API, worker, Temporal server, PostgreSQL) and of this load generator.
import { setTimeout as sleep } from 'node:timers/promises';
import { TENANT_KEY } from '../test/support/gateway-harness';
import { startTopology, type Topology } from '../test/production/support/topology';
import { ownCpuMs, processTreeCpuMs } from './cpu';
import { runLoad, summarize, type RequestOutcome } from './load';
import { writeBenchResults } from './report';
import { checkCompletion } from './senders';

/** Time the processes get after a phase to finish background work before CPU is read. */
const SETTLE_MS = 1_000;

type Kind = 'api' | 'worker' | 'temporal server' | 'postgresql' | 'load generator';
const KINDS: readonly Kind[] = ['api', 'worker', 'temporal server', 'postgresql', 'load generator'];

export interface ProductionLevel {
  workers: number;
  concurrency: number;
  requests: number;
  ok: number;
  errors: Record<string, number>;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** CPU ms per answered request, by process kind. */
  cpuMsPerRequest: Record<Kind, number>;
}

export async function runProductionBench(options: {
  requests: number;
  warmup: number;
  concurrency: number[];
  timeoutMs: number;
  out: string;
  log: (line: string) => void;
  signal: AbortSignal;
}): Promise<number> {
  options.log('[bench] production topology: PostgreSQL, temporal-server (mTLS + API key), Redis, 2 API processes, 1 then 2 workers');
  const topology = await startTopology({ workers: 1, apis: 2, name: 'production-bench' });
  const levels: ProductionLevel[] = [];
  try {
    let sequence = 0;
    const send = async (signal: AbortSignal): Promise<RequestOutcome> => {
      sequence += 1;
      const api = topology.apis[sequence % topology.apis.length];
      // Each body differs: the response cache must not answer.
      const response = await fetch(`${api?.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TENANT_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'model-a', messages: [{ role: 'user', content: `production bench ${sequence}: one short sentence.` }] }),
        signal,
      });
      return checkCompletion(response);
    };
    for (const workers of [1, 2]) {
      while (topology.workers.length < workers) topology.workers.push(await topology.startWorker());
      for (const concurrency of options.concurrency) {
        if (options.signal.aborted) break;
        await runLoad({ count: options.warmup, concurrency, maxMs: 120_000, timeoutMs: options.timeoutMs, send, abort: options.signal });
        const before = cpuByKind(topology);
        const result = await runLoad({ count: options.requests, concurrency, maxMs: 600_000, timeoutMs: options.timeoutMs, send, abort: options.signal });
        await sleep(SETTLE_MS);
        const after = cpuByKind(topology);
        const latency = summarize(result.latenciesMs);
        const level: ProductionLevel = {
          workers,
          concurrency,
          requests: result.sent,
          ok: result.ok,
          errors: result.errorKinds,
          requestsPerSecond: result.ok / (result.wallMs / 1000),
          p50Ms: latency.p50,
          p99Ms: latency.p99,
          cpuMsPerRequest: Object.fromEntries(KINDS.map((kind) => [kind, (after[kind] - before[kind]) / Math.max(1, result.ok)])) as Record<Kind, number>,
        };
        levels.push(level);
        options.log(
          `[bench] ${workers} worker(s), c${concurrency}: ${level.ok}/${level.requests} ok, ${level.requestsPerSecond.toFixed(1)} req/s, p50 ${level.p50Ms.toFixed(1)} ms, p99 ${level.p99Ms.toFixed(1)} ms`,
        );
      }
    }
  } finally {
    await topology.stop();
  }
  console.log(formatProductionReport(levels));
  writeBenchResults(options.out, { mode: 'production', levels });
  return levels.every((level) => level.ok === level.requests) ? 0 : 1;
}

/** CPU ms used so far by every process of each kind (a process that is gone counts what it used until its last reading: nothing). */
function cpuByKind(topology: Topology): Record<Kind, number> {
  const sum = (pids: (number | undefined)[]) => pids.reduce<number>((total, pid) => total + (processTreeCpuMs(pid) ?? 0), 0);
  const pids = topology.cluster.pids();
  return {
    api: sum(topology.apis.map((api) => api.child.pid)),
    worker: sum(topology.workers.map((worker) => worker.child.pid)),
    'temporal server': sum([pids.temporalServer]),
    postgresql: sum([pids.postgres]),
    'load generator': ownCpuMs(),
  };
}

export function formatProductionReport(levels: readonly ProductionLevel[]): string {
  const header = ['workers', 'conc.', 'ok', 'req/s', 'p50 ms', 'p99 ms', ...KINDS.map((kind) => `${kind} CPU-ms/req`), 'total CPU-ms/req'];
  const rows = levels.map((level) => {
    const cpu = KINDS.map((kind) => level.cpuMsPerRequest[kind]);
    return [
      String(level.workers),
      String(level.concurrency),
      `${level.ok}/${level.requests}`,
      level.requestsPerSecond.toFixed(1),
      level.p50Ms.toFixed(1),
      level.p99Ms.toFixed(1),
      ...cpu.map((value) => value.toFixed(1)),
      cpu.reduce((total, value) => total + value, 0).toFixed(1),
    ];
  });
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]?.length ?? 0)));
  const line = (cells: string[]) => cells.map((cell, column) => cell.padStart(widths[column] ?? 0)).join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}
