// `npm run bench`: what a request through the gateway costs over a direct call
// to the provider (the mock at zero latency), per concurrency level. See
// bench/README.md for how to read the output.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { resolveTemporalCli } from '../scripts/temporal-dev-server';
import { clockTicksPerSecond, cpuDelta, processTreeCpuMs, sampleCpu, type CpuSample } from './cpu';
import { BENCH_MODEL, startBenchEnvironment } from './environment';
import { measureFirstToken, type FirstTokenFigures } from './first-token';
import { runLoad, summarize, type LoadResult, type RequestOutcome } from './load';
import { formatFirstToken, formatReport, type LevelFigures, type PhaseFigures } from './report';
import { directSender, gatewaySender } from './senders';
import { runLocalModelBench } from './local-model';
import { runGovernanceBench } from './governance';
import { runPromptCostBench } from './prompt-cost';
import { runBatchBench } from './batch';
import { runRecoveryBench } from './recovery';
import { runBreakerBurstBench } from './breaker-burst';
import { runMemoryBench } from './memory';
import { runProductionBench } from './production';
import { runFloorBench } from './floor';

const ROOT = resolve(__dirname, '..');
const log = (line: string) => console.error(line);
/** Time the server gets after a phase to finish its background work before its CPU is read. */
const SETTLE_MS = 500;

interface Options {
  concurrency: number[];
  requests: number;
  warmup: number;
  maxSeconds: number;
  timeoutMs: number;
  streamRequests: number;
  tracing: boolean;
  localActivities: boolean;
  localModel: boolean;
  governance: boolean;
  batch: boolean;
  recovery: boolean;
  breakerBurst: boolean;
  memory: boolean;
  production: boolean;
  /** The embedded gateway in this process against the mock only (the bench before the floor). */
  embedded: boolean;
  rounds: number;
  cpuProfileDir: string | undefined;
  outageRequests: number;
  workers: number;
  promptCost: boolean;
  maxTokens: number;
  slots: number | undefined;
  out: string;
}

