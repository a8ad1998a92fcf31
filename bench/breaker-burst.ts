// `npm run bench -- --breaker-burst [--requests 1000] [--workers 4]`: whether
// the shared circuit breakers hold up under a burst. Split mode: worker
// processes and one API process (breakers on), every line they write
// watched. Two bursts of `--requests` through the API at `--concurrency`:
// the provider healthy; then, after the primary failed (mock 503) until its
// breaker opened and recovered, through the breaker's half-open and close.
// From the answers: attempts by failure type, and every Timeout on a
// healthy provider (breaker bookkeeping failing a call: must be 0); from the
// breakers' histories: what each process sent them, and events per second.
import { Client, Connection } from '@temporalio/client';
import { RUNNING_BREAKERS_QUERY } from '../services/breaker-board';
import { BREAKER_MEMO_KEY, breakerWorkflowId, type BreakerRoutingView } from '../workflows/breaker/provider-breaker-workflow';
import { startHarness, type Harness } from '../test/support/gateway-harness';
import { readBreakerLoad, type BreakerLoad } from './breaker-history';
import { burstSender, countAnswers, type AnswerCounts, type BurstAnswer } from './burst-answers';
import { processTreeCpuMs } from './cpu';
import { loadAverage, processCpuMs, startSplitProcesses, type SplitProcesses } from './gateway-processes';
import { runLoad, summarize, type LatencySummary } from './load';
import { formatBurstReport } from './breaker-burst-report';
import { writeBenchResults } from './report';

/** Lines that say a breaker (or Temporal under it) could not keep up. */
export const WATCHED_LINES = ['buffer is full', 'Workflow is busy', 'breaker probe permit', 'breaker state unreadable', 'breaker outcomes not sent'];
const PROVIDERS = ['mock-openai', 'mock-anthropic', 'mock-local'];
/** Opens after 5 failures (the default); a cool-down short enough that half-open and close happen inside the burst. */
const BREAKER = { consecutiveFailures: 5, coolDownMs: 10_000, maxCoolDownMs: 40_000, probes: 1 };
/** The production defaults: a slow answer under load is never a Timeout, so a Timeout is the gateway's own doing. */
const TIMEOUTS = { requestMs: 30_000, totalMs: 90_000, heartbeatMs: 10_000 };
/** How often the bench reads each breaker's published mode: as often as a process does, so the bench weighs on the breaker as one more process. */
const MONITOR_INTERVAL_MS = 1_000;
/** As services/breaker-board.ts reads a breaker. */
const READ_DEADLINE_MS = 2_000;
const REQUEST_TIMEOUT_MS = 180_000;
/** Clients sending while the primary fails, until its breaker opens. */
const PRELOAD_CLIENTS = 8;

export interface BurstPhase {
  phase: 'healthy' | 'outage and recovery';
  requests: number;
  ok: number;
  errors: Record<string, number>;
  seconds: number;
  requestsPerSecond: number;
  latencyMs: LatencySummary;
  counts: AnswerCounts;
  /** Per process: lines matching each watched pattern during the phase. */
  lines: Record<string, Record<string, number>>;
  /** Per process (and the Temporal dev server): CPU seconds during the phase. */
  cpuSeconds: Record<string, number>;
  breakers: BreakerLoad[];
  /** Every probe permit granted (seconds from the burst's start): used for a probe, or left to its lease because its asker had given up. */
  grants: { breaker: string; process: string; probeId: string; at: number; probed: boolean; askerGaveUp: boolean }[];
  /** Mode changes of each breaker's published view, seconds from the phase's start. */
  timeline: { at: number; breaker: string; mode: string; reason: string | null }[];
  /** Seconds from the burst's start: fault set, fault cleared, burst started. */
  marks: Record<string, number>;
  /** The bench's own reads of the breakers (one list a second with a 2 s deadline, as each process reads them; no retries): how long, and why refused. */
  reads: { count: number; latencyMs: LatencySummary; failures: Record<string, number> };
}

