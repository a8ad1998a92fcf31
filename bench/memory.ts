// `npm run bench -- --memory [--requests 10000]`: whether the API and worker
// processes hold steady in memory. Split mode (1 API + 1 worker process).
// Two phases of `--requests` each: every model failing (mock 500/503, so
// each request tries every model and ends in the deterministic fallback;
// breakers forced closed so every request really makes those calls), then
// every request succeeding. Each process's RSS is read every second from
// /proc and its V8 heap every 5 s from its /metrics; per phase: RSS after
// the warm-up (its first 1,000 requests), at the end, the growth between,
// and the steady state (median of the phase's last quarter).
import { writeFileSync } from 'node:fs';
import { ADMIN_KEY, startHarness, type Harness } from '../test/support/gateway-harness';
import { breakerWorkflowId, forceBreakerUpdate } from '../workflows/breaker/provider-breaker-workflow';
import { loadAverage, residentMiB, startSplitProcesses, type GatewayProcess, type SplitProcesses } from './gateway-processes';
import { runLoad, type RequestOutcome } from './load';
import { writeBenchResults } from './report';
import { postChatWithResends } from './senders';
import { figuresOf, formatMemoryReport, GROWTH_LIMIT_MIB, type MemorySample, type Phase } from './memory-report';
import { renderRssChart } from './rss-chart';

/** Each phase's first 1,000 requests (a tenth of a shorter run) warm it up: RSS is compared from there. */
const WARMUP_REQUESTS = 1_000;
const TIMEOUTS = { requestMs: 30_000, totalMs: 90_000, heartbeatMs: 10_000 };
/**
 * One try per model: a failing request still calls every model and ends in
 * the fallback, through the same code per try, at a third of the Temporal
 * work (on 2 shared cores, 10,000 requests of 3 × 3 tries take hours).
 */
const RETRY = { maximumAttempts: 1 };
const PROVIDERS = ['mock-openai', 'mock-anthropic', 'mock-local'];
const FAULTS = { 'model-a': 503, 'model-b': 500, 'model-c': 500 } as const;
const SAMPLE_INTERVAL_MS = 1_000;
/** Long enough for every breaker report a process still holds to reach its breaker. */
const REPORTS_LAND_MS = 2_000;
/** Heap figures come from each process's /metrics, read every this many samples. */
const HEAP_EVERY = 5;
/** Times a request the API turned away is sent again. */
const RESENDS = 4;
const BODY = JSON.stringify({ model: 'model-a', messages: [{ role: 'user', content: 'memory bench: answer in one short sentence.' }] });

