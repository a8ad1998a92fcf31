import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The process's Prometheus metrics. Label sets are bounded: route, configured
 * model and provider ids, tenant ids, canonical failure types, outcomes — never
 * a prompt, a user id or a workflow id.
 */
export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'switchyard_' });

const LATENCY_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

export const metrics = {
  httpRequests: new Counter({
    name: 'switchyard_http_requests_total',
    help: 'HTTP requests answered, by route, method and status code.',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [registry],
  }),
  requestsInFlight: new Gauge({
    name: 'switchyard_requests_in_flight',
    help: 'LLM requests this API process is serving right now, by route.',
    labelNames: ['route'] as const,
    registers: [registry],
  }),
  requestDuration: new Histogram({
    name: 'switchyard_request_duration_seconds',
    help: 'Time from a request workflow\'s start to its end, by how it came in (entry), the model that answered and outcome. Recorded by the worker that completes the request.',
    labelNames: ['entry', 'model', 'outcome'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  }),
  requests: new Counter({
    name: 'switchyard_requests_total',
    help: 'Requests that ended, by tenant, entry (chat, messages, async, batch, agent, client, eval), the model that answered and outcome.',
    labelNames: ['tenant', 'entry', 'model', 'outcome'] as const,
    registers: [registry],
  }),
  timeToFirstToken: new Histogram({
    name: 'switchyard_time_to_first_token_seconds',
    help: 'Time from receiving a streamed request to sending its first piece, by model.',
    labelNames: ['model'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  }),
  promptAssessments: new Counter({
    name: 'switchyard_prompt_assessments_total',
    help: 'Prompts tokenised and scanned for personal data, by where (api: before the start; worker: a routing snapshot without the API\'s assessment, from the typed client or a batch).',
    labelNames: ['by'] as const,
    registers: [registry],
  }),
  fallbacks: new Counter({
    name: 'switchyard_fallbacks_total',
    help: 'Models that failed or were skipped within a request before another answered (or the deterministic answer), by entry, provider, model and reason (the canonical failure type).',
    labelNames: ['entry', 'provider', 'model', 'reason'] as const,
    registers: [registry],
  }),
  tokens: new Counter({
    name: 'switchyard_tokens_total',
    help: 'Tokens the providers reported, for every attempt that was billed (failed ones included), by tenant, entry, feature, model and direction (input, output).',
    labelNames: ['tenant', 'entry', 'feature', 'model', 'direction'] as const,
    registers: [registry],
  }),
  cost: new Counter({
    name: 'switchyard_cost_usd_total',
    help: 'Cost of requests from reported usage and configured prices (USD), failed attempts included, by tenant, entry, feature and the model that incurred it.',
    labelNames: ['tenant', 'entry', 'feature', 'model'] as const,
    registers: [registry],
  }),
  outputValidations: new Counter({
    name: 'switchyard_output_validations_total',
    help: 'Answers checked against the requested output format (json_object, json_schema), by model, format and result (valid, invalid).',
    labelNames: ['model', 'format', 'result'] as const,
    registers: [registry],
  }),
  cacheLookups: new Counter({
    name: 'switchyard_cache_lookups_total',
    help: 'What the response cache did for a request: hit, miss, stale (stood in for failed models) or bypass.',
    labelNames: ['result'] as const,
    registers: [registry],
  }),
  budgetRefusals: new Counter({
    name: 'switchyard_budget_refusals_total',
    help: 'Models a budget kept out of a request (the reservation of its worst case was refused), by tenant and model.',
    labelNames: ['tenant', 'model'] as const,
    registers: [registry],
  }),
  providerAttempts: new Counter({
    name: 'switchyard_provider_attempts_total',
    help: 'Calls to providers (each retry counts), by provider, model and result (success or the canonical failure type).',
    labelNames: ['provider', 'model', 'result'] as const,
    registers: [registry],
  }),
  providerCallDuration: new Histogram({
    name: 'switchyard_provider_call_duration_seconds',
    help: 'Duration of one provider call, by provider, model and result.',
    labelNames: ['provider', 'model', 'result'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  }),
  evalPassRate: new Gauge({
    name: 'switchyard_eval_pass_rate',
    help: 'The latest eval run\'s pass rate (0 to 1) of each model, by task class, as the shared scores board holds it.',
    labelNames: ['model', 'task_class'] as const,
    registers: [registry],
  }),
  evalPassRateChange: new Gauge({
    name: 'switchyard_eval_pass_rate_change',
    help: 'The latest eval run\'s pass rate less the run before\'s (negative: the model got worse), by model and task class; 0 after a first run.',
    labelNames: ['model', 'task_class'] as const,
    registers: [registry],
  }),
  breakerTransitions: new Counter({
    name: 'switchyard_breaker_transitions_total',
    help: 'Circuit breaker changes of state, by provider and the state it went to (open, half_open, closed); counted once, by the worker running the breaker.',
    labelNames: ['provider', 'to'] as const,
    registers: [registry],
  }),
  breakerState: new Gauge({
    name: 'switchyard_breaker_state',
    help: 'Circuit breaker state per provider: 1 for the current state (closed, open, half_open), 0 otherwise.',
    labelNames: ['provider', 'state'] as const,
    registers: [registry],
  }),
};

export type GatewayMetrics = typeof metrics;
