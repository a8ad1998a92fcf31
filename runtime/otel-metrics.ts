import { metrics, type Attributes } from '@opentelemetry/api';

/**
 * The OpenTelemetry metrics the gateway records: the GenAI client histograms
 * of the semantic conventions (one observation per provider call) and the
 * request series the Prometheus metrics carry too. No-ops until
 * `startTelemetry` registers a meter provider (an OTLP endpoint is set).
 * Instruments are looked up from the global provider when used, so a provider
 * registered after this module loaded still receives them.
 */
const meter = () => metrics.getMeter('switchyard');

// Bucket boundaries the GenAI semantic conventions advise.
const TOKEN_BUCKETS = [1, 4, 16, 64, 256, 1_024, 4_096, 16_384, 65_536, 262_144, 1_048_576, 4_194_304, 16_777_216, 67_108_864];
const DURATION_BUCKETS = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];

let instruments: ReturnType<typeof create> | undefined;
let createdFor: unknown;

function create() {
  const current = meter();
  return {
    tokenUsage: current.createHistogram('gen_ai.client.token.usage', {
      unit: '{token}',
      description: 'Number of input and output tokens used.',
      advice: { explicitBucketBoundaries: TOKEN_BUCKETS },
    }),
    operationDuration: current.createHistogram('gen_ai.client.operation.duration', {
      unit: 's',
      description: 'GenAI operation duration.',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS },
    }),
    requestDuration: current.createHistogram('switchyard.request.duration', {
      unit: 's',
      description: "Time from a request workflow's start to its end, by entry, answering model and outcome.",
    }),
    requests: current.createCounter('switchyard.requests', { unit: '{request}', description: 'Requests that ended, by tenant, entry, answering model and outcome.' }),
  };
}

function current() {
  const provider = metrics.getMeterProvider();
  if (!instruments || createdFor !== provider) {
    instruments = create();
    createdFor = provider;
  }
  return instruments;
}

/** One provider call, as the GenAI conventions measure it: its duration, and its tokens by type when it answered. */
export function recordGenAiCall(attributes: Attributes, durationSeconds: number, usage?: { inputTokens: number; outputTokens: number }): void {
  const { tokenUsage, operationDuration } = current();
  operationDuration.record(durationSeconds, attributes);
  if (usage) {
    tokenUsage.record(usage.inputTokens, { ...attributes, 'gen_ai.token.type': 'input' });
    tokenUsage.record(usage.outputTokens, { ...attributes, 'gen_ai.token.type': 'output' });
  }
}

/** One request's end, as the Prometheus request series count it. */
export function recordRequestOtel(attributes: { tenant: string; entry: string; model: string; outcome: string }, durationSeconds: number): void {
  const { requestDuration, requests } = current();
  const labels = {
    'switchyard.tenant': attributes.tenant,
    'switchyard.entry': attributes.entry,
    'gen_ai.response.model': attributes.model,
    'switchyard.outcome': attributes.outcome,
  };
  requestDuration.record(durationSeconds, labels);
  requests.add(1, labels);
}
