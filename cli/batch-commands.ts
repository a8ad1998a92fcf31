import { createReadStream, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import OpenAI, { toFile } from 'openai';
import { progressBar } from './progress-bar';

type Batch = Awaited<ReturnType<OpenAI['batches']['retrieve']>>;

/** The gateway's API as the official client sees it: `SWITCHYARD_URL` (default the local gateway) and a tenant key. */
export function gatewayClient(env: NodeJS.ProcessEnv): OpenAI {
  const apiKey = env.SWITCHYARD_API_KEY;
  if (!apiKey) throw new Error('set SWITCHYARD_API_KEY to a tenant key (the dev key is switchyard-dev-key)');
  return new OpenAI({ baseURL: `${(env.SWITCHYARD_URL ?? 'http://127.0.0.1:8080').replace(/\/$/, '')}/v1`, apiKey, maxRetries: 3 });
}

/** Uploads a JSONL file and starts its batch; with `wait`, shows a progress bar until it ends. */
export async function submitBatch(openai: OpenAI, path: string, options: { wait: boolean; metadata?: Record<string, string> }): Promise<number> {
  const file = await openai.files.create({ file: await toFile(createReadStream(path), basename(path)), purpose: 'batch' });
  const batch = await openai.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h', ...(options.metadata ? { metadata: options.metadata } : {}) });
  process.stderr.write(`batch ${batch.id} started (input ${file.id})\n`);
  if (!options.wait) {
    console.log(batch.id);
    return 0;
  }
  const done = await waitForBatch(openai, batch.id);
  console.log(JSON.stringify(summary(done), null, 2));
  return done.status === 'completed' ? 0 : 1;
}

export async function batchStatus(openai: OpenAI, batchId: string): Promise<number> {
  console.log(JSON.stringify(summary(await openai.batches.retrieve(batchId)), null, 2));
  return 0;
}

/** Writes a batch's output (or error) file to stdout or `out`. */
export async function batchResults(openai: OpenAI, batchId: string, options: { errors: boolean; out?: string }): Promise<number> {
  const batch = await openai.batches.retrieve(batchId);
  const fileId = options.errors ? batch.error_file_id : batch.output_file_id;
  if (!fileId) {
    process.stderr.write(`batch ${batchId} is ${batch.status} and has no ${options.errors ? 'error' : 'output'} file${batch.status === 'in_progress' ? ' yet' : ''}\n`);
    return 1;
  }
  const text = await (await openai.files.content(fileId)).text();
  if (options.out) writeFileSync(options.out, text);
  else process.stdout.write(text);
  return 0;
}

/** Polls the batch every second, drawing a progress bar (a line per tenth when stderr is not a terminal). */
async function waitForBatch(openai: OpenAI, batchId: string): Promise<Batch> {
  const bar = progressBar();
  for (;;) {
    const batch = await openai.batches.retrieve(batchId);
    const counts = batch.request_counts ?? { total: 0, completed: 0, failed: 0 };
    const done = counts.completed + counts.failed;
    bar.update(done, counts.total, `${batch.status}: ${done}/${counts.total} (${counts.failed} failed)`);
    if (['completed', 'failed', 'cancelled', 'expired'].includes(batch.status)) {
      bar.finish();
      return batch;
    }
    await new Promise((wake) => setTimeout(wake, 1_000));
  }
}

function summary(batch: Batch) {
  return {
    id: batch.id,
    status: batch.status,
    request_counts: batch.request_counts,
    output_file_id: batch.output_file_id ?? null,
    error_file_id: batch.error_file_id ?? null,
    ...(batch.errors?.data?.length ? { errors: batch.errors.data } : {}),
  };
}
