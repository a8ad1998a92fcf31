// Time to the first streamed token, straight from the mock and through the
// gateway (stream: true), one request at a time.
import { BENCH_MODEL, BENCH_TENANT_KEY, MOCK_KEY, type BenchEnvironment } from './environment';
import { summarize, type LatencySummary } from './load';
import { sseData } from './sse';

export interface FirstTokenFigures {
  sent: number;
  ok: number;
  errorKinds: Record<string, number>;
  /** Request sent → first chunk with text read. */
  firstTokenMs: LatencySummary;
  /** Request sent → `[DONE]` read. */
  totalMs: LatencySummary;
}

const BODY = JSON.stringify({
  model: BENCH_MODEL,
  stream: true,
  messages: [{ role: 'user', content: 'Benchmark stream: answer in one short sentence of several words.' }],
});

/** One streamed request: times to the first text chunk and to `[DONE]`, or why it failed. */
async function timeOneStream(url: string, key: string, signal: AbortSignal): Promise<{ firstMs: number; totalMs: number } | string> {
  const started = performance.now();
  const response = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: BODY,
    signal,
  });
  if (response.status !== 200 || !response.body) {
    await response.text();
    return `HTTP ${response.status}`;
  }
  let firstMs: number | undefined;
  for await (const data of sseData(response.body as AsyncIterable<Uint8Array>)) {
    if (data === '[DONE]') {
      if (firstMs === undefined) return 'no text before [DONE]';
      return { firstMs, totalMs: performance.now() - started };
    }
    if (firstMs === undefined) {
      const chunk = JSON.parse(data) as { choices?: { delta?: { content?: string } }[] };
      if (chunk.choices?.[0]?.delta?.content) firstMs = performance.now() - started;
    }
  }
  return 'stream ended without [DONE]';
}

export async function measureFirstToken(
  env: BenchEnvironment,
  target: 'direct' | 'gateway',
  count: number,
  signal: AbortSignal,
): Promise<FirstTokenFigures> {
  const url = target === 'direct' ? `${env.mockUrl}/v1/chat/completions` : `${env.apiUrl}/v1/chat/completions`;
  const key = target === 'direct' ? MOCK_KEY : BENCH_TENANT_KEY;
  const first: number[] = [];
  const total: number[] = [];
  const errorKinds: Record<string, number> = {};
  let sent = 0;
  for (; sent < count && !signal.aborted; sent += 1) {
    const outcome = await timeOneStream(url, key, signal).catch((error: unknown) => (error instanceof Error ? error.name : 'error'));
    if (typeof outcome === 'string') errorKinds[outcome] = (errorKinds[outcome] ?? 0) + 1;
    else {
      first.push(outcome.firstMs);
      total.push(outcome.totalMs);
    }
  }
  return { sent, ok: first.length, errorKinds, firstTokenMs: summarize(first), totalMs: summarize(total) };
}