function readOptions(): Options {
  const { values } = parseArgs({
    options: {
      concurrency: { type: 'string', default: '1,4,16' },
      requests: { type: 'string', default: '300' },
      warmup: { type: 'string', default: '50' },
      'max-seconds': { type: 'string', default: '120' },
      'timeout-ms': { type: 'string', default: '30000' },
      'stream-requests': { type: 'string', default: '100' },
      tracing: { type: 'boolean', default: false },
      'local-activities': { type: 'boolean', default: false },
      'local-model': { type: 'boolean', default: false },
      governance: { type: 'boolean', default: false },
      batch: { type: 'boolean', default: false },
      recovery: { type: 'boolean', default: false },
      'breaker-burst': { type: 'boolean', default: false },
      memory: { type: 'boolean', default: false },
      production: { type: 'boolean', default: false },
      embedded: { type: 'boolean', default: false },
      'cpu-prof-dir': { type: 'string' },
      'outage-requests': { type: 'string', default: '200' },
      rounds: { type: 'string', default: '3' },
      workers: { type: 'string', default: '4' },
      'prompt-cost': { type: 'boolean', default: false },
      'max-tokens': { type: 'string', default: '128' },
      slots: { type: 'string' },
      out: { type: 'string', default: 'bench/results/latest.json' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(
      'usage: npm run bench -- [--rounds 3] [--concurrency 1,16] [--requests 200] [--warmup 30] [--stream-requests 50] [--outage-requests 200] [--cpu-prof-dir DIR] [--out bench/results/floor.json]\n' +
        '       npm run bench -- --embedded [--concurrency 1,4,16] [--requests 300] [--warmup 50] [--max-seconds 120] [--timeout-ms 30000] [--stream-requests 100] [--tracing] [--local-activities] [--out bench/results/latest.json]\n' +
        '       npm run bench -- --local-model [--requests 20] [--concurrency 1,2,4] [--max-tokens 128] [--slots N] [--out bench/results/local-model.json]\n' +
        '       npm run bench -- --governance [--requests 200] [--warmup 20] [--out bench/results/governance.json]\n' +
        '       npm run bench -- --batch [--requests 2000] [--concurrency 16,64] [--out bench/results/batch.json]\n' +
        '       npm run bench -- --recovery [--requests 1000] [--out bench/results/recovery.json]\n' +
        '       npm run bench -- --breaker-burst [--requests 1000] [--workers 4] [--concurrency 100] [--out bench/results/breaker-burst.json]\n' +
        '       npm run bench -- --memory [--requests 10000] [--concurrency 16] [--out bench/results/memory.json]\n' +
        '       npm run bench -- --production [--requests 300] [--warmup 30] [--concurrency 1,16] [--out bench/results/production.json]\n' +
        '       npm run bench -- --prompt-cost [--out bench/results/prompt-cost.json]',
    );
    process.exit(0);
  }
  const positive = (name: string, text: string, max: number) => {
    const value = Number(text);
    if (!Number.isInteger(value) || value < 1 || value > max) throw new Error(`--${name} must be an integer from 1 to ${max}, got "${text}"`);
    return value;
  };
  const localModel = values['local-model'];
  const governance = values.governance;
  const batch = values.batch;
  // Each mode's own defaults, for the options the command line did not give.
  const given = process.argv.slice(2).join(' ');
  const modeDefaults = (enabled: boolean | undefined, defaults: Partial<Record<'requests' | 'concurrency' | 'warmup' | 'out', string>>): void => {
    if (!enabled) return;
    for (const [option, value] of Object.entries(defaults)) if (!new RegExp(`--${option}`).test(given)) Object.assign(values, { [option]: value });
  };
  modeDefaults(batch, { requests: '2000', concurrency: '16,64', out: 'bench/results/batch.json' });
  modeDefaults(values.recovery, { requests: '1000', out: 'bench/results/recovery.json' });
  modeDefaults(values['breaker-burst'], { requests: '1000', concurrency: '100', out: 'bench/results/breaker-burst.json' });
  modeDefaults(values.memory, { requests: '10000', concurrency: '16', out: 'bench/results/memory.json' });
  modeDefaults(values.production, { requests: '300', warmup: '30', concurrency: '1,16', out: 'bench/results/production.json' });
  modeDefaults(values['prompt-cost'], { out: 'bench/results/prompt-cost.json' });
  const floor = !values.embedded && !localModel && !governance && !batch && !values.recovery && !values['breaker-burst'] && !values.memory && !values.production && !values['prompt-cost'];
  modeDefaults(floor, { requests: '200', concurrency: '1,16', warmup: '30', out: 'bench/results/floor.json' });
  if (floor && !/--stream-requests/.test(given)) values['stream-requests'] = '50';
  modeDefaults(governance, { requests: '200', warmup: '20', out: 'bench/results/governance.json' });
  // The local model answers in seconds, not milliseconds: fewer requests, fewer callers.
  modeDefaults(localModel, { concurrency: '1,2,4', requests: '20', out: 'bench/results/local-model.json' });
  return {
    localModel,
    governance,
    batch,
    recovery: values.recovery,
    breakerBurst: values['breaker-burst'],
    memory: values.memory,
    production: values.production,
    embedded: values.embedded || !floor,
    rounds: positive('rounds', values.rounds, 20),
    cpuProfileDir: values['cpu-prof-dir'] === undefined ? undefined : resolve(values['cpu-prof-dir']),
    outageRequests: values['outage-requests'] === '0' ? 0 : positive('outage-requests', values['outage-requests'], 100_000),
    workers: positive('workers', values.workers, 16),
    promptCost: values['prompt-cost'],
    maxTokens: positive('max-tokens', values['max-tokens'], 2_048),
    slots: values.slots === undefined ? undefined : positive('slots', values.slots, 16),
    concurrency: values.concurrency.split(',').map((part) => positive('concurrency', part.trim(), 256)),
    requests: positive('requests', values.requests, 100_000),
    warmup: values.warmup === '0' ? 0 : positive('warmup', values.warmup, 10_000),
    maxSeconds: positive('max-seconds', values['max-seconds'], 3_600),
    timeoutMs: positive('timeout-ms', values['timeout-ms'], 600_000),
    streamRequests: values['stream-requests'] === '0' ? 0 : positive('stream-requests', values['stream-requests'], 100_000),
    tracing: values.tracing,
    localActivities: values['local-activities'],
    out: resolve(ROOT, values.out),
  };
}

const sleep = (milliseconds: number) => new Promise((wake) => setTimeout(wake, milliseconds));

function phaseFigures(result: LoadResult, cpu: CpuSample): PhaseFigures {
  const perRequest = (value: number) => (result.sent === 0 ? NaN : value / result.sent);
  return {
    sent: result.sent,
    ok: result.ok,
    errors: result.errors,
    errorKinds: result.errorKinds,
    truncated: result.truncated,
    wallMs: result.wallMs,
    latencyMs: summarize(result.latenciesMs),
    throughputRps: result.wallMs > 0 ? (result.ok * 1000) / result.wallMs : NaN,
    nodeCpuMsPerRequest: perRequest(cpu.node),
    serverCpuMsPerRequest: cpu.server === undefined ? null : perRequest(cpu.server),
  };
}

function machineInfo() {
  const cpus = os.cpus();
  const quiet = (command: string, args: string[]) => {
    try {
      return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], cwd: ROOT }).trim();
    } catch {
      return null;
    }
  };
  return {
    date: new Date().toISOString(),
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? null,
    totalMemoryMiB: Math.round(os.totalmem() / 2 ** 20),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
    temporalCli: quiet(resolveTemporalCli(), ['--version']),
    gitCommit: quiet('git', ['rev-parse', '--short', 'HEAD']),
  };
}

