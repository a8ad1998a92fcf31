// `npm run bench -- --governance`: what budgets and the response cache cost
// (or save) per request, through the gateway at zero provider latency, one
// request at a time: a plain request, the same with a budget to reserve in and
// settle (three ledger updates), a cache miss (lookup plus store in the SQLite
// file) and a cache hit (no provider call).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BENCH_MODEL, BENCH_TENANT_KEY, startBenchEnvironment } from './environment';
import { summarize, type LatencySummary } from './load';
import { writeBenchResults } from './report';


export interface GovernanceBenchOptions {
  requests: number;
  warmup: number;
  out: string;
  log: (line: string) => void;
  signal: AbortSignal;
}

interface Row {
  name: string;
  what: string;
  latencyMs: LatencySummary;
}

export async function runGovernanceBench(options: GovernanceBenchOptions): Promise<number> {
  const directory = mkdtempSync(join(tmpdir(), 'switchyard-bench-cache-'));
  const env = await startBenchEnvironment(options.log, {
    configure: (config) => ({
      ...config,
      cache: { enabled: true, sqliteFile: join(directory, 'cache.sqlite') },
      // Far above what the run spends: every reservation is granted.
      budgets: { 'bench-budget': { feature: 'bench-budget', period: 'day', limitUsd: 1_000 } },
    }),
  });
  let sequence = 0;
  const send = async (body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<{ ms: number; cache: string | null }> => {
    const started = performance.now();
    const response = await fetch(`${env.apiUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${BENCH_TENANT_KEY}`, 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ model: BENCH_MODEL, ...body }),
      signal: options.signal,
    });
    await response.text();
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    return { ms: performance.now() - started, cache: response.headers.get('x-gateway-cache') };
  };
  const unique = () => [{ role: 'user', content: `governance bench request ${++sequence}` }];
  const kinds: { name: string; what: string; run: () => Promise<{ ms: number; cache: string | null }>; expect: string }[] = [
    { name: 'plain', what: 'no budget, cache bypassed (temperature unset)', run: () => send({ messages: unique() }), expect: 'bypass' },
    { name: 'budget', what: 'a budget: reserve, then settle (with the release) as regular activities', run: () => send({ messages: unique() }, { 'x-gateway-feature': 'bench-budget' }), expect: 'bypass' },
    { name: 'cache miss', what: 'temperature 0, a new question: lookup and store', run: () => send({ temperature: 0, messages: unique() }), expect: 'miss' },
    { name: 'cache hit', what: 'temperature 0, the same question: no provider call', run: () => send({ temperature: 0, messages: [{ role: 'user', content: 'the same question' }] }), expect: 'hit' },
  ];
  const rows: Row[] = [];
  try {
    await send({ temperature: 0, messages: [{ role: 'user', content: 'the same question' }] });
    for (const kind of kinds) {
      for (let index = 0; index < options.warmup; index++) await kind.run();
      const latencies: number[] = [];
      for (let index = 0; index < options.requests; index++) {
        const outcome = await kind.run();
        if (outcome.cache !== kind.expect) throw new Error(`${kind.name}: x-gateway-cache ${outcome.cache}, expected ${kind.expect}`);
        latencies.push(outcome.ms);
      }
      const latencyMs = summarize(latencies);
      rows.push({ name: kind.name, what: kind.what, latencyMs });
      options.log(`[bench] ${kind.name}: p50 ${latencyMs.p50.toFixed(1)} ms, p95 ${latencyMs.p95.toFixed(1)} ms (${kind.what})`);
    }
  } finally {
    await env.stop();
    rmSync(directory, { recursive: true, force: true });
  }
  const table = [
    '| request | p50 ms | p95 ms | what happens |',
    '| --- | --- | --- | --- |',
    ...rows.map((row) => `| ${row.name} | ${row.latencyMs.p50.toFixed(1)} | ${row.latencyMs.p95.toFixed(1)} | ${row.what} |`),
  ].join('\n');
  console.log(`\n${table}\n`);
  writeBenchResults(options.out, { requests: options.requests, rows });
  options.log(`[bench] figures written to ${options.out}`);
  return 0;
}