export async function runMemoryBench(options: { requests: number; concurrency: number; out: string; log: (line: string) => void; signal: AbortSignal }): Promise<number> {
  const harness = await startHarness({
    embeddedGateway: false,
    timeouts: TIMEOUTS,
    configure: (config) => ({
      ...config,
      providers: Object.fromEntries(Object.entries(config.providers).map(([id, provider]) => [id, { ...provider, retry: { ...provider.retry, ...RETRY } }])),
    }),
  });
  let processes: SplitProcesses | undefined;
  const samples: MemorySample[] = [];
  const phases: { phase: Phase; requests: number; ok: number; errors: Record<string, number>; seconds: number; requestsPerSecond: number }[] = [];
  const loadBefore = loadAverage();
  const benchStarted = Date.now();
  /** Admin API switches that failed and were sent as the `force` update instead. */
  const adminFailures: string[] = [];
  let failure: unknown;
  try {
    processes = await startSplitProcesses({ env: harness.env, workers: 1, patterns: [], logDir: options.out.replace(/\.json$/, '-logs'), log: options.log });
    const apiUrl = String(processes.api.ready.url);
    const watched = processes.all;
    for (const phase of ['failing', 'succeeding'] as const) {
      if (options.signal.aborted) break;
      adminFailures.push(...(await prepare(harness, apiUrl, phase, options.log)));
      let answered = 0;
      const started = Date.now();
      const sample = async (count: number) => {
        const rssMiB = Object.fromEntries(watched.map((process) => [process.name, residentMiB(process.pid) ?? NaN]));
        const heapUsedMiB = count % HEAP_EVERY === 0 ? await heapUsed(watched) : undefined;
        samples.push({ at: (Date.now() - benchStarted) / 1000, phase, answered, rssMiB, ...(heapUsedMiB ? { heapUsedMiB } : {}) });
      };
      let ticks = 0;
      await sample(0);
      const sampler = setInterval(() => {
        ticks += 1;
        void sample(ticks);
        if (ticks % 10 === 0) {
          const rss = watched.map((process) => `${process.name} ${Math.round(residentMiB(process.pid) ?? NaN)} MiB`).join(', ');
          options.log(`[bench] ${phase}: ${answered}/${options.requests} answered, ${(answered / ((Date.now() - started) / 1000)).toFixed(1)} req/s; RSS ${rss}; load ${loadAverage()[0]}`);
        }
      }, SAMPLE_INTERVAL_MS);
      options.log(`[bench] ${phase}: ${options.requests} requests at concurrency ${options.concurrency}…`);
      const expected = phase === 'failing' ? 'fallback' : 'model-a';
      const result = await runLoad({
        send: async (signal) => {
          const outcome = await send(apiUrl, expected, signal);
          answered += 1;
          return outcome;
        },
        count: options.requests,
        concurrency: options.concurrency,
        maxMs: 4 * 3_600_000,
        timeoutMs: 180_000,
        abort: options.signal,
      }).finally(() => clearInterval(sampler));
      await sample(0);
      const seconds = (Date.now() - started) / 1000;
      phases.push({ phase, requests: result.sent, ok: result.ok, errors: result.errorKinds, seconds, requestsPerSecond: result.sent / seconds });
      options.log(`[bench] ${phase}: ${result.ok}/${result.sent} as expected in ${seconds.toFixed(0)} s`);
    }
  } catch (error) {
    // What was measured so far is still written.
    failure = error;
    options.log(`[bench] stopped early: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    await processes?.stop();
    await harness.stop();
  }
  const warmup = Math.min(WARMUP_REQUESTS, Math.floor(options.requests / 10));
  const figures = (['failing', 'succeeding'] as const).flatMap((phase) => ['api', 'worker-1'].map((name) => figuresOf(samples, phase, name, warmup))).filter((row) => row !== undefined);
  const context = { concurrency: options.concurrency, warmupRequests: warmup, adminFailures, stoppedEarly: failure === undefined ? null : String(failure), growthLimitMiB: GROWTH_LIMIT_MIB, loadAverageBefore: loadBefore, loadAverageAfter: loadAverage() };
  console.log(formatMemoryReport(phases, figures, context));
  writeBenchResults(options.out, { ...context, phases, figures, samples });
  const chart = options.out.replace(/\.json$/, '') + '.svg';
  writeFileSync(chart, renderRssChart(samples, ['api', 'worker-1']));
  options.log(`[bench] results written to ${options.out}, chart to ${chart}`);
  const failed = figures.some((row) => !row.withinGoal) || phases.some((phase) => phase.ok < phase.requests);
  return failed || failure !== undefined || options.signal.aborted ? 1 : 0;
}

/**
 * Faults and breakers for the phase: failing has every model down and every
 * breaker forced closed; succeeding has neither. A switch the admin API
 * fails is sent as the breaker's `force` update straight to Temporal (as
 * Temporal's CLI would), and the failure returned for the report.
 */
async function prepare(harness: Harness, apiUrl: string, phase: Phase, log: (line: string) => void): Promise<string[]> {
  await harness.clearFaults();
  if (phase === 'failing') for (const [model, status] of Object.entries(FAULTS)) await harness.setFault(model, { status });
  // The failing phase's last failures are still on their way to the breakers (each board sends every
  // 200 ms): released before they land, a breaker would count them and open for the succeeding phase.
  else await new Promise((wake) => setTimeout(wake, REPORTS_LAND_MS));
  const failures: string[] = [];
  for (const provider of PROVIDERS) {
    const input = phase === 'failing' ? { mode: 'closed' as const, reason: 'memory bench: every call must go out' } : { mode: 'auto' as const, reason: 'memory bench: failing phase over' };
    const response = await fetch(`${apiUrl}/admin/breakers/${provider}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify(input),
    });
    if (response.ok) continue;
    const failure = `POST /admin/breakers/${provider} ${input.mode}: HTTP ${response.status} ${await response.text()}`;
    log(`[bench] ${failure}; sending the force update directly`);
    failures.push(failure);
    await harness.client.workflow.getHandle(breakerWorkflowId(provider)).executeUpdate(forceBreakerUpdate, { args: [{ ...input, actor: 'memory bench' }] });
  }
  // Each process reads the breakers once a second.
  await new Promise((wake) => setTimeout(wake, 2_000));
  return failures;
}

/** Sends one request (again after its Retry-After when the API turned it away, as clients do); whether `expectedModel` answered. */
async function send(apiUrl: string, expectedModel: string, signal: AbortSignal): Promise<RequestOutcome> {
  const { status, text } = await postChatWithResends(apiUrl, BODY, signal, RESENDS);
  if (status !== 200) return `HTTP ${status}`;
  try {
    const model = (JSON.parse(text) as { model?: string }).model;
    return model === expectedModel ? undefined : `answered by ${model ?? 'nobody'}`;
  } catch {
    return 'body is not JSON';
  }
}

/** Each process's V8 heap in use, from its /metrics (`switchyard_nodejs_heap_size_used_bytes`). */
async function heapUsed(processes: readonly GatewayProcess[]): Promise<Record<string, number> | undefined> {
  const read = async (process: GatewayProcess): Promise<[string, number]> => {
    // Every process logs its open metrics listener in its ready line (the API's own port wants the admin key).
    const url = String(process.ready.metrics);
    try {
      const text = await (await fetch(url, { signal: AbortSignal.timeout(5_000) })).text();
      const match = /^switchyard_nodejs_heap_size_used_bytes (\S+)$/m.exec(text);
      return [process.name, match ? Number(match[1]) / 2 ** 20 : NaN];
    } catch {
      return [process.name, NaN];
    }
  };
  return Object.fromEntries(await Promise.all(processes.map(read)));
}