export async function runBreakerBurstBench(options: {
  requests: number;
  workers: number;
  concurrency: number;
  out: string;
  log: (line: string) => void;
  signal: AbortSignal;
}): Promise<number> {
  const harness = await startHarness({ embeddedGateway: false, timeouts: TIMEOUTS, breaker: BREAKER });
  let processes: SplitProcesses | undefined;
  // The bench reads the breakers without the client's retries, so a refused read shows why it was refused.
  const connection = await Connection.connect({ address: harness.devServer.address, interceptors: [] });
  const reader = new Client({ connection });
  const phases: BurstPhase[] = [];
  const loadBefore = loadAverage();
  try {
    processes = await startSplitProcesses({
      env: harness.env,
      workers: options.workers,
      patterns: WATCHED_LINES,
      logDir: options.out.replace(/\.json$/, '-logs'),
      log: options.log,
    });
    const apiUrl = String(processes.api.ready.url);
    options.log('[bench] warm-up: 40 requests at concurrency 4');
    await runLoad({ send: burstSender(apiUrl, []), count: 40, concurrency: 4, maxMs: 120_000, timeoutMs: REQUEST_TIMEOUT_MS, abort: options.signal });
    for (const phase of ['healthy', 'outage and recovery'] as const) {
      if (options.signal.aborted) break;
      phases.push(await runPhase(harness, reader, processes, apiUrl, phase, options));
      // Let the last outcomes reach the breakers, and the breakers settle, before the next phase.
      await new Promise((wake) => setTimeout(wake, 3_000));
    }
  } finally {
    await processes?.stop();
    await connection.close();
    await harness.stop();
  }
  const lineSamples = Object.fromEntries(
    (processes?.all ?? []).map((process) => [process.name, Object.fromEntries(Object.entries(process.matches).map(([pattern, match]) => [pattern, match.samples]))]),
  );
  const context = {
    lineSamples,
    workers: options.workers,
    concurrency: options.concurrency,
    breaker: BREAKER,
    timeouts: TIMEOUTS,
    loadAverageBefore: loadBefore,
    loadAverageAfter: loadAverage(),
  };
  console.log(formatBurstReport(phases, context));
  writeBenchResults(options.out, { ...context, phases });
  const failed = phases.some(
    (phase) =>
      phase.ok < phase.requests ||
      phase.counts.timeoutsOnHealthyProvider > 0 ||
      Object.values(phase.lines).some((counts) => (counts['buffer is full'] ?? 0) + (counts['Workflow is busy'] ?? 0) > 0),
  );
  return failed || options.signal.aborted ? 1 : 0;
}

