// `npm run bench`: the gateway against its own floor, in one run. On one
// Temporal dev server (the gateway's own flags) and one mock provider at zero
// latency, taking turns, round after round:
//   direct   — the mock called straight (HTTP + JSON in Node: the provider floor);
//   bare     — a bare Temporal workflow of the gateway's common shape (eager
//              start, one provider activity with the `openai` client, the same
//              data converter settings), behind a bare HTTP server (bench/bare/);
//   gateway  — `npm start` as users run it (scripts/start.ts, config/mock.yaml),
//              through HTTP with the official `openai` client;
//   client   — the same gateway process, requests started with the typed client.
// Per target and level: p50/p99, requests/s, CPU-ms per request of the
// target's process and of the Temporal server, RSS; medians over the rounds;
// ratios gateway/bare against the targets of issue 27; and streaming (direct,
// the bare workflow's streamed twin, the gateway): time to first token and
// from the last token to the stream's end, over direct.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import OpenAI from 'openai';
import { GatewayClient } from '../client/gateway-client';
import { MockControlClient } from '../mock/mock-control-client';
import type { Fault } from '../mock/fault-schema';
import { startMockProvider, type MockProvider } from '../mock/mock-provider';
import { dataConverterFor } from '../runtime/data-converter';
import { readSettings, PROJECT_ROOT } from '../runtime/settings';
import { startEntryPoint, stopChild } from '../scripts/entry-point';
import { startDevServer, type DevServer } from '../scripts/temporal-dev-server';
import { BARE_TASK_QUEUE } from './bare/bare-task-queue';
import type { bareRequestWorkflow } from './bare/bare-workflow';
import { processTreeCpuMs } from './cpu';
import { processCpuMs, residentMiB } from './gateway-processes';
import { runLoad, summarize, type RequestOutcome } from './load';
import { writeBenchResults } from './report';
import { checkCompletion } from './senders';
import { sseData } from './sse';

const MODEL = 'gpt-4o-mini';
const DEV_KEY = 'switchyard-dev-key';
const MOCK_KEY = 'mock-key';
/** Time the processes get after a phase to finish background work before CPU is read. */
const SETTLE_MS = 500;

/**
 * `bare-client` starts the bare workflow from this process's own client, as the typed
 * client starts the gateway's: no worker here, so no eager start (the first workflow
 * task goes through the server's matching) — the floor of a start from another process.
 */
export const FLOOR_TARGETS = ['direct', 'bare', 'gateway', 'bare-client', 'client'] as const;
export type FloorTarget = (typeof FLOOR_TARGETS)[number];

export interface PhaseResult {
  target: FloorTarget;
  concurrency: number;
  round: number;
  sent: number;
  ok: number;
  errors: Record<string, number>;
  p50Ms: number;
  p99Ms: number;
  requestsPerSecond: number;
  /** CPU ms per answered request of the target's own process (direct: none), and of the Temporal server. */
  cpuMsPerRequest: { process: number | null; temporalServer: number | null };
}

/** The gateway at concurrency 4 while its primary is healthy, answers 503 to every call, or hangs. */
export interface OutageFigures {
  primary: 'healthy' | 'down (503)' | 'hanging';
  sent: number;
  ok: number;
  p50Ms: number;
  p99Ms: number;
  /** Calls the primary received during the phase. */
  primaryCalls: number;
  /** Answers by another model than the primary. */
  failedOver: number;
  /** The five slowest requests: latency and place among the phase's answers (1 = the first to end). */
  slowest?: { ms: number; place: number }[];
}

export interface StreamFigures {
  target: 'direct' | 'bare' | 'gateway';
  ok: number;
  firstTokenP50Ms: number;
  /** From reading the last text chunk to reading `[DONE]`. */
  endAfterLastTokenP50Ms: number;
}

