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
const received: MetricPoint[] = [];

interface MetricPoint {
  service: string;
  name: string;
  attributes: Record<string, unknown>;
  count: number;
  sum: number;
}
type OtlpMetrics = {
  resourceMetrics: {
    resource: { attributes: { key: string; value: OtlpValue }[] };
    scopeMetrics: { metrics: { name: string; histogram?: { dataPoints: OtlpPoint[] }; sum?: { dataPoints: OtlpPoint[] } }[] }[];
  }[];
};
type OtlpPoint = { attributes?: { key: string; value: OtlpValue }[]; count?: string | number; sum?: number; asInt?: string | number; asDouble?: number };

/** Histogram and counter points of an OTLP/JSON metrics export. */
function metricPoints(body: OtlpMetrics): MetricPoint[] {
  return body.resourceMetrics.flatMap((resourceMetrics) => {
    const service = String(plain(resourceMetrics.resource.attributes.find((attribute) => attribute.key === 'service.name')?.value ?? {}));
    return resourceMetrics.scopeMetrics.flatMap((scope) =>
      scope.metrics.flatMap((metric) =>
        (metric.histogram?.dataPoints ?? metric.sum?.dataPoints ?? []).map((point) => ({
          service,
          name: metric.name,
          attributes: Object.fromEntries((point.attributes ?? []).map((attribute) => [attribute.key, plain(attribute.value)])),
          count: Number(point.count ?? point.asInt ?? point.asDouble ?? 0),
          sum: Number(point.sum ?? point.asInt ?? point.asDouble ?? 0),
        })),
      ),
    );
  });
}
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
      if (request.url === '/v1/metrics') {
        received.push(...metricPoints(JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpMetrics));
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        return;
      }
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
  const env = { ...harness.env, OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_METRIC_EXPORT_INTERVAL: '500' };
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

test("one request is one trace from the caller's traceparent through the HTTP handler, the workflow and the activity to the provider call", async () => {
  // The caller's own span: its trace goes on in the gateway.
  const callerTraceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  const callerSpanId = '00f067aa0ba902b7';
  const { response } = await openai.chat.completions
    .create({ model: 'model-a', messages: [{ role: 'user', content: 'trace me' }] }, { headers: { traceparent: `00-${callerTraceId}-${callerSpanId}-01` } })
    .withResponse();
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
  assert.equal(root.traceId, callerTraceId, "the API's span is in the caller's trace");
  assert.equal(root.parentSpanId, callerSpanId, "the API's span is the caller's span's child");
  const trace = spans.filter((span) => span.traceId === callerTraceId);
  const names = trace.map((span) => span.name);
  for (const expected of ['StartWorkflow:llmRequestWorkflow', 'RunWorkflow:llmRequestWorkflow', 'StartActivity:callModel', 'RunActivity:callModel']) {
    assert.ok(names.includes(expected), `${expected} in ${names.join(', ')}`);
  }
  assert.ok(trace.some((span) => span.name === 'RunWorkflow:llmRequestWorkflow' && span.service === 'switchyard-worker'), 'the workflow span comes from the worker');
  // The GenAI semantic conventions on the model call.
  assert.equal(providerCall.service, 'switchyard-worker');
  assert.equal(providerCall.attributes['gen_ai.operation.name'], 'chat');
  assert.equal(providerCall.attributes['gen_ai.provider.name'], 'openai');
  assert.equal(providerCall.attributes['gen_ai.request.model'], 'model-a');
  assert.equal(typeof providerCall.attributes['gen_ai.response.model'], 'string');
  assert.deepEqual(providerCall.attributes['gen_ai.response.finish_reasons'], ['stop']);
  assert.ok(Number(providerCall.attributes['gen_ai.usage.input_tokens']) > 0);
  assert.ok(Number(providerCall.attributes['gen_ai.usage.output_tokens']) > 0);
  // The provider's HTTP call (undici) is the provider span's child.
  const http = trace.find((span) => span.parentSpanId === providerCall.spanId);
  assert.ok(http, `an HTTP span under the provider call in ${names.join(', ')}`);
  assert.equal(http.attributes['http.request.method'], 'POST');
});

test('a failed model call carries error.type, and the GenAI histograms and the request series (fallbacks included) are exported over OTLP', async () => {
  await harness.setFault('model-a', { status: 503, times: 10 });
  try {
    const { response } = await openai.chat.completions.create({ model: 'model-a', messages: [{ role: 'user', content: 'fail over, traced' }] }).withResponse();
    assert.equal(response.headers.get('x-gateway-model'), 'model-b');
  } finally {
    await harness.clearFaults();
  }
  let failed: ReceivedSpan | undefined;
  const has = (name: string, attributes: Record<string, unknown>) =>
    received.some((point) => point.name === name && point.count > 0 && Object.entries(attributes).every(([key, value]) => point.attributes[key] === value));
  const wanted = () =>
    has('gen_ai.client.token.usage', { 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'model-a', 'gen_ai.token.type': 'input' }) &&
    has('gen_ai.client.token.usage', { 'gen_ai.provider.name': 'anthropic', 'gen_ai.token.type': 'output' }) &&
    has('gen_ai.client.operation.duration', { 'gen_ai.request.model': 'model-a', 'error.type': 'ProviderUnavailable' }) &&
    has('switchyard.requests', { 'switchyard.entry': 'chat', 'switchyard.model': 'model-b', 'switchyard.outcome': 'success' }) &&
    has('switchyard.fallbacks', { 'switchyard.entry': 'chat', 'switchyard.model': 'model-a', 'switchyard.reason': 'ProviderUnavailable' }) &&
    has('switchyard.request.duration', { 'switchyard.entry': 'chat', 'switchyard.model': 'model-b' });
  for (let round = 0; round < 100 && !(failed && wanted()); round += 1) {
    failed = spans.find((span) => span.name === 'chat model-a' && span.attributes['error.type'] === 'ProviderUnavailable');
    if (!(failed && wanted())) await new Promise((resolve) => setTimeout(resolve, 200));
  }
  assert.ok(failed, 'the failed call span carries error.type');
  assert.ok(wanted(), `GenAI histograms and request series received: ${[...new Set(received.map((point) => point.name))].join(', ')}`);
  assert.ok(received.every((point) => point.service === 'switchyard-worker' || !point.name.startsWith('gen_ai.')), 'model calls are measured where they are made');
});