async function main(): Promise<number> {
  const options = readOptions();
  // The Temporal SDK shuts the worker down on SIGINT/SIGTERM by itself, so the
  // requests in flight are cancelled rather than left to time out.
  const interrupt = new AbortController();
  const onSignal = () => {
    if (interrupt.signal.aborted) return;
    interrupt.abort();
    log('\n[bench] interrupted: cancelling the requests in flight, then stopping everything…');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  if (options.recovery) {
    return runRecoveryBench({ items: options.requests, out: options.out, log, signal: interrupt.signal });
  }
  if (options.breakerBurst) {
    const concurrency = options.concurrency[0] ?? 100;
    return runBreakerBurstBench({ requests: options.requests, workers: options.workers, concurrency, out: options.out, log, signal: interrupt.signal });
  }
  if (options.production) {
    return runProductionBench({ requests: options.requests, warmup: options.warmup, concurrency: options.concurrency, timeoutMs: options.timeoutMs, out: options.out, log, signal: interrupt.signal });
  }
  if (options.memory) {
    return runMemoryBench({ requests: options.requests, concurrency: options.concurrency[0] ?? 16, out: options.out, log, signal: interrupt.signal });
  }
  if (options.batch) {
    return runBatchBench({ items: options.requests, concurrency: options.concurrency, out: options.out, log, signal: interrupt.signal });
  }
  if (options.promptCost) return runPromptCostBench({ out: options.out, log });
  if (!options.embedded) {
    return runFloorBench({
      requests: options.requests,
      warmup: options.warmup,
      rounds: options.rounds,
      concurrency: options.concurrency,
      streamRequests: options.streamRequests,
      timeoutMs: options.timeoutMs,
      cpuProfileDir: options.cpuProfileDir,
      outageRequests: options.outageRequests,
      out: options.out,
      log,
      signal: interrupt.signal,
    });
  }
  if (options.governance) {
    return runGovernanceBench({ requests: options.requests, warmup: options.warmup, out: options.out, log, signal: interrupt.signal });
  }
  if (options.localModel) {
    return runLocalModelBench({
      requests: options.requests,
      concurrency: options.concurrency,
      maxTokens: options.maxTokens,
      slots: options.slots,
      out: options.out,
      log,
      signal: interrupt.signal,
    });
  }

  const env = await startBenchEnvironment(log, { tracing: options.tracing, localActivities: options.localActivities });
  try {
    const serverPid = env.devServer.process.pid;
    const load = (send: (signal: AbortSignal) => Promise<RequestOutcome>, count: number, concurrency: number) =>
      runLoad({ send, count, concurrency, maxMs: options.maxSeconds * 1000, timeoutMs: options.timeoutMs, abort: interrupt.signal });

    if (options.warmup > 0) {
      log(`[bench] warm-up: ${options.warmup} requests direct and through the gateway`);
      const warmDirect = await load(directSender(env), options.warmup, 4);
      const warmGateway = await load(gatewaySender(env, { otherModel: 0 }), options.warmup, 4);
      if (warmGateway.errors > 0 || warmDirect.errors > 0) {
        log(`[bench] warm-up errors: ${JSON.stringify({ direct: warmDirect.errorKinds, gateway: warmGateway.errorKinds })}`);
      }
    }
    await sleep(SETTLE_MS);
    const idleBefore = processTreeCpuMs(serverPid);
    await sleep(2_000);
    const idleAfter = processTreeCpuMs(serverPid);
    const serverIdleCpuMsPerSecond = idleBefore === undefined || idleAfter === undefined ? null : (idleAfter - idleBefore) / 2;

    const levels: LevelFigures[] = [];
    for (const concurrency of options.concurrency) {
      if (interrupt.signal.aborted) break;
      const measure = async (send: (signal: AbortSignal) => Promise<RequestOutcome>) => {
        const before = sampleCpu(serverPid);
        const result = await load(send, options.requests, concurrency);
        await sleep(SETTLE_MS);
        return phaseFigures(result, cpuDelta(before, sampleCpu(serverPid)));
      };
      log(`[bench] concurrency ${concurrency}: ${options.requests} requests direct to the mock…`);
      const direct = await measure(directSender(env));
      log(`[bench] concurrency ${concurrency}: ${options.requests} requests through the gateway…`);
      const counters = { otherModel: 0 };
      const gateway = { ...(await measure(gatewaySender(env, counters))), answeredByOtherModel: counters.otherModel };
      const apiAndWorker = gateway.nodeCpuMsPerRequest - direct.nodeCpuMsPerRequest;
      const temporalServer = gateway.serverCpuMsPerRequest;
      levels.push({
        concurrency,
        direct,
        gateway,
        addedLatencyMs: {
          p50: gateway.latencyMs.p50 - direct.latencyMs.p50,
          p95: gateway.latencyMs.p95 - direct.latencyMs.p95,
          p99: gateway.latencyMs.p99 - direct.latencyMs.p99,
        },
        gatewayCpuMsPerRequest: { apiAndWorker, temporalServer, total: temporalServer === null ? null : apiAndWorker + temporalServer },
      });
    }

    let firstToken: { direct: FirstTokenFigures; gateway: FirstTokenFigures } | undefined;
    if (options.streamRequests > 0 && !interrupt.signal.aborted) {
      log(`[bench] time to first streamed token: ${options.streamRequests} streamed requests direct, then through the gateway…`);
      firstToken = {
        direct: await measureFirstToken(env, 'direct', options.streamRequests, interrupt.signal),
        gateway: await measureFirstToken(env, 'gateway', options.streamRequests, interrupt.signal),
      };
    }

    const truncated = levels.some((level) => level.direct.truncated || level.gateway.truncated);
    const notes = [
      `Latencies are of successful requests only. CPU ms/req divides a phase's CPU time (plus ${SETTLE_MS} ms settle) by the requests sent.`,
      serverIdleCpuMsPerSecond === null
        ? 'Temporal server CPU could not be read from /proc.'
        : `The idle Temporal dev server uses ~${serverIdleCpuMsPerSecond.toFixed(0)} CPU ms/s (2 s sample, ${1000 / clockTicksPerSecond()} ms ticks); it is included in its per-request figures.`,
      `${os.cpus().length} CPUs, Node ${process.version}; load generator, mock, API and worker share this one Node process.`,
      ...(truncated ? [`* the phase hit --max-seconds ${options.maxSeconds} (or was interrupted) before sending every request.`] : []),
    ];
    console.log('');
    console.log(levels.length > 0 ? formatReport(levels, notes) : 'Interrupted before any concurrency level was measured.');
    if (firstToken) console.log(`\n${formatFirstToken(firstToken.direct, firstToken.gateway)}`);

    const results = {
      machine: machineInfo(),
      options: { ...options, out: undefined, settleMs: SETTLE_MS, model: BENCH_MODEL, mockLatencyMs: 0 },
      serverIdleCpuMsPerSecond,
      interrupted: interrupt.signal.aborted,
      levels,
      firstToken,
    };
    mkdirSync(dirname(options.out), { recursive: true });
    writeFileSync(options.out, `${JSON.stringify(results, (_key, value: unknown) => (typeof value === 'number' ? (Number.isFinite(value) ? Math.round(value * 1000) / 1000 : null) : value), 2)}\n`);
    log(`\n[bench] results written to ${options.out}`);

    const streamErrors = firstToken ? firstToken.direct.sent - firstToken.direct.ok + firstToken.gateway.sent - firstToken.gateway.ok : 0;
    const errors = levels.reduce((sum, level) => sum + level.direct.errors + level.gateway.errors, 0) + streamErrors;
    if (errors > 0) log(`[bench] ${errors} request(s) failed; see "Errors" above`);
    return errors > 0 || interrupt.signal.aborted ? 1 : 0;
  } finally {
    log('[bench] stopping the gateway, mock and Temporal dev server…');
    // Stopping waits for in-flight work; never let it hang the benchmark.
    const watchdog = setTimeout(() => {
      log('[bench] stopping took over 60 s; killing the dev server');
      env.devServer.process.kill('SIGKILL');
      process.exit(1);
    }, 60_000);
    await env.stop();
    clearTimeout(watchdog);
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    log(`[bench] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
