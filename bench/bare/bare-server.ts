// The bench's floor as a process: what the gateway does per request stripped
// to Temporal itself. An HTTP server (node:http) takes a chat-completion body,
// starts `bareRequestWorkflow` eagerly on its own worker (one shared
// NativeConnection, as the embedded gateway does), whose one activity calls
// the provider with the official `openai` client, and answers the result.
// Same dev server, same data converter settings (readSettings of the same
// environment) as the gateway under test. Prints one JSON line
// `{"msg":"bare listening","url":…}` on stderr when ready.
import { randomUUID } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { heartbeat } from '@temporalio/activity';
import { Client } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import OpenAI from 'openai';
import { dataConverterFor } from '../../runtime/data-converter';
import { readSettings } from '../../runtime/settings';
import { BARE_TASK_QUEUE } from './bare-task-queue';
import type { bareRequestWorkflow, bareStreamWorkflow } from './bare-workflow';

/** A chat-completion body as the bench sends it. */
export interface BareBody {
  model: string;
  messages: { role: 'user'; content: string }[];
  stream?: boolean;
}

/**
 * The bare activities: one provider call, and its streamed twin, which
 * relays the provider's chunks to the caller's connection (held by this same
 * process, under `streamId`) and returns the text; the caller's stream ends
 * with the last chunk, before the workflow closes, as the gateway's does.
 */
export function createBareActivities(openai: OpenAI, connections: ReadonlyMap<string, ServerResponse> = new Map()) {
  return {
    async callModel(body: BareBody): Promise<unknown> {
      heartbeat();
      return openai.chat.completions.create({ model: body.model, messages: body.messages });
    },
    async streamModel(body: BareBody, streamId: string): Promise<string> {
      heartbeat();
      const response = connections.get(streamId);
      if (!response) throw new Error(`no caller connection for stream ${streamId}`);
      const stream = await openai.chat.completions.create({ model: body.model, messages: body.messages, stream: true });
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      let text = '';
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta.content ?? '';
        response.write(`data: ${JSON.stringify(chunk)}\n\n`);
      }
      response.end('data: [DONE]\n\n');
      return text;
    },
  };
}
export type BareActivities = ReturnType<typeof createBareActivities>;

async function main(): Promise<void> {
  const settings = readSettings(process.env);
  const dataConverter = dataConverterFor(settings);
  const connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233' });
  const openai = new OpenAI({ baseURL: `${process.env.MOCK_PROVIDER_URL}/v1`, apiKey: process.env.MOCK_PROVIDER_KEY ?? 'mock-key', maxRetries: 0 });
  const connections = new Map<string, ServerResponse>();
  const worker = await Worker.create({
    connection,
    taskQueue: BARE_TASK_QUEUE,
    workflowsPath: require.resolve('./bare-workflow'),
    activities: createBareActivities(openai, connections),
    dataConverter,
  });
  const running = worker.run();
  const client = new Client({ connection, dataConverter });
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as BareBody;
      if (body.stream) {
        const streamId = randomUUID();
        connections.set(streamId, response);
        client.workflow
          .execute<typeof bareStreamWorkflow>('bareStreamWorkflow', { taskQueue: BARE_TASK_QUEUE, workflowId: `bare-${streamId}`, args: [body, streamId], requestEagerStart: true })
          .catch((error: unknown) => {
            if (!response.headersSent) response.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: String(error) }));
          })
          .finally(() => connections.delete(streamId));
        return;
      }
      client.workflow
        .execute<typeof bareRequestWorkflow>('bareRequestWorkflow', { taskQueue: BARE_TASK_QUEUE, workflowId: `bare-${randomUUID()}`, args: [body], requestEagerStart: true })
        .then((result) => response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result)))
        .catch((error: unknown) => response.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: String(error) })));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  console.error(JSON.stringify({ msg: 'bare listening', url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }));
  const stop = () => {
    server.close();
    worker.shutdown();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  await running;
  await connection.close();
  // Idle keep-alive sockets would hold the process open; a CPU profile is written on this exit.
  process.exit(0);
}

if (require.main === module) void main();
