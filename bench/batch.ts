// `npm run bench -- --batch [--requests 2000]`: batch throughput, items per
// second from `POST /v1/batches` to `completed`, against the mock at zero
// latency through the embedded gateway (each item a request workflow).
import { Client, Connection } from '@temporalio/client';
import { BENCH_MODEL, BENCH_TENANT_KEY, startBenchEnvironment } from './environment';
import { writeBenchResults } from './report';

export async function runBatchBench(options: { items: number; concurrency: number[]; out: string; log: (line: string) => void; signal: AbortSignal }): Promise<number> {
  const rows: { concurrency: number; items: number; seconds: number; itemsPerSecond: number; runs: number; maxHistoryEvents: number; maxHistoryBytes: number }[] = [];
  for (const concurrency of options.concurrency) {
    const env = await startBenchEnvironment(options.log, { configure: (config) => ({ ...config, batch: { ...config.batch, concurrency } }) });
    try {
      const headers = { authorization: `Bearer ${BENCH_TENANT_KEY}` };
      const created = await submitBatch(env.apiUrl, 'item', options.items, BENCH_MODEL);
      const { started } = created;
      let status = '';
      let counts = { completed: 0, failed: 0 };
      while (!['completed', 'failed', 'cancelled'].includes(status) && !options.signal.aborted) {
        await new Promise((wake) => setTimeout(wake, 200));
        const batch = (await (await fetch(`${env.apiUrl}/v1/batches/${created.id}`, { headers })).json()) as { status: string; request_counts: { completed: number; failed: number } };
        status = batch.status;
        counts = batch.request_counts;
      }
      const seconds = (Date.now() - started) / 1000;
      if (status !== 'completed' || counts.completed !== options.items) throw new Error(`batch ended ${status} with ${counts.completed} of ${options.items} completed`);
      // The batch's workflow runs (one per page, continue-as-new) and the largest history among them.
      const connection = await Connection.connect({ address: env.devServer.address });
      let runs = 0;
      let maxHistoryEvents = 0;
      let maxHistoryBytes = 0;
      try {
        for await (const execution of new Client({ connection }).workflow.list({ query: `WorkflowId = '${created.id}'` })) {
          runs += 1;
          maxHistoryEvents = Math.max(maxHistoryEvents, execution.historyLength);
          maxHistoryBytes = Math.max(maxHistoryBytes, execution.historySize ?? 0);
        }
      } finally {
        await connection.close();
      }
      rows.push({ concurrency, items: options.items, seconds, itemsPerSecond: options.items / seconds, runs, maxHistoryEvents, maxHistoryBytes });
      options.log(
        `[bench] batch of ${options.items} at concurrency ${concurrency}: ${seconds.toFixed(1)} s, ${(options.items / seconds).toFixed(1)} items/s; ` +
          `${runs} workflow runs, the largest history ${maxHistoryEvents} events / ${(maxHistoryBytes / 1024).toFixed(0)} KiB`,
      );
    } finally {
      await env.stop();
    }
  }
  console.log(
    [
      '',
      '| concurrency | items | seconds | items/s | workflow runs | largest history (events / KiB) |',
      '| --- | --- | --- | --- | --- | --- |',
      ...rows.map(
        (row) =>
          `| ${row.concurrency} | ${row.items} | ${row.seconds.toFixed(1)} | ${row.itemsPerSecond.toFixed(1)} | ${row.runs} | ${row.maxHistoryEvents} / ${(row.maxHistoryBytes / 1024).toFixed(0)} |`,
      ),
      '',
    ].join('\n'),
  );
  writeBenchResults(options.out, { rows });
  return 0;
}

/**
 * Uploads `items` chat requests (`<prefix>-<n>` for `model`) as a batch file
 * and creates the batch, through the API; `started` is when the batch was
 * asked for (epoch ms), after the upload.
 */
export async function submitBatch(apiUrl: string, prefix: string, items: number, model: string): Promise<{ id: string; started: number }> {
  const headers = { authorization: `Bearer ${BENCH_TENANT_KEY}` };
  const lines = Array.from({ length: items }, (_, index) =>
    JSON.stringify({ custom_id: `${prefix}-${index}`, method: 'POST', url: '/v1/chat/completions', body: { model, messages: [{ role: 'user', content: `${prefix} ${index}` }] } }),
  );
  const form = new FormData();
  form.append('purpose', 'batch');
  form.append('file', new Blob([`${lines.join('\n')}\n`]), `${prefix}.jsonl`);
  const file = (await (await fetch(`${apiUrl}/v1/files`, { method: 'POST', headers, body: form })).json()) as { id: string };
  const started = Date.now();
  const created = (await (
    await fetch(`${apiUrl}/v1/batches`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' }),
    })
  ).json()) as { id: string };
  return { id: created.id, started };
}
