// Tracing on (OTEL_EXPORTER_OTLP_ENDPOINT) with separate API and worker
// processes: one request yields one trace, from the API's handler through the
// workflow and its activity to the provider's HTTP call, received by a real
// OTLP/HTTP endpoint this test runs.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { TENANT_KEY, startHarness, type Harness } from '../support/gateway-harness';
import { killAll, startEntryPoint } from '../support/processes';

interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  attributes: Record<string, unknown>;
}

let harness: Harness;
let receiver: Server;
let openai: OpenAI;
const spans: ReceivedSpan[] = [];
const children: ChildProcess[] = [];

type OtlpValue = { stringValue?: string; intValue?: string | number; boolValue?: boolean; arrayValue?: { values: OtlpValue[] } };

function plain(value: OtlpValue): unknown {
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.arrayValue) return value.arrayValue.values.map(plain);
  return undefined;
}

before(async () => {
  receiver = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        resourceSpans: { resource: { attributes: { key: string; value: OtlpValue }[] }; scopeSpans: { spans: Record<string, unknown>[] }[] }[];
      };
      for (const resourceSpans of body.resourceSpans) {
        const service = String(plain(resourceSpans.resource.attributes.find((attribute) => attribute.key === 'service.name')?.value ?? {}));
        for (const scope of resourceSpans.scopeSpans) {
          for (const span of scope.spans) {
            const attributes = Object.fromEntries(((span.attributes ?? []) as { key: string; value: OtlpValue }[]).map((attribute) => [attribute.key, plain(attribute.value)]));
            spans.push({ service, traceId: String(span.traceId), spanId: String(span.spanId), parentSpanId: String(span.parentSpanId ?? ''), name: String(span.name), attributes });
          }
        }
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  harness = await startHarness({ embeddedGateway: false });
  const env = { ...harness.env, OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' };
  children.push((await startEntryPoint('worker/main.ts', 'worker started', { ...env, OTEL_SERVICE_NAME: 'switchyard-worker' })).child);
  const api = await startEntryPoint('api/main.ts', 'api listening', { ...env, OTEL_SERVICE_NAME: 'switchyard-api' });
  children.push(api.child);
  openai = new OpenAI({ baseURL: `${String(api.line.url)}/v1`, apiKey: TENANT_KEY, maxRetries: 0, timeout: 60_000 });
});

after(async () => {
  killAll(children);
  await harness?.stop();
  receiver?.close();
});

test('one request is one trace from the HTTP handler to the provider call', async () => {
  const { response } = await openai.chat.completions.create({ model: 'model-a', messages: [{ role: 'user', content: 'trace me' }] }).withResponse();
  const workflowId = response.headers.get('x-gateway-workflow-id');
  let root: ReceivedSpan | undefined;
  let providerCall: ReceivedSpan | undefined;
  for (let round = 0; round < 100 && !(root && providerCall); round += 1) {
    root = spans.find((span) => span.attributes['switchyard.workflow_id'] === workflowId);
    providerCall = spans.find((span) => root && span.traceId === root.traceId && span.name === 'chat model-a');
    if (!(root && providerCall)) await new Promise((resolve) => setTimeout(resolve, 200));
  }
  assert.ok(root, 'the API handler span arrived');
  assert.ok(providerCall, 'the provider call span arrived in the same trace');
  assert.equal(root.service, 'switchyard-api');
  assert.equal(root.name, 'POST /v1/chat/completions');
  const trace = spans.filter((span) => span.traceId === root.traceId);
  const names = trace.map((span) => span.name);
  for (const expected of ['StartWorkflow:llmRequestWorkflow', 'RunWorkflow:llmRequestWorkflow', 'StartActivity:callModel', 'RunActivity:callModel']) {
    assert.ok(names.includes(expected), `${expected} in ${names.join(', ')}`);
  }
  assert.equal(providerCall.service, 'switchyard-worker');
  assert.equal(providerCall.attributes['gen_ai.request.model'], 'model-a');
  assert.equal(providerCall.attributes['gen_ai.system'], 'openai');
  assert.ok(Number(providerCall.attributes['gen_ai.usage.input_tokens']) > 0);
  // The provider's HTTP call (undici) is the provider span's child.
  const http = trace.find((span) => span.parentSpanId === providerCall.spanId);
  assert.ok(http, `an HTTP span under the provider call in ${names.join(', ')}`);
  assert.equal(http.attributes['http.request.method'], 'POST');
});
