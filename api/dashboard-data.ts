import type { Client } from '@temporalio/client';
import type { BreakerBoard } from '../services/breaker-board';
import { readBudgets } from '../services/budget-board';
import { readEvalScores } from '../services/quality-board';
import type { GatewayConfig } from '../common/config-schema';
import { own } from '../common/own';
import { metrics } from '../runtime/metrics';
import { recentJobs } from './dashboard-jobs';

/** One point of the traffic chart: what happened since the previous point. */
export interface TrafficPoint {
  /** End of the interval (ms since epoch). */
  at: number;
  requests: number;
  errors: number;
  fallbacks: number;
  /** Mean request latency in the interval; null without requests. */
  meanLatencyMs: number | null;
}

interface Totals {
  requests: number;
  errors: number;
  fallbacks: number;
  latencySeconds: number;
}

/** Points kept: one hour at the default interval. */
const KEPT_POINTS = 360;

/**
 * Turns the process's cumulative metrics into a time series for the
 * dashboard: every interval it records what changed since the last point.
 */
export class TrafficSampler {
  private readonly points: TrafficPoint[] = [];
  private last: Totals | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly intervalMs = 10_000) {}

  start(): void {
    void this.sample();
    this.timer ??= setInterval(() => void this.sample(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The kept points plus one for the interval still running. */
  async series(): Promise<TrafficPoint[]> {
    const totals = await readTotals();
    return [...this.points, point(Date.now(), this.last, totals)];
  }

  private async sample(): Promise<void> {
    const totals = await readTotals();
    if (this.last) {
      this.points.push(point(Date.now(), this.last, totals));
      if (this.points.length > KEPT_POINTS) this.points.shift();
    }
    this.last = totals;
  }
}

function point(at: number, previous: Totals | undefined, current: Totals): TrafficPoint {
  const base = previous ?? { requests: 0, errors: 0, fallbacks: 0, latencySeconds: 0 };
  const requests = current.requests - base.requests;
  return {
    at,
    requests,
    errors: current.errors - base.errors,
    fallbacks: current.fallbacks - base.fallbacks,
    meanLatencyMs: requests > 0 ? Math.round(((current.latencySeconds - base.latencySeconds) / requests) * 1000) : null,
  };
}

async function readTotals(): Promise<Totals> {
  const duration = await metrics.requestDuration.get();
  let requests = 0;
  let errors = 0;
  let latencySeconds = 0;
  for (const value of duration.values) {
    // Callers' traffic: an eval run's cases are the gateway's own (their spend still counts).
    if (value.labels.entry === 'eval') continue;
    if (value.metricName?.endsWith('_count')) {
      requests += value.value;
      if (value.labels.outcome === 'error') errors += value.value;
    } else if (value.metricName?.endsWith('_sum')) {
      latencySeconds += value.value;
    }
  }
  const fallbacks = (await metrics.fallbacks.get()).values.reduce((sum, value) => sum + value.value, 0);
  return { requests, errors, fallbacks, latencySeconds };
}

/** Everything the dashboard shows, from this process's metrics, the breakers and Temporal visibility. */
export async function dashboardData(options: {
  client: Client;
  config: GatewayConfig;
  sampler: TrafficSampler;
  breakers: BreakerBoard | undefined;
  temporalUiUrl: string;
}) {
  const [series, fallbacks, attempts, durations, costs, requests, validations, tokens] = await Promise.all([
    options.sampler.series(),
    metrics.fallbacks.get(),
    metrics.providerAttempts.get(),
    metrics.providerCallDuration.get(),
    metrics.cost.get(),
    metrics.requests.get(),
    metrics.outputValidations.get(),
    metrics.tokens.get(),
  ]);
  const fallbackReasons: Record<string, number> = {};
  for (const value of fallbacks.values) {
    const reason = String(value.labels.reason);
    fallbackReasons[reason] = (fallbackReasons[reason] ?? 0) + value.value;
  }

  const providers = new Map<string, { calls: number; successes: number; latencySeconds: number; spendUsd: number }>();
  const row = (provider: string) => {
    let entry = providers.get(provider);
    if (!entry) {
      entry = { calls: 0, successes: 0, latencySeconds: 0, spendUsd: 0 };
      providers.set(provider, entry);
    }
    return entry;
  };
  for (const provider of Object.keys(options.config.providers)) row(provider);
  for (const value of attempts.values) {
    const entry = row(String(value.labels.provider));
    entry.calls += value.value;
    if (value.labels.result === 'success') entry.successes += value.value;
  }
  for (const value of durations.values) {
    if (value.metricName?.endsWith('_sum') && value.labels.result === 'success') row(String(value.labels.provider)).latencySeconds += value.value;
  }
  for (const value of costs.values) {
    const provider = own(options.config.models, String(value.labels.model))?.provider;
    if (provider) row(provider).spendUsd += value.value;
  }

  const namespace = options.client.options.namespace;
  const failovers: { workflowId: string; startedAt: string | null; model: string | null; outcome: string | null; fallbacks: number; url: string }[] = [];
  try {
    const query = "WorkflowType = 'llmRequestWorkflow' AND FallbackCount > 0";
    for await (const execution of options.client.workflow.list({ query, pageSize: 20 })) {
      const attributes = execution.searchAttributes as Record<string, unknown[] | undefined>;
      failovers.push({
        workflowId: execution.workflowId,
        startedAt: execution.startTime.toISOString(),
        model: (attributes.Model?.[0] as string | undefined) ?? null,
        outcome: (attributes.Outcome?.[0] as string | undefined) ?? null,
        fallbacks: Number(attributes.FallbackCount?.[0] ?? 0),
        url: `${options.temporalUiUrl}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(execution.workflowId)}`,
      });
      if (failovers.length >= 20) break;
    }
  } catch {
    // Visibility unavailable: the rest of the page still answers.
  }
  failovers.sort((left, right) => (right.startedAt ?? '').localeCompare(left.startedAt ?? ''));

  // Measured quality and budgets, each read from its entity workflow (unreadable ones are left out), and the latest jobs.
  const [scores, budgets, jobs] = await Promise.all([
    readEvalScores(options.client).catch(() => undefined),
    readBudgets(options.client, options.config.budgets, Date.now()).catch(() => []),
    recentJobs(options.client, options.temporalUiUrl),
  ]);

  return {
    generatedAt: new Date().toISOString(),
    series,
    fallbackReasons,
    ...requestBreakdowns({
      requests: requests.values,
      fallbacks: fallbacks.values,
      costs: costs.values,
      validations: validations.values,
      tokens: tokens.values,
      attempts: attempts.values,
    }),
    providers: [...providers.entries()]
      .sort(([left], [right]) => left.localeCompare(right))
      .map(([provider, entry]) => ({
        provider,
        calls: entry.calls,
        successRate: entry.calls > 0 ? entry.successes / entry.calls : null,
        meanLatencyMs: entry.successes > 0 ? Math.round((entry.latencySeconds / entry.successes) * 1000) : null,
        spendUsd: entry.spendUsd,
      })),
    breakers: (options.breakers?.list() ?? []).map((view) => ({ provider: view.key, mode: view.mode, forced: view.forced, reason: view.reason })),
    failovers,
    evals: Object.entries(scores?.byTaskClass ?? {})
      .sort(([left], [right]) => left.localeCompare(right))
      .map(([taskClass, models]) => ({
        taskClass,
        models: Object.values(models)
          .sort((left, right) => right.passRate - left.passRate || left.model.localeCompare(right.model))
          .map((score) => ({ model: score.model, passRate: score.passRate, passed: score.passed, cases: score.cases, latencyMsP50: score.latencyMsP50, costPerPassUsd: score.costPerPassUsd })),
      })),
    budgets: budgets.map((view) => ({
      name: view.name,
      periodKey: view.periodKey,
      limitUsd: view.limitUsd,
      spentUsd: view.spentUsd,
      unsettledUsd: view.unsettledUsd,
      reservedUsd: view.reservedUsd,
      low: view.availableUsd <= view.limitUsd * (own(options.config.budgets, view.name)?.lowAtFraction ?? 0),
    })),
    batches: jobs.batches,
    agentRuns: jobs.agentRuns,
  };
}

/** A metric's samples, whatever its labels. */
type Samples = { labels: Partial<Record<string, string | number>>; value: number }[];

/** Adds `value` under `key` of `into`. */
function add(into: Map<string, number>, key: string, value: number): void {
  into.set(key, (into.get(key) ?? 0) + value);
}

/**
 * What the request series say since this process started, for the
 * dashboard's tables: requests and fallbacks by entry, cost per successful
 * request by model, output validation by model and format, tokens by
 * feature, failed provider calls by reason code.
 */
function requestBreakdowns(series: { requests: Samples; fallbacks: Samples; costs: Samples; validations: Samples; tokens: Samples; attempts: Samples }) {
  const entries = new Map<string, { requests: number; answered: number; fallbacks: number; errors: number }>();
  const entry = (name: string) => {
    let row = entries.get(name);
    if (!row) entries.set(name, (row = { requests: 0, answered: 0, fallbacks: 0, errors: 0 }));
    return row;
  };
  const successes = new Map<string, number>();
  for (const { labels, value } of series.requests) {
    const row = entry(String(labels.entry));
    row.requests += value;
    if (labels.outcome === 'success' || labels.outcome === 'fallback_answer') row.answered += value;
    if (labels.outcome === 'error') row.errors += value;
    if (labels.outcome === 'success') add(successes, String(labels.model), value);
  }
  for (const { labels, value } of series.fallbacks) entry(String(labels.entry)).fallbacks += value;
  const spend = new Map<string, number>();
  for (const { labels, value } of series.costs) add(spend, String(labels.model), value);
  const validation = new Map<string, { valid: number; invalid: number }>();
  for (const { labels, value } of series.validations) {
    const key = JSON.stringify([String(labels.model), String(labels.format)]);
    const row = validation.get(key) ?? { valid: 0, invalid: 0 };
    row[labels.result === 'valid' ? 'valid' : 'invalid'] += value;
    validation.set(key, row);
  }
  const byFeature = new Map<string, number>();
  for (const { labels, value } of series.tokens) add(byFeature, String(labels.feature), value);
  const errors = new Map<string, number>();
  for (const { labels, value } of series.attempts) if (labels.result !== 'success') add(errors, String(labels.result), value);
  const sorted = <T>(map: Map<string, T>) => [...map.entries()].sort(([left], [right]) => left.localeCompare(right));
  return {
    entries: sorted(entries).map(([name, row]) => ({ entry: name, ...row, fallbackRate: row.requests > 0 ? row.fallbacks / row.requests : null })),
    // Every model's spend (failed attempts included) over the requests it answered.
    costPerSuccess: sorted(spend).map(([model, usd]) => ({ model, spendUsd: usd, successes: successes.get(model) ?? 0, usdPerSuccess: successes.get(model) ? usd / (successes.get(model) ?? 1) : null })),
    validations: sorted(validation).map(([key, row]) => {
      const [model, format] = JSON.parse(key) as [string, string];
      return { model, format, ...row, passRate: row.valid + row.invalid > 0 ? row.valid / (row.valid + row.invalid) : null };
    }),
    tokensByFeature: sorted(byFeature).map(([feature, count]) => ({ feature, tokens: count })),
    errorsByReason: [...errors.entries()].sort((left, right) => right[1] - left[1]).map(([reason, count]) => ({ reason, count })),
  };
}