export async function runFloorBench(options: {
  requests: number;
  warmup: number;
  rounds: number;
  concurrency: number[];
  streamRequests: number;
  /** Requests per outage phase (healthy, primary down, primary hanging) at concurrency 4; 0 skips them. */
  outageRequests: number;
  timeoutMs: number;
  /** Write a V8 CPU profile of the gateway and the bare process here (`--cpu-prof`), on their exit. */
  cpuProfileDir?: string;
  out: string;
  log: (line: string) => void;
  signal: AbortSignal;
}): Promise<number> {
  const { log } = options;
  const nodeArgs = options.cpuProfileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`];
  const directory = mkdtempSync(join(tmpdir(), 'switchyard-floor-'));
  const stops: (() => Promise<void>)[] = [];
  try {
    log('[bench] starting the Temporal dev server (the gateway\'s flags, a throwaway SQLite file) and the mock provider…');
    const devServer: DevServer = await startDevServer({ dbFile: join(directory, 'temporal.db') });
    stops.push(devServer.stop);
    const mock: MockProvider = await startMockProvider({ apiKeys: { openai: [MOCK_KEY], anthropic: [MOCK_KEY] } });
    stops.push(mock.close);
    // The local model's weights are shared with `npm start` (no second download); everything else is this run's.
    const dataDir = join(directory, 'data');
    mkdirSync(join(PROJECT_ROOT, '.data', 'models'), { recursive: true });
    mkdirSync(dataDir, { recursive: true });
    symlinkSync(join(PROJECT_ROOT, '.data', 'models'), join(dataDir, 'models'));
    const env: Record<string, string> = {
      TEMPORAL_ADDRESS: devServer.address,
      MOCK_PROVIDER_URL: mock.url,
      MOCK_PROVIDER_KEY: MOCK_KEY,
      SWITCHYARD_CONFIG: resolve(PROJECT_ROOT, 'config/mock.yaml'),
      SWITCHYARD_DATA_DIR: dataDir,
      PORT: '0',
      METRICS_PORT: '0',
      LOCAL_MODEL_URL: 'http://127.0.0.1:18090/v1',
    };
    log('[bench] starting `npm start`\'s gateway (scripts/start.ts, config/mock.yaml) and the bare Temporal floor (bench/bare/)…');
    const gateway = await startEntryPoint('scripts/start.ts', /\[switchyard\] API (http:\/\/\S+)/, env, undefined, { readyWithinMs: 15 * 60_000, nodeArgs });
    stops.push(() => stopChild(gateway.child, 15_000));
    const bare = await startEntryPoint('bench/bare/bare-server.ts', 'bare listening', env, undefined, { nodeArgs });
    stops.push(() => stopChild(bare.child));
    const apiUrl = String((gateway.line.match as string[])[1]);
    const bareUrl = String(bare.line.url);
    const connection = await Connection.connect({ address: devServer.address });
    stops.push(() => connection.close());
    const benchClient = new Client({ connection, dataConverter: dataConverterFor(readSettings(env)) });
    const typed = new GatewayClient({ client: benchClient, tenantId: 'dev', taskQueue: 'switchyard' });
    const openai = new OpenAI({ baseURL: `${apiUrl}/v1`, apiKey: DEV_KEY, maxRetries: 0, timeout: options.timeoutMs });

    let sequence = 0;
    // Every body differs, so the response cache never answers.
    const body = () => ({ model: MODEL, messages: [{ role: 'user' as const, content: `floor bench ${(sequence += 1)}: one short sentence.` }] });
    const post = (url: string, key: string) => async (signal: AbortSignal) =>
      checkCompletion(await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body()), signal }));
    const senders: Record<FloorTarget, (signal: AbortSignal) => Promise<RequestOutcome>> = {
      direct: post(`${mock.url}/v1/chat/completions`, MOCK_KEY),
      bare: post(bareUrl, ''),
      async gateway(signal) {
        const { data, response } = await openai.chat.completions.create(body(), { signal }).withResponse();
        if (typeof data.choices[0]?.message.content !== 'string') return 'no choices[0].message.content';
        return response.headers.get('x-gateway-model') === MODEL ? undefined : `answered by ${response.headers.get('x-gateway-model')}`;
      },
      async 'bare-client'() {
        const answer = (await benchClient.workflow.execute<typeof bareRequestWorkflow>('bareRequestWorkflow', {
          taskQueue: BARE_TASK_QUEUE,
          workflowId: `bare-client-${(sequence += 1)}-${Date.now()}`,
          args: [body()],
        })) as { choices?: { message?: { content?: unknown } }[] };
        return typeof answer.choices?.[0]?.message?.content === 'string' ? undefined : 'no choices[0].message.content';
      },
      async client() {
        const answer = await typed.complete(body());
        return answer.model === MODEL ? undefined : `answered by ${answer.model}`;
      },
    };
    const pids: Record<FloorTarget, number | undefined> = { direct: undefined, bare: bare.child.pid, gateway: gateway.child.pid, 'bare-client': bare.child.pid, client: gateway.child.pid };
    const load = (target: FloorTarget, count: number, concurrency: number) =>
      runLoad({ send: senders[target], count, concurrency, maxMs: 300_000, timeoutMs: options.timeoutMs, abort: options.signal });

    log(`[bench] warm-up: ${options.warmup} requests to each target`);
    for (const target of FLOOR_TARGETS) await load(target, options.warmup, 4);

    const phases: PhaseResult[] = [];
    for (let round = 1; round <= options.rounds && !options.signal.aborted; round += 1) {
      for (const concurrency of options.concurrency) {
        for (const target of FLOOR_TARGETS) {
          if (options.signal.aborted) break;
          await sleep(SETTLE_MS);
          const pid = pids[target];
          const before = { process: pid === undefined ? undefined : processCpuMs(pid), server: processTreeCpuMs(devServer.process.pid) };
          const result = await load(target, options.requests, concurrency);
          await sleep(SETTLE_MS);
          const after = { process: pid === undefined ? undefined : processCpuMs(pid), server: processTreeCpuMs(devServer.process.pid) };
          const latency = summarize(result.latenciesMs);
          const per = (start: number | undefined, end: number | undefined) => (start === undefined || end === undefined ? null : (end - start) / Math.max(1, result.ok));
          const phase: PhaseResult = {
            target,
            concurrency,
            round,
            sent: result.sent,
            ok: result.ok,
            errors: result.errorKinds,
            p50Ms: latency.p50,
            p99Ms: latency.p99,
            requestsPerSecond: result.ok / (result.wallMs / 1000),
            cpuMsPerRequest: { process: per(before.process, after.process), temporalServer: per(before.server, after.server) },
          };
          phases.push(phase);
          log(
            `[bench] round ${round}, c${concurrency}, ${target.padEnd(11)}: ${phase.ok}/${phase.sent} ok, p50 ${phase.p50Ms.toFixed(1)} ms, p99 ${phase.p99Ms.toFixed(1)} ms, ${phase.requestsPerSecond.toFixed(1)} req/s` +
              (phase.cpuMsPerRequest.process === null ? '' : `, ${phase.cpuMsPerRequest.process.toFixed(1)} CPU-ms/req`) +
              (phase.cpuMsPerRequest.temporalServer === null ? '' : ` (+${phase.cpuMsPerRequest.temporalServer.toFixed(1)} server)`),
          );
        }
      }
    }

    const streams: StreamFigures[] = [];
    if (options.streamRequests > 0) {
      log(`[bench] streaming: ${options.streamRequests} streamed requests direct, through the bare workflow, then through the gateway, one at a time`);
      streams.push(await timeStreams('direct', `${mock.url}/v1/chat/completions`, MOCK_KEY, options.streamRequests, body, options.signal));
      streams.push(await timeStreams('bare', bareUrl, '', options.streamRequests, body, options.signal));
      streams.push(await timeStreams('gateway', `${apiUrl}/v1/chat/completions`, DEV_KEY, options.streamRequests, body, options.signal));
    }
    // RSS before the outage phases: what the same load left behind.
    const rss = { gateway: residentMiB(gateway.child.pid ?? 0) ?? null, bare: residentMiB(bare.child.pid ?? 0) ?? null };
    const outages: OutageFigures[] = [];
    if (options.outageRequests > 0) {
      const control = new MockControlClient(mock.url);
      const faults: [OutageFigures['primary'], Fault | undefined][] = [
        ['healthy', undefined],
        ['down (503)', { status: 503 }],
        ['hanging', { hang: true }],
      ];
      for (const [primary, fault] of faults) {
        if (options.signal.aborted) break;
        log(`[bench] outage: ${options.outageRequests} requests through the gateway at concurrency 4, primary ${primary}…`);
        await control.clearFaults();
        if (fault) await control.setFault(MODEL, fault);
        const before = (await control.calls())[MODEL] ?? 0;
        let failedOver = 0;
        const result = await runLoad({
          count: options.outageRequests,
          concurrency: 4,
          maxMs: 600_000,
          timeoutMs: options.timeoutMs,
          abort: options.signal,
          async send(signal) {
            const { data, response } = await openai.chat.completions.create(body(), { signal }).withResponse();
            if (typeof data.choices[0]?.message.content !== 'string') return 'no choices[0].message.content';
            if (response.headers.get('x-gateway-model') !== MODEL) failedOver += 1;
            return undefined;
          },
        });
        const latency = summarize(result.latenciesMs);
        const figures: OutageFigures = {
          primary,
          sent: result.sent,
          ok: result.ok,
          p50Ms: latency.p50,
          p99Ms: latency.p99,
          primaryCalls: ((await control.calls())[MODEL] ?? 0) - before,
          failedOver,
          slowest: result.latenciesMs
            .map((ms, index) => ({ ms: Math.round(ms), place: index + 1 }))
            .sort((left, right) => right.ms - left.ms)
            .slice(0, 5),
        };
        log(`[bench] outage, primary ${primary}: ${figures.ok}/${figures.sent} ok, p50 ${figures.p50Ms.toFixed(1)} ms, p99 ${figures.p99Ms.toFixed(1)} ms, ${figures.primaryCalls} calls to the primary, ${figures.failedOver} answered by another model`);
        outages.push(figures);
        if (fault) {
          // The next phase starts with the primary's breaker closed again: its cool-down passes and a probe answers.
          await control.clearFaults();
          log('[bench] outage: waiting for the primary\'s breaker to close again (its cool-down, then a probe)…');
          const deadline = Date.now() + 10 * 60_000;
          for (let answeredByPrimary = 0; answeredByPrimary < 5 && Date.now() < deadline && !options.signal.aborted; ) {
            const { response } = await openai.chat.completions.create(body()).withResponse();
            answeredByPrimary = response.headers.get('x-gateway-model') === MODEL ? answeredByPrimary + 1 : 0;
            if (answeredByPrimary === 0) await sleep(1_000);
          }
        }
      }
      await control.clearFaults();
    }
    const summary = summarizeFloor(phases, options.concurrency);
    console.log(formatFloorReport(summary, streams, rss, outages));
    if (options.cpuProfileDir !== undefined) log(`[bench] CPU profiles of the gateway (pid ${gateway.child.pid}) and the bare process (pid ${bare.child.pid}) go to ${options.cpuProfileDir} when they stop`);
    writeBenchResults(options.out, { mode: 'floor', rounds: options.rounds, requests: options.requests, phases, summary, streams, rssMiB: rss, outages });
    return phases.every((phase) => phase.ok === phase.sent) ? 0 : 1;
  } finally {
    for (const stop of stops.reverse()) await stop().catch((error: unknown) => log(`[bench] stopping: ${String(error)}`));
    rmSync(directory, { recursive: true, force: true });
  }
}

/** Streamed requests one at a time: time to the first text chunk, and from the last text chunk to `[DONE]`. */
async function timeStreams(
  target: StreamFigures['target'],
  url: string,
  key: string,
  count: number,
  body: () => object,
  signal: AbortSignal,
): Promise<StreamFigures> {
  const first: number[] = [];
  const tail: number[] = [];
  for (let index = 0; index < count && !signal.aborted; index += 1) {
    const started = performance.now();
    const response = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ ...body(), stream: true }), signal });
    if (response.status !== 200 || !response.body) {
      await response.text();
      continue;
    }
    let firstAt: number | undefined;
    let lastAt: number | undefined;
    for await (const data of sseData(response.body as AsyncIterable<Uint8Array>)) {
      if (data === '[DONE]') {
        if (firstAt !== undefined && lastAt !== undefined) {
          first.push(firstAt - started);
          tail.push(performance.now() - lastAt);
        }
        break;
      }
      const chunk = JSON.parse(data) as { choices?: { delta?: { content?: string } }[] };
      if (chunk.choices?.[0]?.delta?.content) {
        lastAt = performance.now();
        firstAt ??= lastAt;
      }
    }
  }
  return { target, ok: first.length, firstTokenP50Ms: summarize(first).p50, endAfterLastTokenP50Ms: summarize(tail).p50 };
}

const median = (values: number[]) => {
  const sorted = values.filter((value) => Number.isFinite(value)).sort((left, right) => left - right);
  if (sorted.length === 0) return NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

export interface FloorSummaryRow {
  target: FloorTarget;
  concurrency: number;
  p50Ms: number;
  p99Ms: number;
  requestsPerSecond: number;
  processCpuMs: number;
  serverCpuMs: number;
}

/** Medians over the rounds, per target and level. */
export function summarizeFloor(phases: readonly PhaseResult[], levels: readonly number[]): FloorSummaryRow[] {
  return levels.flatMap((concurrency) =>
    FLOOR_TARGETS.map((target) => {
      const mine = phases.filter((phase) => phase.target === target && phase.concurrency === concurrency);
      return {
        target,
        concurrency,
        p50Ms: median(mine.map((phase) => phase.p50Ms)),
        p99Ms: median(mine.map((phase) => phase.p99Ms)),
        requestsPerSecond: median(mine.map((phase) => phase.requestsPerSecond)),
        processCpuMs: median(mine.map((phase) => phase.cpuMsPerRequest.process ?? NaN)),
        serverCpuMs: median(mine.map((phase) => phase.cpuMsPerRequest.temporalServer ?? NaN)),
      };
    }),
  );
}

export function formatFloorReport(
  rows: readonly FloorSummaryRow[],
  streams: readonly StreamFigures[],
  rss: { gateway: number | null; bare: number | null },
  outages: readonly OutageFigures[] = [],
): string {
  const fixed = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : '–');
  const lines = ['', 'target       conc.  p50 ms  p99 ms   req/s  CPU-ms/req (process)  CPU-ms/req (Temporal server)'];
  for (const row of rows) {
    lines.push(
      `${row.target.padEnd(11)}  ${String(row.concurrency).padStart(5)}  ${fixed(row.p50Ms).padStart(6)}  ${fixed(row.p99Ms).padStart(6)}  ${fixed(row.requestsPerSecond).padStart(6)}  ${fixed(row.processCpuMs).padStart(20)}  ${fixed(row.serverCpuMs).padStart(28)}`,
    );
  }
  const find = (target: FloorTarget, concurrency: number) => rows.find((row) => row.target === target && row.concurrency === concurrency);
  lines.push('', 'gateway against the bare workflow (targets of issue 27):');
  for (const via of ['gateway', 'client'] as const) {
    const c1 = { gateway: find(via, 1), bare: find('bare', 1) };
    const c16 = { gateway: find(via, 16), bare: find('bare', 16) };
    if (c1.gateway && c1.bare) {
      lines.push(`  ${via}, concurrency 1: p50 ${fixed(c1.gateway.p50Ms - c1.bare.p50Ms)} ms over bare (target ≤ 5), p99 ${fixed(c1.gateway.p99Ms - c1.bare.p99Ms)} ms over bare (target ≤ 15)`);
      lines.push(`  ${via}, CPU per request: ${fixed(c1.gateway.processCpuMs / c1.bare.processCpuMs, 2)} × bare's (target ≤ 1.3); Temporal server ${fixed(c1.gateway.serverCpuMs / c1.bare.serverCpuMs, 2)} × bare's`);
    }
    if (c16.gateway && c16.bare) {
      lines.push(`  ${via}, concurrency 16: ${fixed((100 * c16.gateway.requestsPerSecond) / c16.bare.requestsPerSecond, 0)} % of bare's requests/s (target ≥ 80 %)`);
    }
  }
  // The typed client starts from another process, which cannot start eagerly: its floor is bare-client.
  const remote = { client: find('client', 1), bare: find('bare-client', 1) };
  if (remote.client && remote.bare && Number.isFinite(remote.bare.p50Ms)) {
    lines.push(
      `  client against bare-client (both started from another process, no eager start), concurrency 1: p50 ${fixed(remote.client.p50Ms - remote.bare.p50Ms)} ms over, p99 ${fixed(remote.client.p99Ms - remote.bare.p99Ms)} ms over`,
    );
  }
  const direct = streams.find((stream) => stream.target === 'direct');
  const bareStream = streams.find((stream) => stream.target === 'bare');
  const gateway = streams.find((stream) => stream.target === 'gateway');
  if (direct && gateway) {
    lines.push(
      `  streaming: first token ${fixed(gateway.firstTokenP50Ms - direct.firstTokenP50Ms)} ms after direct (target ≤ 15); stream end ${fixed(gateway.endAfterLastTokenP50Ms)} ms after the last token (direct ${fixed(direct.endAfterLastTokenP50Ms)}; target ≤ 5)`,
    );
  }
  if (direct && bareStream) {
    // The floor of any first token that waits for a workflow to start and dispatch its activity.
    lines.push(
      `  streaming, bare workflow: first token ${fixed(bareStream.firstTokenP50Ms - direct.firstTokenP50Ms)} ms after direct; stream end ${fixed(bareStream.endAfterLastTokenP50Ms)} ms after the last token` +
        (gateway ? `; the gateway's first token ${fixed(gateway.firstTokenP50Ms - bareStream.firstTokenP50Ms)} ms after bare's` : ''),
    );
  }
  lines.push(`  RSS after the run: gateway process ${fixed(rss.gateway ?? NaN, 0)} MiB, bare ${fixed(rss.bare ?? NaN, 0)} MiB`);
  const healthy = outages.find((outage) => outage.primary === 'healthy');
  if (healthy) {
    lines.push('', 'an outage of the primary, concurrency 4 (target: p99 ≤ 2 × healthy; the dead primary called at most breaker threshold + probes):');
    for (const outage of outages) {
      lines.push(
        `  primary ${outage.primary.padEnd(10)}: ${outage.ok}/${outage.sent} ok, p50 ${fixed(outage.p50Ms)} ms, p99 ${fixed(outage.p99Ms)} ms (${fixed(outage.p99Ms / healthy.p99Ms, 2)} × healthy), ${outage.primaryCalls} calls to the primary, ${outage.failedOver} answered by another model` +
          (outage.slowest?.length ? `; slowest ${outage.slowest.map(({ ms, place }) => `${ms} ms (#${place})`).join(', ')}` : ''),
      );
    }
  }
  return lines.join('\n');
}
