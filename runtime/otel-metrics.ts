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

const mirrored = new Map<string, { add(value: number, attributes: Attributes): void } | { record(value: number, attributes: Attributes): void }>();
let mirroredFor: unknown;

/**
 * The same observation as a Prometheus series of the gateway's, through
 * OpenTelemetry: `switchyard.<name>` (a counter, or a histogram in seconds),
 * each label as a `switchyard.<label>` attribute.
 */
export function mirror(kind: 'counter' | 'histogram', name: string, labels: Readonly<Record<string, string>>, value: number): void {
  const provider = metrics.getMeterProvider();
  if (mirroredFor !== provider) {
    mirrored.clear();
    mirroredFor = provider;
  }
  const key = `${kind} ${name}`;
  let instrument = mirrored.get(key);
  if (!instrument) {
    instrument = kind === 'counter' ? meter().createCounter(`switchyard.${name}`) : meter().createHistogram(`switchyard.${name}`, { unit: 's' });
    mirrored.set(key, instrument);
  }
  const attributes = Object.fromEntries(Object.entries(labels).map(([label, labelValue]) => [`switchyard.${label}`, labelValue]));
  if ('add' in instrument) instrument.add(value, attributes);
  else instrument.record(value, attributes);
}
