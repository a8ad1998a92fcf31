// `npm run chaos`: a steady stream of requests while the primary provider
// goes fully down (it hangs) and comes back, with the shared breakers on and
// then off. Prints, per phase, request latency and how many calls the dead
// provider received. See bench/README.md.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { MockControlClient } from '../mock/mock-control-client';
import { startMockProvider } from '../mock/mock-provider';
import { startEmbeddedGateway } from '../scripts/embedded-gateway';
import { startDevServer } from '../scripts/temporal-dev-server';
import { TENANT_KEY, harnessConfig } from '../test/support/gateway-harness';
import { HARNESS_PROVIDER_KEYS, mockApiKeysFor } from '../test/support/provider-keys';
import { parseConfig } from '../runtime/load-config';
import { summarize } from './load';
import { plainTemporalConnection } from '../runtime/temporal-connection';

const log = (line: string) => console.error(line);
/** The primary's calls time out after this: the price a request pays for a dead provider. */
const TIMEOUTS = { requestMs: 1_000, totalMs: 10_000, heartbeatMs: 2_000, streamMs: 30_000 };
const BREAKER = { consecutiveFailures: 5, coolDownMs: 5_000, maxCoolDownMs: 20_000, probes: 1, probeLeaseMs: 5_000 };

interface Sample {
  at: number;
  latencyMs: number;
  model: string;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'phase-seconds': { type: 'string', default: '12' },
      concurrency: { type: 'string', default: '2' },
    },
  });
  const phaseMs = Number(values['phase-seconds']) * 1000;
  const concurrency = Number(values.concurrency);
  const directory = mkdtempSync(join(tmpdir(), 'switchyard-chaos-'));
  const devServer = await startDevServer({ dbFile: join(directory, 'temporal.db') });
  const mock = await startMockProvider();
  const control = new MockControlClient(mock.url);
  try {
    await control.setApiKeys(mockApiKeysFor(harnessConfig(mock.url), HARNESS_PROVIDER_KEYS));
    const rows: string[] = [];
    for (const breakers of [true, false]) {
      const config = parseConfig(harnessConfig(mock.url, TIMEOUTS, BREAKER));
      const gateway = await startEmbeddedGateway({
        temporal: plainTemporalConnection(devServer.address),
        taskQueue: `chaos-${breakers ? 'breakers' : 'none'}-${process.pid}`,
        config,
        env: { ...HARNESS_PROVIDER_KEYS },
        apiHost: '127.0.0.1',
        apiPort: 0,
        breakers,
      });
      try {
        log(`[chaos] breakers ${breakers ? 'on' : 'off'}: ${phaseMs / 1000} s healthy, ${phaseMs / 1000} s primary down (hangs), ${phaseMs / 1000} s recovered`);
        await control.reset();
        const samples: Sample[] = [];
        const started = Date.now();
        let stop = false;
        const clients = Array.from({ length: concurrency }, async () => {
          while (!stop) {
            const sent = Date.now();
            const response = await fetch(`${gateway.apiUrl}/v1/chat/completions`, {
              method: 'POST',
              headers: { authorization: `Bearer ${TENANT_KEY}`, 'content-type': 'application/json' },
              body: JSON.stringify({ model: 'model-a', messages: [{ role: 'user', content: 'steady traffic' }] }),
            });
            await response.text();
            samples.push({ at: sent - started, latencyMs: Date.now() - sent, model: response.headers.get('x-gateway-model') ?? `HTTP ${response.status}` });
          }
        });
        await sleep(phaseMs);
        const callsBefore = (await control.calls())['model-a'] ?? 0;
        await control.setFault('model-a', { hang: true });
        await sleep(phaseMs);
        const callsDuring = ((await control.calls())['model-a'] ?? 0) - callsBefore;
        await control.clearFaults();
        const recoveredAt = Date.now() - started;
        await sleep(phaseMs);
        stop = true;
        await Promise.all(clients);
        const backAt = samples.find((sample) => sample.at >= recoveredAt && sample.model === 'model-a')?.at;
        const phase = (from: number, to: number) => summarize(samples.filter((sample) => sample.at >= from && sample.at < to).map((sample) => sample.latencyMs));
        const line = (name: string, figures: ReturnType<typeof summarize>, extra: string) =>
          `${(breakers ? 'on' : 'off').padEnd(8)} ${name.padEnd(10)} ${String(figures.count).padStart(5)} ${figures.p50.toFixed(0).padStart(8)} ${figures.p95.toFixed(0).padStart(8)} ${figures.max.toFixed(0).padStart(8)}  ${extra}`;
        rows.push(line('before', phase(0, phaseMs), ''));
        rows.push(line('outage', phase(phaseMs, 2 * phaseMs), `${callsDuring} calls to the dead provider`));
        rows.push(line('after', phase(2 * phaseMs, Number.POSITIVE_INFINITY), backAt === undefined ? 'traffic not back' : `back on the primary ${((backAt - recoveredAt) / 1000).toFixed(1)} s after it recovered`));
      } finally {
        await gateway.stop();
      }
    }
    console.log('');
    console.log(`breakers phase      reqs  p50 ms   p95 ms   max ms`);
    for (const row of rows) console.log(row);
    console.log(
      `\nPrimary: model-a (hangs during the outage; calls time out after ${TIMEOUTS.requestMs} ms, a Timeout is retried once); fallback model-b.` +
        ` Breaker: ${BREAKER.consecutiveFailures} failures in a row, cool-down ${BREAKER.coolDownMs} ms doubling to ${BREAKER.maxCoolDownMs} ms, ${BREAKER.probes} probe.` +
        ` ${concurrency} clients in a closed loop.`,
    );
  } finally {
    await mock.close();
    await devServer.stop();
    rmSync(directory, { recursive: true, force: true });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