async function runPhase(
  harness: Harness,
  reader: Client,
  processes: SplitProcesses,
  apiUrl: string,
  phase: BurstPhase['phase'],
  options: { requests: number; concurrency: number; log: (line: string) => void; signal: AbortSignal },
): Promise<BurstPhase> {
  const lineCounts = () => Object.fromEntries(processes.all.map((process) => [process.name, Object.fromEntries(WATCHED_LINES.map((pattern) => [pattern, process.matches[pattern]!.count]))]));
  const cpu = (): Record<string, number> => ({
    ...Object.fromEntries(processes.all.map((process) => [process.name, processCpuMs(process.pid) ?? NaN])),
    'temporal dev server': processTreeCpuMs(harness.devServer.process.pid) ?? NaN,
  });
  // The breakers' published modes (epoch ms), read as every process reads them.
  const timeline: { at: number; breaker: string; mode: string; reason: string | null }[] = [];
  const modes = new Map<string, string>();
  /** The bench's own reads of the breakers: how long they took, and why the failed ones failed. */
  const reads = { latenciesMs: [] as number[], failures: {} as Record<string, number> };
  let monitoring = true;
  const monitor = (async () => {
    while (monitoring) {
      // As each process reads them: one visibility list of the running breakers under a 2 s deadline. Timed, and its failures kept by cause.
      const asked = Date.now();
      const published = await reader
        .withDeadline(asked + READ_DEADLINE_MS, async () => {
          const views = new Map<string, BreakerRoutingView>();
          for await (const execution of reader.workflow.list({ query: RUNNING_BREAKERS_QUERY })) {
            const view = execution.memo?.[BREAKER_MEMO_KEY] as BreakerRoutingView | undefined;
            if (view) views.set(view.key, view);
          }
          return views;
        })
        .then((views) => {
          reads.latenciesMs.push(Date.now() - asked);
          return views;
        })
        .catch((error: unknown) => {
          const detail = error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : String(error);
          const cause = detail.replace(/ after [\d.]+s.*$/, '');
          reads.failures[cause] = (reads.failures[cause] ?? 0) + 1;
          return new Map<string, BreakerRoutingView>();
        });
      for (const provider of PROVIDERS) {
        const view = published.get(provider);
        if (!view || modes.get(provider) === view.mode) continue;
        modes.set(provider, view.mode);
        timeline.push({ at: Date.now(), breaker: provider, mode: view.mode, reason: view.reason });
        options.log(`[bench] ${phase}: breaker ${provider} ${view.mode}${view.reason ? ` (${view.reason})` : ''}`);
      }
      await new Promise((wake) => setTimeout(wake, MONITOR_INTERVAL_MS));
    }
  })();

  const marks: Record<string, number> = {};
  /** When `model-a` had its fault: from set to cleared. */
  let fault: { from: number; to: number } | undefined;
  if (phase === 'outage and recovery') {
    // The primary fails until its breaker opens (a few clients, as in the e2e test); then it recovers and the burst starts.
    await harness.setFault('model-a', { status: 503 });
    const from = Date.now();
    marks['fault set (model-a 503)'] = from;
    options.log(`[bench] ${phase}: model-a answers 503; ${PRELOAD_CLIENTS} clients until its breaker opens…`);
    const send = burstSender(apiUrl, []);
    while (modes.get('mock-openai') !== 'open' && Date.now() - from < 120_000 && !options.signal.aborted) {
      await Promise.all(Array.from({ length: PRELOAD_CLIENTS }, () => send(AbortSignal.timeout(REQUEST_TIMEOUT_MS)).catch(() => undefined)));
    }
    await harness.clearFaults();
    fault = { from, to: Date.now() };
    marks['fault cleared'] = fault.to;
  }

  const linesBefore = lineCounts();
  const cpuBefore = cpu();
  const started = Date.now();
  const since = () => (Date.now() - started) / 1000;
  marks['burst starts'] = started;
  const answers: BurstAnswer[] = [];
  options.log(`[bench] ${phase}: ${options.requests} requests at concurrency ${options.concurrency}…`);
  const progress = setInterval(() => {
    options.log(`[bench] ${phase}: +${since().toFixed(0)} s, ${answers.length}/${options.requests} answered (${(answers.length / since()).toFixed(1)} req/s)`);
  }, 5_000);
  const result = await runLoad({
    send: burstSender(apiUrl, answers),
    count: options.requests,
    concurrency: options.concurrency,
    maxMs: 3_600_000,
    timeoutMs: REQUEST_TIMEOUT_MS,
    abort: options.signal,
  }).finally(() => clearInterval(progress));
  const ended = Date.now();
  const seconds = (ended - started) / 1000;
  // Until the primary's breaker is closed again (or 30 s), so the timeline shows the whole transition.
  for (let waited = 0; fault && modes.get('mock-openai') !== 'closed' && waited < 30_000; waited += 250) await new Promise((wake) => setTimeout(wake, 250));
  monitoring = false;
  await monitor;
  const cpuAfter = cpu();
  const linesAfter = lineCounts();
  // Outcomes are flushed every 200 ms: a second after the last answer every signal of the phase is in history.
  await new Promise((wake) => setTimeout(wake, 1_000));
  const identities = new Map(processes.all.map((process) => [process.pid, process.name]));
  const breakers = await readBreakerLoad(harness.client, PROVIDERS.map(breakerWorkflowId), { from: started, to: ended }, identities);
  // A permit granted while its asker had already logged "not granted in time" (within 2 s of the grant) was never used.
  const gaveUp = (name: string, at: number) => processes.all.find((process) => process.name === name)?.matches['breaker probe permit']?.at.some((time) => Math.abs(time - at) <= 2_000) ?? false;
  const grants = breakers.flatMap((breaker) =>
    breaker.grants.map((grant) => ({ breaker: breaker.workflowId, ...grant, at: (grant.at - started) / 1000, askerGaveUp: gaveUp(grant.process, grant.at) })),
  );
  const faulted = (model: string, from: number, to: number) => fault !== undefined && model === 'model-a' && from <= fault.to && to >= fault.from;
  options.log(`[bench] ${phase}: ${result.ok}/${result.sent} ok in ${seconds.toFixed(1)} s`);
  return {
    phase,
    requests: result.sent,
    ok: result.ok,
    errors: result.errorKinds,
    seconds,
    requestsPerSecond: result.sent / seconds,
    latencyMs: summarize(result.latenciesMs),
    counts: countAnswers(answers, started, faulted),
    lines: Object.fromEntries(
      Object.entries(linesAfter).map(([name, counts]) => [name, Object.fromEntries(Object.entries(counts).map(([pattern, count]) => [pattern, count - (linesBefore[name]?.[pattern] ?? 0)]))]),
    ),
    cpuSeconds: Object.fromEntries(Object.entries(cpuAfter).map(([name, ms]) => [name, (ms - (cpuBefore[name] ?? NaN)) / 1000])),
    breakers,
    grants,
    reads: { count: reads.latenciesMs.length + Object.values(reads.failures).reduce((a, b) => a + b, 0), latencyMs: summarize(reads.latenciesMs), failures: reads.failures },
    timeline: timeline.map((entry) => ({ ...entry, at: (entry.at - started) / 1000 })),
    marks: Object.fromEntries(Object.entries(marks).map(([what, at]) => [what, (at - started) / 1000])),
  };
}
