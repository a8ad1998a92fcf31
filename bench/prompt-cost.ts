// `npm run bench -- --prompt-cost`: what the API's own look at a prompt costs
// on its event loop, by prompt size up to the body limit: counting its tokens
// and scanning it for personal and secret data (`assessRequest`, which the
// API runs to refuse early and explain a route). Nothing else runs: no
// Temporal, no HTTP; this is the time every other request on the process
// waits while one prompt is looked at.
import { assessRequest } from '../services/prompt/assess-request';
import { MAX_BODY_BYTES } from '../api/create-app';
import type { CanonicalRequest } from '../common/request-schema';
import { summarize, type LatencySummary } from './load';
import { writeBenchResults } from './report';

export interface PromptCostBenchOptions {
  out: string;
  log: (line: string) => void;
}

interface Row {
  promptBytes: number;
  runs: number;
  ms: LatencySummary;
}

/** Prose with what the scanner looks for sprinkled in: an email, a phone number, a card-like number. */
const PARAGRAPH =
  'The quarterly report covers revenue, churn and the support backlog; write to ops@example.com or call +1 415 555 0100 about ticket 4111 1111 1111 1111 before Friday. ';

function promptOf(bytes: number): string {
  return PARAGRAPH.repeat(Math.ceil(bytes / PARAGRAPH.length)).slice(0, bytes);
}

export async function runPromptCostBench(options: PromptCostBenchOptions): Promise<number> {
  const sizes = [1_024, 16 * 1_024, 128 * 1_024, 512 * 1_024, MAX_BODY_BYTES - 4_096];
  const rows: Row[] = [];
  for (const promptBytes of sizes) {
    const request: Pick<CanonicalRequest, 'tenantId' | 'messages' | 'tools' | 'tags'> = {
      tenantId: 'bench',
      messages: [{ role: 'user', content: promptOf(promptBytes) }],
      tags: {},
    };
    // Fewer runs for big prompts; the first run of each size warms the JIT and is not counted.
    const runs = Math.max(5, Math.min(200, Math.round(20_000_000 / promptBytes)));
    assessRequest(request, { tenants: {} });
    const times: number[] = [];
    for (let run = 0; run < runs; run++) {
      const started = performance.now();
      assessRequest(request, { tenants: {} });
      times.push(performance.now() - started);
      await new Promise((yieldTurn) => setImmediate(yieldTurn));
    }
    const ms = summarize(times);
    rows.push({ promptBytes, runs, ms });
    options.log(`[bench] prompt ${(promptBytes / 1024).toFixed(0).padStart(5)} KiB: tokens + scan ${ms.p50.toFixed(2)} ms p50, ${ms.p99.toFixed(2)} ms p99 (${runs} runs)`);
  }
  writeBenchResults(options.out, { kind: 'prompt-cost', bodyLimitBytes: MAX_BODY_BYTES, rows });
  options.log(`[bench] figures in ${options.out}`);
  return 0;
}
