// `npm run bench -- --recovery [--requests 1000]`: what a worker SIGKILL
// costs a running batch. Worker processes (not the embedded gateway), the API
// in this process, the mock at zero latency. Three batches of the same size:
// undisturbed; a single worker SIGKILLed a third of the way and a new one
// started; two workers with one SIGKILLed. Each item is a request workflow,
// so Temporal's visibility records when each started and closed: the items
// in flight at the kill, and how long the kill held them up, come from there.
import type { ChildProcess } from 'node:child_process';
import { startEntryPoint } from '../scripts/entry-point';
import { TENANT_KEY, startHarness, type Harness } from '../test/support/gateway-harness';
import { startSplitGateway, type SplitGateway } from '../test/support/split-gateway';
import { submitBatch } from './batch';
import { summarize } from './load';
import { writeBenchResults } from './report';

const CONCURRENCY = 16;
/** As in production-like configs: a lost provider call is noticed after one missed heartbeat. */
const TIMEOUTS = { requestMs: 30_000, totalMs: 120_000, heartbeatMs: 1_000 };

type Scenario = 'undisturbed' | 'single worker replaced' | 'one of two workers killed';

interface Row {
  scenario: Scenario;
  items: number;
  seconds: number;
  itemsPerSecond: number;
  inFlightAtKill?: number;
  /** From the kill to the last of the items in flight at the kill closing. */
  heldUpMaxSeconds?: number;
  heldUpP50Seconds?: number;
  /** From the kill to the new worker's "worker started" line. */
  workerReadySeconds?: number;
  /** From the kill to the provider's next call. */
  firstCallSeconds?: number;
}

export async function runRecoveryBench(options: { items: number; out: string; log: (line: string) => void; signal: AbortSignal }): Promise<number> {
  const harness = await startHarness({
    embeddedGateway: false,
    timeouts: TIMEOUTS,
    configure: (config) => ({ ...config, batch: { ...config.batch, pageSize: 100, concurrency: CONCURRENCY } }),
  });
  const extra: ChildProcess[] = [];
  let gateway: SplitGateway | undefined;
  const rows: Row[] = [];
  try {
    gateway = await startSplitGateway(harness);
    for (const scenario of ['undisturbed', 'single worker replaced', 'one of two workers killed'] as const) {
      if (options.signal.aborted) break;
      if (scenario === 'one of two workers killed') gateway.startWorker();
      rows.push(await runScenario(harness, gateway, scenario, options, extra));
    }
  } finally {
    for (const child of extra) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await gateway?.stop();
    await harness.stop();
  }
  const cell = (value: number | undefined, digits = 1) => (value === undefined ? '' : value.toFixed(digits));
  console.log(
    [
      '',
      '| scenario | items | seconds | items/s | in flight at kill | held up p50 s | held up max s | new worker ready s | next provider call s |',
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
      ...rows.map(
        (row) =>
          `| ${row.scenario} | ${row.items} | ${cell(row.seconds)} | ${cell(row.itemsPerSecond)} | ${row.inFlightAtKill ?? ''} | ${cell(row.heldUpP50Seconds)} | ${cell(row.heldUpMaxSeconds)} | ${cell(row.workerReadySeconds)} | ${cell(row.firstCallSeconds)} |`,
      ),
      '',
      `Batch concurrency ${CONCURRENCY}; provider heartbeat timeout ${TIMEOUTS.heartbeatMs} ms; the mock at zero latency.`,
      '"held up": from the kill to the close of each item that was in flight at the kill.',
      '',
    ].join('\n'),
  );
  writeBenchResults(options.out, { rows });
  return 0;
}

async function runScenario(
  harness: Harness,
  gateway: SplitGateway,
  scenario: Scenario,
  options: { items: number; log: (line: string) => void; signal: AbortSignal },
  extra: ChildProcess[],
): Promise<Row> {
  const headers = { authorization: `Bearer ${TENANT_KEY}` };
  const prefix = scenario.replace(/\W+/g, '-');
  const created = await submitBatch(gateway.apiUrl, prefix, options.items, 'model-a');
  const { started } = created;
  options.log(`[bench] ${scenario}: batch ${created.id} of ${options.items} items`);

  let killedAt: number | undefined;
  let workerReadyAt: number | undefined;
  let firstCallAt: number | undefined;
  let callsAtKill = 0;
  let status = '';
  let completed = 0;
  while (!['completed', 'failed', 'cancelled'].includes(status) && !options.signal.aborted) {
    await new Promise((wake) => setTimeout(wake, killedAt === undefined ? 250 : 50));
    if (killedAt !== undefined && firstCallAt === undefined) {
      if (((await harness.calls())['model-a'] ?? 0) > callsAtKill) firstCallAt = Date.now();
      continue;
    }
    const answer = await fetch(`${gateway.apiUrl}/v1/batches/${created.id}`, { headers, signal: AbortSignal.timeout(5_000) }).catch(() => undefined);
    if (!answer?.ok) continue;
    const batch = (await answer.json()) as { status: string; request_counts: { completed: number } };
    status = batch.status;
    completed = batch.request_counts.completed;
    if (scenario !== 'undisturbed' && killedAt === undefined && completed >= options.items / 3) {
      const victim = gateway.workers.find((worker) => worker.exitCode === null && worker.signalCode === null);
      if (!victim) throw new Error('no worker left to kill');
      victim.kill('SIGKILL');
      killedAt = Date.now();
      // Calls the dead worker had sent are counted by now; the next one is the new worker's.
      await new Promise((wake) => setTimeout(wake, 200));
      callsAtKill = (await harness.calls())['model-a'] ?? 0;
      options.log(`[bench] ${scenario}: worker ${victim.pid} SIGKILLed at ${completed} completed`);
      if (scenario === 'single worker replaced') {
        void startEntryPoint('worker/main.ts', 'worker started', harness.env).then(({ child }) => {
          workerReadyAt = Date.now();
          extra.push(child);
        });
      } else {
        firstCallAt = killedAt;
      }
    }
  }
  const seconds = (Date.now() - started) / 1000;
  if (status !== 'completed' || completed !== options.items) throw new Error(`${scenario}: batch ended ${status} with ${completed} of ${options.items} completed`);
  options.log(`[bench] ${scenario}: ${seconds.toFixed(1)} s`);
  const row: Row = { scenario, items: options.items, seconds, itemsPerSecond: options.items / seconds };
  if (killedAt === undefined) return row;

  // Every item's start and close, from Temporal's visibility.
  const heldUp: number[] = [];
  for await (const execution of harness.client.workflow.list({ query: `WorkflowType = 'llmRequestWorkflow' AND WorkflowId STARTS_WITH '${created.id}-'` })) {
    if (!execution.closeTime) continue;
    if (execution.startTime.getTime() < killedAt && execution.closeTime.getTime() > killedAt) heldUp.push((execution.closeTime.getTime() - killedAt) / 1000);
  }
  const figures = summarize(heldUp);
  return {
    ...row,
    inFlightAtKill: heldUp.length,
    heldUpP50Seconds: figures.p50,
    heldUpMaxSeconds: figures.max,
    ...(workerReadyAt === undefined ? {} : { workerReadySeconds: (workerReadyAt - killedAt) / 1000 }),
    ...(firstCallAt === undefined || scenario !== 'single worker replaced' ? {} : { firstCallSeconds: (firstCallAt - killedAt) / 1000 }),
  };
}
