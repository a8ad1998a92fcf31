import { SpanKind, SpanStatusCode, context, metrics, propagation, trace, type Attributes, type Context } from '@opentelemetry/api';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { Resource } from '@opentelemetry/resources';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { enableOtelMetrics } from './otel-metrics';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { OpenTelemetryPlugin } from '@temporalio/interceptors-opentelemetry';

/** This process's tracing: the Temporal plugin for its clients and workers, and how to flush. */
export interface Tracing {
  plugin: OpenTelemetryPlugin;
  /** Sends the spans still buffered and stops. */
  shutdown(): Promise<void>;
}

/** The tracer the gateway's own spans (HTTP handler, provider call) come from. */
export const tracer = trace.getTracer('switchyard');

/**
 * Starts OpenTelemetry when the standard environment asks for it
 * (`OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, and
 * `OTEL_TRACES_EXPORTER` not `none`); off otherwise. Spans go over OTLP/HTTP;
 * the exporter reads the rest of `OTEL_EXPORTER_OTLP_*` itself. One trace per
 * request, continuing the caller's W3C `traceparent`: the API's handler span,
 * the workflow start, the workflow, its activities (Temporal's interceptors
 * carry the context through history) and the provider's HTTP call (undici
 * instrumentation). Metrics go the same way unless `OTEL_METRICS_EXPORTER` is
 * `none`: the GenAI client histograms and the request series
 * (runtime/otel-metrics.ts), every `OTEL_METRIC_EXPORT_INTERVAL` ms (default 10 s).
 */
export function startTracing(env: Readonly<Record<string, string | undefined>>): Tracing | undefined {
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (!endpoint || env.OTEL_TRACES_EXPORTER === 'none' || env.OTEL_SDK_DISABLED === 'true') return undefined;
  const resource = new Resource({ 'service.name': env.OTEL_SERVICE_NAME ?? 'switchyard' });
  const spanProcessor = new BatchSpanProcessor(new OTLPTraceExporter(), { scheduledDelayMillis: 500 });
  const provider = new NodeTracerProvider({ resource, spanProcessors: [spanProcessor] });
  // Registers the W3C trace-context propagator too: `traceparent` in, `traceparent` out.
  provider.register();
  registerInstrumentations({ tracerProvider: provider, instrumentations: [new UndiciInstrumentation()] });
  const meterProvider =
    env.OTEL_METRICS_EXPORTER === 'none'
      ? undefined
      : new MeterProvider({
          resource,
          readers: [new PeriodicExportingMetricReader({ exporter: new OTLPMetricExporter(), exportIntervalMillis: exportInterval(env.OTEL_METRIC_EXPORT_INTERVAL) })],
        });
  if (meterProvider) {
    metrics.setGlobalMeterProvider(meterProvider);
    enableOtelMetrics();
  }
  return {
    plugin: new OpenTelemetryPlugin({ resource, spanProcessor }),
    shutdown: async () => {
      await Promise.all([provider.shutdown(), meterProvider?.shutdown()]);
    },
  };
}

function exportInterval(value: string | undefined): number {
  const parsed = Number(value);
  return Number.isInteger(parsed) && parsed >= 100 ? parsed : 10_000;
}

/** The caller's trace context from its request headers (W3C `traceparent`, `tracestate`); the current context without them. */
export function callerContext(headers: Readonly<Record<string, string | string[] | undefined>>): Context {
  return propagation.extract(context.active(), headers);
}

/**
 * Runs `work` in a span of the gateway's own (a no-op without tracing).
 * Errors mark the span and go on.
 */
export async function inSpan<T>(
  name: string,
  kind: SpanKind,
  attributes: Attributes,
  work: (annotate: (more: Attributes) => void) => Promise<T>,
  parent: Context = context.active(),
): Promise<T> {
  return tracer.startActiveSpan(name, { kind, attributes }, parent, async (span) => {
    try {
      return await work((more) => span.setAttributes(more));
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
      throw error;
    } finally {
      span.end();
    }
  });
}

export { SpanKind };
