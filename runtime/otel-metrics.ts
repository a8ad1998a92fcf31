import { metrics, type Attributes, type Counter, type Histogram, type MetricOptions } from '@opentelemetry/api';

/**
 * The OpenTelemetry metrics the gateway records: the GenAI client histograms
 * of the semantic conventions (one observation per provider call) and a twin
 * of every Prometheus request series. Off — and free: no attributes built,
 * nothing looked up — until `startTracing` registers a meter provider
 * (an OTLP endpoint is set) and calls `enableOtelMetrics`.
 */
let instruments: Map<string, Counter | Histogram> | undefined;

/** From now on, record into the global meter provider (registered just before). */
export function enableOtelMetrics(): void {
  instruments = new Map();
}

// Bucket boundaries the GenAI semantic conventions advise.
const TOKEN_BUCKETS = [1, 4, 16, 64, 256, 1_024, 4_096, 16_384, 65_536, 262_144, 1_048_576, 4_194_304, 16_777_216, 67_108_864];
const DURATION_BUCKETS = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];

/** The instrument called `name`, created on first use. */
function instrument(created: Map<string, Counter | Histogram>, kind: 'counter' | 'histogram', name: string, options: MetricOptions = {}): Counter | Histogram {
  let found = created.get(name);
  if (!found) {
    const meter = metrics.getMeter('switchyard');
    found = kind === 'counter' ? meter.createCounter(name, options) : meter.createHistogram(name, options);
    created.set(name, found);
  }
  return found;
}

/** One provider call, as the GenAI conventions measure it: its duration, and its tokens by type when it answered. */
export function recordGenAiCall(attributes: Attributes, durationSeconds: number, usage?: { inputTokens: number; outputTokens: number }): void {
  if (!instruments) return;
  const duration = instrument(instruments, 'histogram', 'gen_ai.client.operation.duration', {
    unit: 's',
    description: 'GenAI operation duration.',
    advice: { explicitBucketBoundaries: DURATION_BUCKETS },
  }) as Histogram;
  duration.record(durationSeconds, attributes);
  if (!usage) return;
  const tokens = instrument(instruments, 'histogram', 'gen_ai.client.token.usage', {
    unit: '{token}',
    description: 'Number of input and output tokens used.',
    advice: { explicitBucketBoundaries: TOKEN_BUCKETS },
  }) as Histogram;
  tokens.record(usage.inputTokens, { ...attributes, 'gen_ai.token.type': 'input' });
  tokens.record(usage.outputTokens, { ...attributes, 'gen_ai.token.type': 'output' });
}

/**
 * The same observation as a Prometheus series of the gateway's, through
 * OpenTelemetry: `switchyard.<name>` (a counter, or a histogram in seconds),
 * each label as a `switchyard.<label>` attribute.
 */
export function mirror(kind: 'counter' | 'histogram', name: string, labels: Readonly<Record<string, string>>, value: number): void {
  if (!instruments) return;
  const attributes = Object.fromEntries(Object.entries(labels).map(([label, labelValue]) => [`switchyard.${label}`, labelValue]));
  const twin = instrument(instruments, kind, `switchyard.${name}`, kind === 'histogram' ? { unit: 's' } : {});
  if (kind === 'counter') (twin as Counter).add(value, attributes);
  else (twin as Histogram).record(value, attributes);
}
