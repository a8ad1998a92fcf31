// `npm run bench -- --local-model`: the shipped local model (SmolLM2-135M on
// node-llama-cpp, CPU only) measured where users meet it: time to first token
// and tokens per second straight from the local server, one caller and
// several at once, then through the gateway (a confidential streamed request,
// which only the local model may answer).
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, resolve } from 'node:path';
import { own } from '../common/own';
import { startLocalModelServer } from '../local-model/start-local-model-server';
import { BENCH_TENANT_KEY, startBenchEnvironment } from './environment';
import { summarize, type LatencySummary } from './load';
import { sseData } from './sse';
import { LOCAL_MODEL, withLocalModel } from '../test/support/gateway-harness';
import { loadConfigFile } from '../runtime/load-config';
import { readSettings } from '../runtime/settings';

const ROOT = resolve(__dirname, '..');
const PROMPTS = [
  'Explain what a circuit breaker does in software, in a few sentences.',
  'Write a short paragraph about the history of bread.',
  'Describe how rain forms.',
  'Give three tips for writing clear emails, with a sentence each.',
  'What is the difference between a list and a set?',
  'Describe a quiet morning in a small town.',
];

export interface LocalModelBenchOptions {
  requests: number;
  concurrency: number[];
  maxTokens: number;
  slots: number | undefined;
  out: string;
  log: (line: string) => void;
  signal: AbortSignal;
}

interface StreamTiming {
  firstMs: number;
  totalMs: number;
  promptTokens: number;
  completionTokens: number;
}

interface PhaseResult {
  concurrency: number;
  sent: number;
  ok: number;
  errors: Record<string, number>;
  wallMs: number;
  firstTokenMs: LatencySummary;
  totalMs: LatencySummary;
  /** Per request: (completion tokens − 1) / (time from first to last token). */
  decodeTokensPerSecond: LatencySummary;
  /** Per request: prompt tokens / time to first token. */
  promptTokensPerSecond: LatencySummary;
  /** All completion tokens / wall time of the phase. */
  aggregateTokensPerSecond: number;
  completionTokens: number;
}

/** One streamed chat completion: times to the first text and to [DONE], and the usage chunk's counts. */
async function timeStream(url: string, headers: Record<string, string>, body: unknown, signal: AbortSignal): Promise<StreamTiming | string> {
  const started = performance.now();
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body), signal });
  if (response.status !== 200 || !response.body) {
    await response.text();
    return `HTTP ${response.status}`;
  }
  let firstMs: number | undefined;
  let usage: { prompt_tokens: number; completion_tokens: number } | undefined;
  for await (const data of sseData(response.body as AsyncIterable<Uint8Array>)) {
    if (data === '[DONE]') {
      if (firstMs === undefined || usage === undefined) return 'no text or usage before [DONE]';
      return { firstMs, totalMs: performance.now() - started, promptTokens: usage.prompt_tokens, completionTokens: usage.completion_tokens };
    }
    const chunk = JSON.parse(data) as { choices?: { delta?: { content?: string } }[]; usage?: typeof usage; error?: unknown };
    if (chunk.error !== undefined) return 'error event';
    if (firstMs === undefined && chunk.choices?.[0]?.delta?.content) firstMs = performance.now() - started;
    if (chunk.usage) usage = chunk.usage;
  }
  return 'stream ended without [DONE]';
}

async function runPhase(
  send: (prompt: string) => Promise<StreamTiming | string>,
  count: number,
  concurrency: number,
  signal: AbortSignal,
): Promise<PhaseResult> {
  const timings: StreamTiming[] = [];
  const errors: Record<string, number> = {};
  let next = 0;
  const started = performance.now();
  const lane = async () => {
    while (next < count && !signal.aborted) {
      const index = next++;
      const outcome = await send(PROMPTS[index % PROMPTS.length] ?? '').catch((error: unknown) => (error instanceof Error ? error.name : 'error'));
      if (typeof outcome === 'string') errors[outcome] = (errors[outcome] ?? 0) + 1;
      else timings.push(outcome);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  const wallMs = performance.now() - started;
  const completionTokens = timings.reduce((sum, timing) => sum + timing.completionTokens, 0);
  return {
    concurrency,
    sent: next,
    ok: timings.length,
    errors,
    wallMs,
    firstTokenMs: summarize(timings.map((timing) => timing.firstMs)),
    totalMs: summarize(timings.map((timing) => timing.totalMs)),
    decodeTokensPerSecond: summarize(
      timings.filter((timing) => timing.completionTokens > 1).map((timing) => ((timing.completionTokens - 1) * 1000) / (timing.totalMs - timing.firstMs)),
    ),
    promptTokensPerSecond: summarize(timings.map((timing) => (timing.promptTokens * 1000) / timing.firstMs)),
    aggregateTokensPerSecond: (completionTokens * 1000) / wallMs,
    completionTokens,
  };
}

const fixed = (value: number, digits = 0) => (Number.isFinite(value) ? value.toFixed(digits) : '-');

function formatTable(rows: [string, PhaseResult][]): string {
  const header = ['path', 'callers', 'ok/sent', 'TTFT p50', 'TTFT p95', 'decode tok/s p50', 'prompt tok/s p50', 'all callers tok/s', 'answer p50'];
  const body = rows.map(([path, phase]) => [
    path,
    String(phase.concurrency),
    `${phase.ok}/${phase.sent}`,
    `${fixed(phase.firstTokenMs.p50)} ms`,
    `${fixed(phase.firstTokenMs.p95)} ms`,
    fixed(phase.decodeTokensPerSecond.p50),
    fixed(phase.promptTokensPerSecond.p50),
    fixed(phase.aggregateTokensPerSecond),
    `${fixed(phase.totalMs.p50)} ms`,
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...body.map((row) => row[column]?.length ?? 0)));
  const line = (cells: string[]) => `| ${cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join(' | ')} |`;
  return [line(header), `|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`, ...body.map(line)].join('\n');
}

export async function runLocalModelBench(options: LocalModelBenchOptions): Promise<number> {
  const { log, signal } = options;
  // The shipped default's settings (config/mock.yaml), so the figures are what `npm start` gives.
  const settings = readSettings();
  const shipped = own(loadConfigFile(resolve(ROOT, 'config/mock.yaml'), settings.env).config.providers, 'local')?.embedded;
  if (shipped === undefined) throw new Error('config/mock.yaml has no embedded local provider');
  const embedded = { ...shipped, ...(options.slots === undefined ? {} : { slots: options.slots }), queue: 64 };
  log(`[bench] loading ${embedded.model} (slots ${embedded.slots}, context ${embedded.contextSize}, threads ${embedded.threads ?? os.availableParallelism()})…`);
  const server = await startLocalModelServer({ settings: embedded, host: '127.0.0.1', port: 0, dataDir: settings.dataDir, log: () => {} });
  const rows: [string, PhaseResult][] = [];
  try {
    const body = (prompt: string) => ({
      model: server.modelId,
      messages: [{ role: 'user', content: prompt }],
      temperature: 0,
      seed: 1,
      max_tokens: options.maxTokens,
      stream: true,
      stream_options: { include_usage: true },
    });
    const direct = (prompt: string) => timeStream(`${server.baseUrl}/chat/completions`, {}, body(prompt), signal);
    log('[bench] warm-up: 3 requests');
    await runPhase(direct, 3, 1, signal);
    for (const concurrency of options.concurrency) {
      if (signal.aborted) break;
      log(`[bench] local server, ${concurrency} caller(s): ${options.requests} streamed requests of up to ${options.maxTokens} tokens…`);
      rows.push(['local server', await runPhase(direct, options.requests, concurrency, signal)]);
    }

    if (!signal.aborted) {
      log('[bench] through the gateway: confidential streamed requests (only the local model may answer them)…');
      const env = await startBenchEnvironment(log, { configure: withLocalModel(server.baseUrl) });
      try {
        const viaGateway = (prompt: string) =>
          timeStream(
            `${env.apiUrl}/v1/chat/completions`,
            { authorization: `Bearer ${BENCH_TENANT_KEY}`, 'x-gateway-sensitivity': 'confidential' },
            { ...body(prompt), model: 'model-a' },
            signal,
          );
        await runPhase(viaGateway, 3, 1, signal);
        rows.push(['gateway → local', await runPhase(viaGateway, options.requests, 1, signal)]);
      } finally {
        await env.stop();
      }
    }
  } finally {
    await server.close();
  }

  console.log('');
  console.log(formatTable(rows));
  console.log(
    `\n${LOCAL_MODEL} (${embedded.model}), ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? 'unknown'}), temperature 0, up to ${options.maxTokens} tokens per answer.` +
      '\nTTFT: request sent → first text chunk read. Decode tok/s: per answer, tokens after the first / time after the first.' +
      '\nAll callers tok/s: every answer token of the phase / its wall time (the server runs its slots; extra callers queue).',
  );
  mkdirSync(dirname(options.out), { recursive: true });
  writeFileSync(
    options.out,
    `${JSON.stringify({ date: new Date().toISOString(), cpus: os.cpus().length, node: process.version, model: embedded.model, settings: embedded, maxTokens: options.maxTokens, phases: rows.map(([path, phase]) => ({ path, ...phase })) }, (_key, value: unknown) => (typeof value === 'number' ? (Number.isFinite(value) ? Math.round(value * 1000) / 1000 : null) : value), 2)}\n`,
  );
  log(`\n[bench] results written to ${options.out}`);
  const failed = rows.reduce((sum, [, phase]) => sum + phase.sent - phase.ok, 0);
  if (failed > 0) log(`[bench] ${failed} request(s) failed: ${JSON.stringify(rows.map(([path, phase]) => [path, phase.errors]))}`);
  return failed > 0 || signal.aborted ? 1 : 0;
}
